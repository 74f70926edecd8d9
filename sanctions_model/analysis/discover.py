"""Scenario discovery (issue 17): under which combinations of assumptions does an outcome of
interest happen? PRIM (Friedman and Fisher 1999), as EMA Workbench implements it for scenario
discovery (Bryant and Lempert 2010; Kwakkel 2017), finds a box of the inputs, one range per
assumption it restricts, inside which the outcome is much more frequent than in the sample.

:func:`discover` takes the inputs of a sample (a sweep's, an ensemble's) and a yes/no outcome
per row, and returns the box that PRIM's peeling trajectory offers at the chosen density: of the
steps that restrict at least one input and whose density reaches ``threshold``, the one with the
largest coverage (the densest step when none reaches it); then the limits that may be chance are
dropped one at a time, least significant first, the last one too. The trade-off it reports:

- **coverage**: the share of the rows where the outcome happens that fall inside the box;
- **density**: the share of the rows inside the box where it happens;
- **mass**: the share of all rows inside the box;
- **restricted**: how many assumptions the box limits.

Each limit comes with PRIM's quasi-p-value (a one-sided binomial test of the box's density with
and without that limit): a large one says the limit may be chance.

CART, the second view, is scikit-learn's classification tree, a few splits deep: it splits the
whole sample into disjoint boxes, and :attr:`Discovery.leaves` lists those where the outcome is
more likely than not (a split both of whose sides pass is shown as one box). PRIM gives the one
box that best trades coverage for density; CART shows whether other, separate ways lead there.

Weighted samples (a constrained ensemble's members): PRIM counts rows, so its peeling and its
quasi-p-values treat the members as equally likely; the base rate and the chosen box's coverage,
density and mass are then computed with the weights, and CART fits with them.
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Mapping
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from ..errors import InputError
from .alignment import matched

#: The density a box must reach by default: the outcome in four of five sets inside it.
DEFAULT_THRESHOLD = 0.8
#: A limit whose quasi-p-value is above this may be chance, and is dropped.
SIGNIFICANT = 0.05
#: The depth of the CART tree (at most this many splits lead to a leaf: boxes a reader can follow).
CART_DEPTH = 3
#: The smallest leaf of the CART tree, as a share of the rows (of their weight, where weighted).
CART_MASS_MIN = 0.05
#: Seed of CART's tree (scikit-learn draws the order in which it tries the inputs).
SEED = 20250120


@dataclass(frozen=True)
class Discovery:
    """A box of the inputs in which an outcome happens, chosen on PRIM's peeling trajectory.

    Attributes
    ----------
    outcome : str
        What happens, as a noun phrase (for the sentence: "a better-than-even chance of a ceasefire
        within 730 days").
    limits : DataFrame
        One row per restricted input: ``low``, ``high`` (in the input's unit), ``qp`` (the limit's
        quasi-p-value, the larger of its two ends'), ``side`` (``at least``, ``at most`` or
        ``between``: which ends the box limits), and ``unit`` and ``description`` where given.
        Empty when no limit the sample supports remains.
    coverage, density, mass : float
        Of the box kept (0-1; weighted where the rows are).
    restricted : int
        Inputs the box limits.
    trajectory : DataFrame
        PRIM's peeling trajectory: ``coverage``, ``density``, ``mass``, ``restricted`` at each step
        (counting rows).
    chosen : int
        The step of the trajectory the box starts from (before limits that may be chance are dropped).
    base_rate : float
        The share of all rows where the outcome happens (weighted where the rows are).
    n : int
        Rows.
    dropped : list of str
        Limits of the chosen step that were dropped as possibly chance (quasi-p-value above
        :data:`SIGNIFICANT`), least significant first; ``limits`` and the statistics are those of
        the box without them.
    leaves : DataFrame
        CART's view: the boxes of the tree where the outcome happens in more than half the rows,
        densest first, with ``rule`` (the splits that lead there, in words), ``coverage``,
        ``density``, ``mass`` and ``restricted``.
    weighted : bool
        Whether the rows carry weights (a constrained ensemble's members).
    threshold : float
        The density asked for.
    reached : bool
        Whether a step of PRIM's trajectory that restricts an input reaches ``threshold``.
    """

    outcome: str
    limits: pd.DataFrame
    coverage: float
    density: float
    mass: float
    restricted: int
    trajectory: pd.DataFrame
    chosen: int
    base_rate: float
    n: int
    dropped: list[str] = field(default_factory=list)
    leaves: pd.DataFrame = field(default_factory=pd.DataFrame)
    weighted: bool = False
    threshold: float = DEFAULT_THRESHOLD
    reached: bool = True

    def leaf_sentences(self) -> list[str]:
        """CART's boxes in plain words, one sentence each, densest first.

        Returns
        -------
        list of str
        """
        rows = self.rows
        return [f"Where {leaf['rule']}, {self.outcome} is found in {leaf['density']:.0%} of the {rows} (against "
                f"{self.base_rate:.0%} of all); these are {leaf['mass']:.0%} of the {rows} and hold "
                f"{leaf['coverage']:.0%} of those where it is found." for _, leaf in self.leaves.iterrows()]

    @property
    def rows(self) -> str:
        """What a row is, in words: "members (weighted)" or "sets"."""
        return "members (weighted)" if self.weighted else "sets"

    def sentence(self) -> str:
        """The box in plain words, with how much of the outcome it covers and how sure it is.

        Returns
        -------
        str
            One paragraph a reader can quote: the box's limits, its density against the base
            rate, its mass and coverage; or why there is no box.
        """
        what, rows = self.outcome[0].upper() + self.outcome[1:], self.rows
        everyone = f"all {self.n:,} {'members' if self.weighted else 'sets'}"
        if self.limits.empty:
            if self.base_rate >= self.threshold:
                return (f"{what} is found in {self.base_rate:.0%} of {everyone} already, at or above the density "
                        f"asked ({self.threshold:.0%}): no box is needed to concentrate it. Ask for a higher density "
                        "to find where it is near-certain.")
            if self.dropped:
                return (f"No box the sample supports concentrates {self.outcome}: it is found in {self.base_rate:.0%} "
                        f"of {everyone}, and PRIM's boxes restrict up to {len(self.dropped)} assumption"
                        f"{'s' if len(self.dropped) != 1 else ''}, but each of those limits may be chance "
                        f"(quasi-p-value above {SIGNIFICANT}).")
            return (f"No box of the assumptions concentrates {self.outcome}: it is found in {self.base_rate:.0%} of "
                    f"{everyone}, with no range of any assumption where it is markedly more frequent.")
        parts = []
        for name, row in self.limits.iterrows():
            text = str(row.get("description") or "")
            label = f"`{name}` ({text})" if text else f"`{name}`"
            unit = f" {row['unit']}" if isinstance(row.get("unit"), str) and row.get("unit") else ""
            where = {"at least": f"at least {row['low']:.3g}", "at most": f"at most {row['high']:.3g}"}.get(
                row["side"], f"between {row['low']:.3g} and {row['high']:.3g}")
            parts.append(f"{label} is {where}{unit}")
        short = "" if self.reached else (f" No box PRIM found reaches the density asked ({self.threshold:.0%}); this "
                                         "is the densest, less its limits that may be chance.")
        return (f"{what} is found in {self.density:.0%} of the {rows} where " + " and ".join(parts)
                + f" (against {self.base_rate:.0%} of {everyone}). These are {self.mass:.0%} of the {rows} and hold "
                f"{self.coverage:.0%} of those where it is found.{short}")


def _fractions(inside: np.ndarray, happens: np.ndarray, w: np.ndarray) -> tuple[float, float, float]:
    """Coverage, density and mass of the rows ``inside`` a box, weighted by ``w``."""
    hits = w[inside & happens].sum()
    return float(hits / w[happens].sum()), float(hits / w[inside].sum()), float(w[inside].sum() / w.sum())


def _rule(bounds: Mapping[str, tuple[float, float]], describe: Mapping[str, tuple[str, str]] | None) -> str:
    """A box's splits in words: ``name >= a``, ``name < b`` or ``a <= name < b``."""
    parts = []
    for name, (low, high) in bounds.items():
        unit = (describe or {}).get(name, ("", ""))[0]
        unit = f" {unit}" if unit else ""
        if math.isinf(low):
            parts.append(f"`{name}` < {high:.3g}{unit}")
        elif math.isinf(high):
            parts.append(f"`{name}` >= {low:.3g}{unit}")
        else:
            parts.append(f"{low:.3g} <= `{name}` < {high:.3g}{unit}")
    return " and ".join(parts) or "every row"


def cart_leaves(inputs: pd.DataFrame, happens: np.ndarray, *, depth: int = CART_DEPTH,
                mass_min: float = CART_MASS_MIN, describe: Mapping[str, tuple[str, str]] | None = None,
                weights: np.ndarray | None = None, seed: int = SEED) -> pd.DataFrame:
    """The boxes of a classification tree (scikit-learn's CART, ``depth`` splits deep, each leaf at least
    ``mass_min`` of the rows' weight, seeded) in which ``happens`` is true in more than half the rows.

    A split both of whose sides pass is given as one box (the split does not matter to the answer).

    Returns
    -------
    DataFrame
        One row per such box, densest first: ``rule``, ``coverage``, ``density``, ``mass``,
        ``restricted``.
    """
    from sklearn.tree import DecisionTreeClassifier

    x = inputs.to_numpy(dtype=float)
    w = np.ones(len(x)) if weights is None else np.asarray(weights, dtype=float)
    tree = DecisionTreeClassifier(max_depth=depth, min_weight_fraction_leaf=mass_min, random_state=seed)
    tree.fit(x, happens, sample_weight=w)
    t, names = tree.tree_, [str(c) for c in inputs.columns]

    def stats(bounds: dict[str, tuple[float, float]]) -> tuple[float, float, float]:
        inside = np.ones(len(x), dtype=bool)
        for name, (low, high) in bounds.items():
            column = x[:, names.index(name)]
            inside &= (column > low) & (column <= high)
        return _fractions(inside, happens, w)

    def walk(node: int, bounds: dict[str, tuple[float, float]]) -> tuple[bool, list[dict[str, tuple[float, float]]]]:
        """(whether every leaf below passes, the passing boxes below, merged where both sides pass)."""
        left, right = t.children_left[node], t.children_right[node]
        if left == -1:  # a leaf
            passes = stats(bounds)[1] > 0.5
            return passes, [bounds] if passes else []
        name, split = names[t.feature[node]], float(t.threshold[node])
        low, high = bounds.get(name, (-math.inf, math.inf))
        left_ok, left_boxes = walk(left, {**bounds, name: (low, min(high, split))})
        right_ok, right_boxes = walk(right, {**bounds, name: (max(low, split), high)})
        if left_ok and right_ok:
            return True, [bounds]
        return False, left_boxes + right_boxes

    _, boxes = walk(0, {})
    rows = []
    for bounds in boxes:
        coverage, density, mass = stats(bounds)
        rows.append({"rule": _rule(bounds, describe), "coverage": coverage, "density": density, "mass": mass,
                     "restricted": len(bounds)})
    frame = pd.DataFrame(rows, columns=["rule", "coverage", "density", "mass", "restricted"])
    return frame.sort_values(["density", "coverage"], ascending=False, ignore_index=True)


def _by_row(values: object, inputs: object, what: str) -> np.ndarray:
    """``values`` as an array in the order of ``inputs``' rows: a Series is matched to them by its index (as
    pandas aligns), and one whose index is not the inputs' is refused, not paired by position."""
    if isinstance(values, pd.Series) and isinstance(inputs, pd.DataFrame):
        return matched(values, inputs.index, f"discover: {what} {'are' if what.endswith('s') else 'is'} a Series "
                       "whose index is not the inputs' rows; give one indexed as the inputs are (or a plain array "
                       "in their order).").to_numpy()
    return np.asarray(values)


def _check_options(outcome: object, peel_alpha: object, describe: object, seed: object) -> None:
    if not isinstance(outcome, str):
        raise InputError(f"discover: outcome must be a phrase (a string) naming what happens, got {outcome!r}.")
    if isinstance(peel_alpha, bool) or not isinstance(peel_alpha, (int, float)) or not 0 < peel_alpha < 0.5:
        raise InputError(f"discover: peel_alpha must be a share above 0 and below 0.5 (each step peels that share "
                         f"of the rows still in the box), got {peel_alpha!r}.")
    if describe is not None and not (isinstance(describe, Mapping) and all(
            isinstance(v, (tuple, list)) and len(v) == 2 for v in describe.values())):
        raise InputError("discover: describe must map each input's name to a pair (unit, description).")
    if isinstance(seed, bool) or not isinstance(seed, (int, np.integer)) or not 0 <= seed < 2 ** 32:
        raise InputError(f"discover: seed must be a whole number from 0 to 2**32 - 1, got {seed!r}.")


def _check(inputs: pd.DataFrame, happens: np.ndarray, threshold: float) -> None:
    if not isinstance(inputs, pd.DataFrame) or inputs.empty:
        raise InputError(f"discover: inputs must be a DataFrame with a column per assumption, got "
                         f"{type(inputs).__name__}{' (empty)' if isinstance(inputs, pd.DataFrame) else ''}.")
    repeated = sorted({str(c) for c in inputs.columns[inputs.columns.duplicated()]})
    if repeated:
        raise InputError(f"discover: input column(s) {', '.join(repeated)} appear more than once; give each "
                         "assumption one column.")
    bad = [str(c) for c in inputs.columns if not pd.api.types.is_numeric_dtype(inputs[c])]
    if bad:
        raise InputError(f"discover: input column(s) {', '.join(bad)} are not numbers.")
    if not np.isfinite(inputs.to_numpy(dtype=float)).all():
        raise InputError("discover: the inputs hold NaN or infinite values; drop the rows whose run failed first.")
    if happens.shape != (len(inputs),):
        raise InputError(f"discover: the outcome has {happens.size:,} values for {len(inputs):,} rows of inputs.")
    if isinstance(threshold, bool) or not isinstance(threshold, (int, float)) or not 0 < threshold <= 1:
        raise InputError(f"discover: threshold must be a density above 0 and at most 1, got {threshold!r}.")


def _choose(trajectory: pd.DataFrame, threshold: float) -> tuple[int | None, bool]:
    """The step the box starts from (None: no step restricts an input) and whether it reaches ``threshold``."""
    candidates = trajectory[trajectory["restricted"] >= 1]
    if candidates.empty:
        return None, False
    dense = candidates[candidates["density"] >= threshold]
    if len(dense):
        return int(dense.sort_values(["coverage", "restricted"], ascending=[False, True]).index[0]), True
    return int(candidates["density"].idxmax()), False


def discover(inputs: pd.DataFrame, happens: pd.Series | np.ndarray, *, outcome: str = "the outcome",
             threshold: float = DEFAULT_THRESHOLD, peel_alpha: float = 0.05,
             describe: Mapping[str, tuple[str, str]] | None = None,
             weights: np.ndarray | pd.Series | None = None, seed: int = SEED) -> Discovery:
    """The box of ``inputs`` in which ``happens`` is true most often (PRIM, EMA Workbench).

    Parameters
    ----------
    inputs : DataFrame
        One row per set of assumptions, one column per assumption (e.g. a sweep's or an
        ensemble's ``inputs``); columns that do not vary are left out.
    happens : array of bool (n,), or Series
        Whether the outcome of interest happens in each row (e.g. ``p_ceasefire_horizon > 0.5``).
        A Series is matched to the rows of ``inputs`` by its index, as pandas aligns them.
    outcome : str
        What happens, as a noun phrase, for :meth:`Discovery.sentence`.
    threshold : float
        The density the box must reach (0-1): of the steps of PRIM's peeling trajectory that
        restrict an input and reach it, the one with the largest coverage is chosen (the densest
        one when none does); at or below the base rate, no box is needed.
    peel_alpha : float
        The share of the rows still in the box that each peeling step removes.
    describe : dict of name -> (unit, description), optional
        For the limits' table and the sentence.
    weights : array of float (n,), or Series, optional
        The rows' weights (a constrained ensemble's): the base rate and the box's statistics are
        weighted, and so is CART (see the module). A Series is matched by its index too.
    seed : int
        Seed of CART's tree.

    Returns
    -------
    Discovery

    Raises
    ------
    InputError
        For inputs that are not a numeric DataFrame, NaN, no input that varies, an outcome of
        another length or not yes/no, an outcome that never or always happens, a threshold outside
        (0, 1], or weights of another length, negative, not finite or all zero; a Series whose
        index is not the inputs'; repeated column names; ``peel_alpha`` outside (0, 0.5), a seed
        that is not a whole number from 0 to 2**32 - 1.
    """
    _check_options(outcome, peel_alpha, describe, seed)
    values = _by_row(happens, inputs, "the outcome")
    _check(inputs, values, threshold)
    if values.dtype != bool:
        if not np.isin(values, (0, 1)).all():
            raise InputError("discover: the outcome must be yes/no (booleans, or 0 and 1) for each row.")
        values = values.astype(bool)
    w = np.ones(len(values))
    if weights is not None:
        w = _by_row(weights, inputs, "the weights")
        try:
            w = w.astype(float)
        except (TypeError, ValueError):
            raise InputError(f"discover: weights must be {len(values):,} numbers, one a row; got "
                             f"{type(weights).__name__}.") from None
        if w.shape != values.shape or not np.isfinite(w).all() or (w < 0).any() or not w.sum() > 0:
            raise InputError(f"discover: weights must be {len(values):,} finite numbers >= 0, not all zero (got "
                             f"{w.size:,}{'' if np.isfinite(w).all() else ', some NaN or infinite'}).")
    n, hits = len(values), int(values.sum())
    if hits == 0 or hits == n or not 0 < w[values].sum() < w.sum():
        raise InputError(f"discover: {outcome} happens in {hits:,} of {n:,} rows"
                         f"{' (counting their weights: none, or all, of the weight)' if 0 < hits < n else ''}; "
                         "there is nothing to tell apart.")
    x = inputs.reset_index(drop=True).astype(float)
    x = x.loc[:, x.nunique() > 1]
    # names as plain Python strings: EMA Workbench's peeling looks columns up by name thousands of times, and
    # pandas' default string index (backed by Arrow) makes each lookup slower (a fifth of PRIM's time, measured)
    x.columns = pd.Index([str(c) for c in x.columns], dtype=object)
    if x.empty:
        raise InputError("discover: no input varies between the rows; there is nothing to explain the outcome by.")
    base_rate = float(w[values].sum() / w.sum())
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # EMA Workbench's notice that ipyparallel is absent
        from ema_workbench.analysis import prim

        # with a yes/no outcome the threshold only decides whether EMA Workbench returns PRIM's last box or a
        # placeholder of the whole sample; the box is chosen on the trajectory below
        box = prim.Prim(x, values, threshold=1e-9, peel_alpha=peel_alpha).find_box()
    trajectory = box.peeling_trajectory.rename(columns={"res_dim": "restricted"})[
        ["coverage", "density", "mass", "restricted"]].astype(float)
    chosen, reached = _choose(trajectory, threshold)
    limits = pd.DataFrame(columns=["low", "high", "qp", "side"], dtype=float)
    dropped: list[str] = []
    if chosen is not None and base_rate < threshold:
        # limits that may be chance are dropped one at a time, the least significant first (EMA Workbench's
        # drop_restriction: each gives a new box, which is then tested again), so that the box says only what the
        # sample supports; a last limit that may be chance goes too, and there is no box
        step = chosen
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            while True:
                _, table = box.inspect(step, style="data")[0]
                qp = table.iloc[:, 2:4].astype(float).max(axis=1, skipna=True)
                if qp.empty or qp.max() <= SIGNIFICANT:
                    break
                name = str(qp.idxmax())
                dropped.append(name)
                if len(qp) == 1:
                    table = table.iloc[0:0]
                    break
                box.drop_restriction(name, step)
                step = len(box.peeling_trajectory) - 1
        limits = pd.DataFrame({"low": table.iloc[:, 0].astype(float), "high": table.iloc[:, 1].astype(float),
                               "qp": table.iloc[:, 2:4].astype(float).max(axis=1, skipna=True)})
        limits.index = [str(i) for i in limits.index]
    # which end the box limits: a limit at the sample's own edge is no limit
    low_is_edge = np.isclose(limits["low"].to_numpy(dtype=float), x.min()[limits.index].to_numpy())
    high_is_edge = np.isclose(limits["high"].to_numpy(dtype=float), x.max()[limits.index].to_numpy())
    limits["side"] = np.where(low_is_edge, "at most", np.where(high_is_edge, "at least", "between"))
    if describe:
        limits["unit"] = [describe.get(name, ("", ""))[0] for name in limits.index]
        limits["description"] = [describe.get(name, ("", ""))[1] for name in limits.index]
    inside = np.ones(n, dtype=bool)
    for name, row in limits.iterrows():
        inside &= (x[name] >= row["low"]).to_numpy() & (x[name] <= row["high"]).to_numpy()
    coverage, density, mass = _fractions(inside, values, w)
    leaves = cart_leaves(x, values, describe=describe, weights=w, seed=seed)
    return Discovery(outcome, limits, coverage, density, mass, len(limits), trajectory,
                     -1 if chosen is None else chosen, base_rate, n, dropped, leaves, weights is not None,
                     float(threshold), reached)


def significant(discovery: Discovery) -> list[str]:
    """The limits whose quasi-p-value is at most :data:`SIGNIFICANT`."""
    return [str(n) for n, r in discovery.limits.iterrows() if not math.isnan(r["qp"]) and r["qp"] <= SIGNIFICANT]
