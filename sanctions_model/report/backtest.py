"""The back-test report: targets, the fit series by series, figures, and what did not fit."""

from __future__ import annotations

import textwrap
from pathlib import Path

import numpy as np
import pandas as pd

from ..analysis.backtesting import EVENTS, TARGETS, BacktestResult, comparable, comparisons, period_start
from ..analysis.constrain import prior_posterior
from ..inputs.ensemble_file import EnsembleFile
from ..inputs.params import format_value
from ..inputs.resources import standing_inputs
from ..outdir import atomic_directory, check_target
from ..runs.describe import markdown_table, percent
from .constrain import hindcast_lines, posterior_figure
from .figures import ModelFigure, _save, _style
from .markdown import provenance, stock_words

#: What the back-test takes as given rather than finds, stated once.
IMPOSED = (
    "**The war of manoeuvre.** The invasion's first month, the withdrawal from the north and "
    "Ukraine's 2022 counteroffensives are not what the model's attrition can produce, so territory "
    "follows the recorded front until 2022-11-12 (`forces.territory_imposed_days`); from then on the "
    "model holds the front, measuring the balance of forces against that day's. The territory check of "
    "2023-02 comes three months after the handover and says little; those of 2024-11 and 2025-01 test "
    "two years of the model's own front.",
    "**The budget's spending and non-oil revenue, the oil price, the exchange rate, the gold price, "
    "Russian casualties and recruitment** follow recorded paths (or, where `data/` has no figure, "
    "assumed ones, each labelled in the scenario below), and so do **the budget rule's form** "
    "(suspended in 2022, a fixed 8 trn RUB base in 2023, the $60 base price from 2024) and **the "
    "Fund's recorded December sales** (2.41, 2.9 and 1.3 trn RUB). Their fit is by construction and "
    "tests nothing; what the model adds is oil revenue (from price, discount, volume and the rate), "
    "what the rule moves into and out of the Fund, the deficit and how it is financed, the reserves, "
    "inflation, the key rate and the front after 2022.",
)

#: Limits of the back-test that remain, whatever its score.
LIMITS = (
    "**The 2022 exchange rate is assumed.** `data/` holds rates implied by the NWF's rouble and dollar "
    "figures from 2023-08 on; the 2022 path (the March collapse, the summer high) is an assumption "
    "labelled as such.",
    "**The Urals discount's swings and export volumes.** In the model the discount grows with the "
    "sanctions' bite, which evasion (read as the shadow fleet's share of seaborne crude) erodes. The "
    "bite stays between 0.11 and 0.16 through 2022-2023, as sanctions and evasion grow together, so "
    "the model's discount stays near $20-25 where the record's fell from about $34 in spring 2022 "
    "(when formal oil sanctions were few and buyers shunned Russian crude) to $10 by late 2023: the "
    "Urals checks pass on the recorded Brent price, not on the discount's shape. Volumes follow the "
    "bite smoothly, not the dip of early 2023 or the low of July 2023.",
    "**Inflation's shocks and base effects.** Prices rose 7.61% in March 2022 alone (`data/`: CPI m/m, "
    "2022-03); the pass-through "
    "the calibration fits to 2022-2024 (0.03 of the rouble's fall) carries little of that, the panic "
    "buying and broken supply of that month are not in the model, and its inflation is smooth where the "
    "record's twelve-month rate dropped to 2-3.5% in spring 2023 as March 2022 left the window. 2022's "
    "inflation and spring 2023's twelve-month rate are missed, and with them the key rate of mid-2023.",
    "**Inflation's level effect of defence spending.** In the model inflation heads to a level set by "
    "defence spending's share of GDP above its pre-war share, with a strength fitted to 2022-2024 (2.7 "
    "points of inflation per point of GDP). The record cannot tell this from an effect of the rise in "
    "spending that fades as the economy adapts; the two part in the projection, where the 2025 budget "
    "law's defence spending keeps inflation rising under the level effect.",
    "**Ukraine's forces and materiel.** Ukraine's mobilisation of 2022 and its own pre-war materiel "
    "are assumptions (not in `data/`), and its own arms production is held at an average of the "
    "defence ministry's figures over 2022-2024 (an assumption); its combat power rests on the "
    "materiel stock. The Kursk incursion (from August 2024) is not in the back-test.",
)


#: Periods whose figures average the months before their date, and the window the figure's line
#: averages the model over so that it shows what each point is compared with.
TRAILING = {"quarter": "91D", "twelve_months": "365D"}


def _figure(result: BacktestResult, path: Path) -> ModelFigure:
    fit = result.fit
    series = list(dict.fromkeys(fit["series"]))
    comps = comparisons(float(result.params.meta["rub_per_usd"]))  # type: ignore[arg-type]
    traj = comparable(result.run)
    cols = 3
    rows = -(-len(series) // cols)
    fig = ModelFigure(figsize=(12, 3.1 * rows + 0.6))
    axes = list(fig.subplots(rows, cols, sharex=True, squeeze=False).flat)
    for ax, name in zip(axes, series):
        comp = comps[name]
        data = fit[fit["series"] == name]
        line = traj[comp.column]
        window = TRAILING.get(data["period"].iloc[0])
        if window is not None:  # a figure over the months before each date: the line is that average
            line = line.rolling(window).mean()
        ax.plot(traj.index, [comp.scale(v) for v in line], color="tab:blue", linewidth=1.4, label="model")
        ax.scatter(data["date"], data["recorded"], color="black", zorder=3, s=16, label="recorded")
        if comp.zoom:  # the vertical scale covers the record and the model over the record's periods
            since = min(period_start(d, p) for d, p in zip(data["date"], data["period"], strict=True))
            shown = [comp.scale(v) for v in traj.loc[since:data["date"].max(), comp.column]]
            lo, hi = min(*shown, *data["recorded"]), max(*shown, *data["recorded"])
            pad = 0.08 * (hi - lo) if hi > lo else 0.5 * max(abs(hi), 1.0)
            ax.set_ylim(lo - pad, hi + pad)
        _style(ax, textwrap.fill(comp.meaning[:1].upper() + comp.meaning[1:], 40), data["unit"].iloc[0])
    for i, ax in enumerate(axes[len(series):], start=len(series)):
        # an unused panel is removed, and the panel above it shows the date ticks it shared
        ax.remove()
        if i - cols >= 0:
            axes[i - cols].xaxis.set_tick_params(which="both", labelbottom=True)
    handles, labels = axes[0].get_legend_handles_labels()
    fig.legend(handles, labels, loc="lower center", ncol=2, fontsize=8, frameon=False)
    fig.suptitle("Back-test, 2022-02-24 to 2025-01-20: the model (line) and the record (points)", fontsize=11)
    fig.tight_layout(rect=(0, 0.03, 1, 0.97))
    _save(fig, path)
    return fig


def _decision_lines(result: BacktestResult) -> list[str]:
    """The decision core against the record, in words: the chance of the talks that happened and of the
    ceasefire that did not (:data:`~sanctions_model.analysis.backtesting.EVENTS`), and what the talks
    check cannot tell."""
    targets = result.targets
    rows = {name: targets[targets["target"] == name] for name, *_ in EVENTS}
    if any(r.empty for r in rows.values()):
        return []
    talks, ceasefire = (float(r["model"].iloc[0]) for r in rows.values())
    p_talks = result.trajectories["p_talks"]
    istanbul, year = (float(p_talks.asof(pd.Timestamp(d))) for d in ("2022-03-29", "2023-02-24"))
    return [f"**Talks and a ceasefire.** Run over the same path, the decision core gives a {percent(talks)}% chance "
            "that direct talks had started by the end of spring 2022 (they had: delegations met in Belarus from "
            "2022-02-28 and in Istanbul on 2022-03-29) and a "
            f"{percent(ceasefire)}% chance that a ceasefire had been agreed by 2025-01-20 (none was). Both are "
            "checks the model could fail: a chance of talks below 10%, or of a ceasefire above 25%, would be a "
            f"miss. The talks check is lenient: the chance of talks is {percent(istanbul)}% by the Istanbul round "
            f"and {percent(year)}% a year after the invasion, so the model's rate of talks is not low, but it does "
            "not single out the spring of 2022 (its talks hazard changes little over 2022-2025).",
            ""]


def _misses(targets: pd.DataFrame) -> str:
    """The target checks missed, in words, or that none was."""
    missed = targets[~targets["met"]]
    if missed.empty:
        return "Every target check is met."
    kinds = {name: kind for name, _, _, _, kind in TARGETS}
    words = []
    for r in missed.itertuples():
        kind = kinds.get(r.target)
        if kind == "relative":
            how = f"off by {100 * r.error:+.0f}% against {100 * r.tolerance:.0f}% allowed"
        elif kind == "absolute":
            how = f"off by {r.error:+.1f} against {r.tolerance:g} allowed"
        else:
            how = f"the model's change {r.model:+.1f}, the record's {r.recorded:+.1f}"
        words.append(f"{r.target}, {r.date:%Y-%m-%d} ({how})")
    return "Missed: " + "; ".join(words) + "."


def _fmt(v: float) -> str:
    return f"{v:.3g}"


Calibrated = tuple[dict, pd.DataFrame, pd.DataFrame, BacktestResult]


def _calibration_section(result: BacktestResult, calibrated: Calibrated) -> list[str]:
    fit, table, start, before = calibrated
    met_before, met_after = int(before.targets["met"].sum()), int(result.targets["met"].sum())
    edge = [str(n) for n, row in table.iterrows() if row["at_bound"]]
    history_only = [str(n) for n, row in table.iterrows() if row["applies"]]
    rows = table.assign(before=table["before"].map(_fmt), value=table["value"].map(_fmt),
                        standard_error=table["standard_error"].map(_fmt),
                        at_bound=table["at_bound"].map({True: "**yes**", False: "no"}))[
        ["before", "value", "standard_error", "low", "high", "unit", "at_bound"]]
    rows.index.name = "parameter"
    lines = [
        "## Calibration",
        "",
        f"`params/calibrated.toml` ({fit['id']}) fits {len(table)} parameters to the series "
        f"{', '.join(fit['series'])} by least squares within their ranges (cost {fit['cost_before']:.3g} -> "
        f"{fit['cost_after']:.3g}, {fit['evaluations']} runs). With its values (the back-test above) the model "
        f"meets {met_after} of the {len(result.targets)} target checks; with the base file's values, {met_before}.",
        "",
        markdown_table(rows),
        "",
        "The fitted values are the projections' defaults too" + (
            f", except {', '.join(f'`{n}`' for n in history_only)}: the historical scenario restates it for 2022, "
            "and the fitted value applies to that scenario alone." if history_only else "."),
        "Wide standard errors mean the record does not pin a parameter down.",
        "",
    ]
    if edge:
        lines += [f"The fit pushes {', '.join(f'`{n}`' for n in edge)} to the edge of the range its source allows: "
                  "the record asks for more than the structure gives (see the limits above), so these values "
                  "partly stand in for structure.", ""]
    shown = start.assign(value=start["value"].map(_fmt), backtest=start["backtest"].map(_fmt),
                         recorded=start["recorded"].map(_fmt),
                         difference=(start["backtest"] / start["recorded"] - 1.0).map(lambda v: f"{100 * v:+.0f}%"))[
        ["stock", "value", "source", "backtest", "recorded", "difference", "unit"]]
    from_record = stock_words(start.loc[start["source"] == "record", "stock"])
    from_backtest = stock_words(start.loc[start["source"] != "record", "stock"])
    lines += [
        "## Where the projection starts",
        "",
        "With the single-point calibration (a diagnostic since issue 16: `load_params(calibration=True)`, "
        "`run --calibrated FILE`), a projection starts on 2025-01-20 from the record where the record gives the "
        f"stock ({from_record}: the base file's sourced values), and from the calibrated back-test's state on that "
        f"day where it does not ({from_backtest}; the base file's values there are assumptions), so that those join "
        "without a jump. By default runs keep the base file's values and state throughout, and the reports' "
        "chances come from the constrained ensemble, each member from its own state "
        "(`reports/constrained/report.md`). Where the back-test and the record differ, each starting parameter's "
        "range is widened to take in both values, so that sweeps cover the disagreement; the last columns say how "
        "far the back-test's state is from the base file's value.",
        "",
        markdown_table(shown.rename(columns={"value": "projection starts at", "source": "from",
                                             "backtest": "back-test on 2025-01-20", "recorded": "base file",
                                             "difference": "back-test against base file"})),
        "",
    ]
    if "macro.inflation_initial" in start.index:
        end_2024 = result.trajectories.loc[:"2024-12-31"].iloc[-1]
        lines += [f"Inflation starts as the underlying rate. The back-test's headline rate at the end of 2024, with "
                  f"the rouble's fall of late 2024 passed through, was {end_2024['headline_inflation']:.1f}% a "
                  "year; the projections hold the exchange rate still, so from 2025-01-20 headline and underlying "
                  "inflation are the same, and the key rate carries no premium in defence of the rouble. The "
                  "inflation the central bank reads starts from the back-test's state (recent months, which ran "
                  "above the year's 9.5%).", ""]
    return lines


#: The parameter groups of the decision core (docs/model.md, "The decision core").
DECISION_GROUPS = ("bargaining", "hazard", "russia", "ukraine", "ceasefire", "demands")


def ensemble_section(default: EnsembleFile | None, as_of: EnsembleFile | None, directory: Path) -> list[str]:
    """What the constrained ensembles say (``docs/ensembles.md``): prior against posterior for every
    assumption (a table, and ``constrained.png`` in ``directory``), and the out-of-sample test of the
    ensemble given the record to an earlier date."""
    if default is None and as_of is None:
        return ["## The constrained ensemble", "",
                "No constrained ensemble is in `params/` (`make constrain` writes it).", ""]
    lines = ["## The constrained ensemble: what the record says about each assumption", ""]
    if default is not None:
        meta, members = default.meta, default.members
        weights = members["weight"].to_numpy(dtype=float)
        table = prior_posterior(default.names, np.array(meta["lows"]), np.array(meta["highs"]),
                                members[default.names].to_numpy(dtype=float), weights, float(meta["effective_size"]))
        posterior_figure(table, members[default.names], weights, meta["as_of"], directory / "constrained.png")
        constrained = table[table["verdict"] == "constrained"].sort_values("narrowing")
        core = [n for n in table.index if n.split(".")[0] in DECISION_GROUPS]
        core_constrained = [n for n in core if n in constrained.index]
        shown = constrained.assign(**{c: constrained[c].map(lambda v: f"{v:.4g}")
                                      for c in ("low", "high", "p5", "median", "p95")},
                                   narrowing=constrained["narrowing"].map(lambda v: f"{v:.2f}"),
                                   shift=constrained["shift"].map(lambda v: f"{v:+.2f}")).drop(columns=["verdict"])
        lines += [
            f"Instead of one fitted set, {meta['prior_members']:,} sets of assumptions were drawn over their "
            f"ranges and run through {meta['start_date']} to {meta['as_of']}; {meta['accepted']:,} come "
            f"within {meta['accept']:g} times these targets' tolerances on average and are kept, worth "
            f"{meta['effective_size']:,.0f} equally weighted members once weighted by the chance each gave the "
            f"recorded events (`params/{default.path.name}`; `reports/constrained/report.md` has every "
            f"assumption). " + ("That is too few (fewer than 400 effective members) to say which assumptions "
                                "the record constrains." if float(meta["effective_size"]) < 400 else
            f"The record constrains **{len(constrained)} of the {len(table)}** assumptions (the "
            "kept members' 5-95% range at most 0.75 of the drawn one, or their median moved by a tenth of the "
            f"range or more) and leaves the others about as wide as assumed; of the decision core's {len(core)}, "
            f"it constrains {len(core_constrained)}"
            + (f" ({', '.join(f'`{n}`' for n in core_constrained)})" if core_constrained else "") + "."),
            "",
            "![Prior against the constrained ensemble](constrained.png)",
            "",
            markdown_table(shown),
            "",
        ]
    if as_of is not None and as_of.meta.get("hindcast"):
        lines += hindcast_lines(pd.DataFrame(as_of.meta["hindcast"]), as_of.meta["as_of"])
        lines += [f"(`params/{as_of.path.name}`: {as_of.meta['prior_members']:,} prior members, "
                  f"{as_of.meta['accepted']:,} kept, effective size {as_of.meta['effective_size']:,.0f}.)", ""]
    return lines


def write_backtest(result: BacktestResult, out: Path | str, command: str, force: bool = False,
                   calibrated: Calibrated | None = None, ensembles: tuple[EnsembleFile | None, EnsembleFile | None]
                   = (None, None)) -> Path:
    """Write ``report.md``, ``fit.csv``, ``targets.csv``, ``trajectories.csv`` and ``backtest.png`` into ``out``.

    Parameters
    ----------
    result : BacktestResult
        From :func:`sanctions_model.backtest.backtest`.
    out : path
        Output directory, written whole or not at all.
    command : str
        The command line for the provenance table.
    force : bool
        Replace an existing ``out``.
    calibrated : (dict, DataFrame, DataFrame, BacktestResult), optional
        The calibration ``result`` used (:func:`sanctions_model.analysis.calibrate.load_calibrated`)
        and the back-test with the base file's values, for sections on what calibration
        changes and where the projection starts.
    ensembles : (EnsembleFile or None, EnsembleFile or None)
        The constrained ensemble on the record to 2025-01-20, and one on the record to an earlier
        date (its out-of-sample test), for the section on what the record says.

    Returns
    -------
    pathlib.Path
    """
    check_target(out, force, standing_inputs())
    out = Path(out)
    targets, fit = result.targets, result.fit
    met = int(targets["met"].sum())
    with atomic_directory(out, force=force, inputs=standing_inputs()) as tmp:
        _figure(result, tmp / "backtest.png")
        fit.to_csv(tmp / "fit.csv", index=False, float_format="%.6g", date_format="%Y-%m-%d")
        targets.to_csv(tmp / "targets.csv", index=False, float_format="%.6g", date_format="%Y-%m-%d")
        result.trajectories.to_csv(tmp / "trajectories.csv", float_format="%.8g")
        by_target = targets.groupby("target", sort=False)["met"].agg(["sum", "count"])
        table = targets.assign(date=targets["date"].dt.strftime("%Y-%m-%d"),
                               met=targets["met"].map({True: "yes", False: "**no**"}),
                               model=targets["model"].map(_fmt), recorded=targets["recorded"].map(_fmt),
                               error=targets["error"].map(_fmt)).set_index("target")
        fit_table = fit.assign(date=fit["date"].dt.strftime("%Y-%m-%d"), model=fit["model"].map(_fmt),
                               recorded=fit["recorded"].map(_fmt),
                               relative_error=fit["relative_error"].map(lambda v: f"{100 * v:+.0f}%")
                               ).drop(columns=["error"]).set_index("series")
        sc = result.params.applied[-1] if result.params.applied else None
        lines = [
            "# sanctions-model: the back-test, 2022-02-24 to 2025-01-20",
            "",
            "The model is run from the day of the invasion on the path actually taken (the scenario "
            f"`{result.params.scenarios[-1] if result.params.scenarios else 'base'}`: the sanctions packages, Western "
            "aid, the mobilisation, the recorded oil price, exchange rate, casualties and budget, and the front of "
            "2022) and compared with what was recorded "
            "(`data/history.csv`)" + (f", with the calibrated values of `params/calibrated.toml` "
                                      f"({result.params.meta['calibration']})"
                                      if "calibration" in result.params.meta else ", with the base file's values")
            + ". Budget figures in roubles are compared with the model's budget dollars at its accounting rate of "
            "92 RUB/$; oil revenue and the reserves move at the day's rate of the recorded path.",
            "",
            "## What the back-test finds",
            "",
            f"The model meets {met} of the {len(targets)} target checks. " + " ".join(
                f"{name}: {int(row['sum'])} of {int(row['count'])}." for name, row in by_target.iterrows()),
            "",
            _misses(targets),
            "",
            *_decision_lines(result),
            "No parameter was moved outside the range its source gives" + (
                " (the calibration below fits within them)." if calibrated is not None else ".")
            + " What the back-test takes as given, and so does not test:",
            "",
            *[f"- {item}" for item in IMPOSED],
            "",
            "Limits that remain:",
            "",
            *[f"- {limit}" for limit in LIMITS],
            "",
            "## Targets",
            "",
            "Relative errors where the tolerance is a share (revenue, reserves, the Urals price, volumes, the 2024 "
            "gain of territory); differences in the series' unit where it is absolute (points of Ukraine's "
            "territory, of inflation and of the key rate; trn RUB of deficit); for the direction of inflation "
            "the change over the year (model against record; the target is the same sign); and for talks and a "
            "ceasefire the chance the model gives the event by the date, against the record (1: it happened, "
            "0: it did not). Each tolerance, and "
            "why, is in `sanctions_model/analysis/backtesting.py` (`TARGETS`, `EVENTS`).",
            "",
            markdown_table(table),
            "",
            "![Model and record, series by series](backtest.png)",
            "",
            "## The fit, figure by figure",
            "",
            "Yearly figures are compared with the model's average over the year (over the part of 2022 after "
            "2022-02-24); point figures with the model on that day.",
            "",
            markdown_table(fit_table),
            "",
            "Recorded series the model has no counterpart for: " + ", ".join(f"`{s}`" for s in result.not_compared)
            + ".",
            "",
        ]
        if calibrated is not None:
            lines += _calibration_section(result, calibrated)
        lines += ensemble_section(*ensembles, tmp)
        if sc is not None:
            lines += ["## The historical path", "", f"**{sc.title}.** {sc.description}", ""]
            lines += [f"- `{p}` = {format_value(v)}: {why}" for p, v, why in sc.changes]
            lines += [f"- step of `{st.lever}` to {st.level:g} from {st.start} over {st.phase_in_days:g} days: "
                      f"{st.why}" for st in sc.steps]
            lines.append("")
        lines += [provenance({"scenario": ", ".join(result.params.scenarios) or "(none)",
                              "parameter hash": result.params.digest(), "seed": "none (deterministic run)",
                              "calibration": str(result.params.meta.get("calibration", "none (base values)")),
                              "targets met": f"{met} of {len(targets)}"}, command), ""]
        (tmp / "report.md").write_text("\n".join(lines))
    return out
