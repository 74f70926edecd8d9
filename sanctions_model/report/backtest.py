"""The back-test report: targets, the fit series by series, figures, and what did not fit."""

from __future__ import annotations

import textwrap
from pathlib import Path

import pandas as pd

from ..backtest import BacktestResult, comparable, comparisons
from ..outdir import atomic_directory, check_target
from ..params import load_scenario
from .figures import ModelFigure, _save, _style
from .markdown import markdown_table, provenance

#: Why the targets the model misses are missed: structural limits, stated once.
LIMITS = (
    "**No exchange rate.** The model's money is US dollars at a fixed 92 RUB/$; the rouble "
    "averaged about 68 RUB/$ in 2022 and 85 in 2023 (not in `data/`), so every rouble figure the "
    "model gives for those years is too high by up to a third when dollar revenues are converted.",
    "**No war of manoeuvre.** The front moves by attrition (the force ratio); the invasion's "
    "first month and Ukraine's autumn 2022 counteroffensives are not represented, so territory "
    "starts at the pre-invasion 6.8% and never reaches the recorded 17-20%.",
    "**Reserves follow the budget.** Because the model overstates oil revenue in 2022 and 2023 "
    "(above), it finds a surplus in 2022 and small deficits after, so the liquid NWF hardly falls; "
    "its 2022 starting level is itself an assumption (not in `data/`). Inflation and the key rate "
    "follow rules set for 2025 and do not reproduce the 2022 spike.",
    "**Ukraine's own materiel.** Ukraine's combat power rests on the aid stock; its pre-war "
    "materiel is stood in for by an assumed aid flow before the invasion.",
)


def _figure(result: BacktestResult, path: Path) -> ModelFigure:
    fit = result.fit
    series = list(dict.fromkeys(fit["series"]))
    comps = comparisons(float(result.params.meta["rub_per_usd"]))  # type: ignore[arg-type]
    traj = comparable(result.run)
    cols = 3
    rows = -(-len(series) // cols)
    fig = ModelFigure(figsize=(12, 3.1 * rows + 0.6))
    axes = fig.subplots(rows, cols, sharex=True, squeeze=False).flat
    for ax, name in zip(axes, series):
        comp = comps[name]
        data = fit[fit["series"] == name]
        ax.plot(traj.index, [comp.scale(v) for v in traj[comp.column]], color="tab:blue", linewidth=1.4,
                label="model")
        ax.scatter(data["date"], data["recorded"], color="black", zorder=3, s=16, label="recorded")
        _style(ax, textwrap.fill(comp.meaning, 40), data["unit"].iloc[0])
    for ax in list(axes)[len(series):]:
        ax.axis("off")
    handles, labels = list(fig.axes)[0].get_legend_handles_labels()
    fig.legend(handles, labels, loc="lower center", ncol=2, fontsize=8, frameon=False)
    fig.suptitle("Back-test, 2022-02-24 to 2025-01-20: the model (line) and the record (points)", fontsize=11)
    fig.tight_layout(rect=(0, 0.03, 1, 0.97))
    _save(fig, path)
    return fig


def _fmt(v: float) -> str:
    return f"{v:.3g}"


def _calibration_section(result: BacktestResult, calibrated: tuple[dict, pd.DataFrame, BacktestResult]) -> list[str]:
    fit, table, after = calibrated
    met_before, met_after = int(result.targets["met"].sum()), int(after.targets["met"].sum())
    edge = [str(n) for n, row in table.iterrows() if row["at_bound"]]
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
        f"{fit['cost_after']:.3g}, {fit['evaluations']} runs). With its values the model meets {met_after} of the "
        f"{len(after.targets)} target checks (against {met_before} without).",
        "",
        markdown_table(rows),
        "",
    ]
    if edge:
        lines += [f"The fit pushes {', '.join(f'`{n}`' for n in edge)} to the edge of the range its source allows: "
                  "the data ask for more than the structure can give (the missing exchange rate above), so these "
                  "values compensate for structure and are not used by the projections. Wide standard errors mean "
                  "the record does not pin a parameter down.", ""]
    return lines


def write_backtest(result: BacktestResult, out: Path | str, command: str, force: bool = False,
                   calibrated: tuple[dict, pd.DataFrame, BacktestResult] | None = None) -> Path:
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
    calibrated : (dict, DataFrame, BacktestResult), optional
        A calibration (:func:`sanctions_model.calibrate.load_calibrated`) and the back-test
        with its values, for a section on what calibration changes.

    Returns
    -------
    pathlib.Path
    """
    check_target(out, force)
    out = Path(out)
    targets, fit = result.targets, result.fit
    met = int(targets["met"].sum())
    with atomic_directory(out, force=force) as tmp:
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
        sc = load_scenario(result.params.files[-1]) if len(result.params.files) > 1 else None
        lines = [
            "# sanctions-model: the back-test, 2022-02-24 to 2025-01-20",
            "",
            "The model is run from the day of the invasion on the path actually taken (the scenario "
            f"`{result.params.scenarios[-1] if result.params.scenarios else 'base'}`: the sanctions packages, Western "
            "aid, the mobilisation, and the recorded oil price and budget) and compared with what was recorded "
            "(`data/history.csv`). Rouble figures are compared with the model's dollars at its fixed 92 RUB/$.",
            "",
            "## What the back-test finds",
            "",
            f"The model meets {met} of the {len(targets)} target checks. " + " ".join(
                f"{name}: {int(row['sum'])} of {int(row['count'])}." for name, row in by_target.iterrows()),
            "",
            "With these numbers the model has not earned its projections on this evidence: it follows the "
            "spending it is given and the 2024 revenue, but not 2022-2023 revenue, the reserves, inflation, the "
            "key rate or the front. The parameters were "
            "not bent outside their ranges to improve the fit" + (
                " (the calibration below stays inside them too)." if calibrated is not None else ".")
            + " Why the misses happen:",
            "",
            *[f"- {limit}" for limit in LIMITS],
            "",
            "## Targets",
            "",
            "Relative errors for revenue and reserves, points for territory, and for inflation the change over "
            "the year (model against record; the target is the same sign).",
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
        if sc is not None:
            lines += ["## The historical path", "", f"**{sc.title}.** {sc.description}", ""]
            lines += [f"- `{p}` = {v:g}: {why}" for p, v, why in sc.changes]
            lines += [f"- step of `{st.lever}` to {st.level:g} from {st.start} over {st.phase_in_days:g} days: "
                      f"{st.why}" for st in sc.steps]
            lines.append("")
        lines += [provenance({"scenario": ", ".join(result.params.scenarios) or "(none)",
                              "parameter hash": result.params.digest(), "seed": "none (deterministic run)",
                              "targets met": f"{met} of {len(targets)}"}, command), ""]
        (tmp / "report.md").write_text("\n".join(lines))
    return out
