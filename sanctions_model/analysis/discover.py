"""Scenario discovery (issue 17, first part): under which combinations of assumptions does an
outcome of interest happen? PRIM (Friedman and Fisher 1999), as EMA Workbench implements it for
scenario discovery (Bryant and Lempert 2010; Kwakkel 2017), finds a box of the inputs, one range
per assumption it restricts, inside which the outcome is much more frequent than outside.

:func:`discover` takes the inputs of a sample (a sweep's, an ensemble's) and a yes/no outcome
per row, and returns the box that PRIM's peeling trajectory offers at the chosen density: the
largest coverage among the boxes whose density reaches ``threshold``, less the limits that may be
chance (dropped one at a time, least significant first). The trade-off it reports:

- **coverage**: the share of the rows where the outcome happens that fall inside the box;
- **density**: the share of the rows inside the box where it happens;
- **mass**: the share of all rows inside the box;
- **restricted**: how many assumptions the box limits.

Each limit comes with PRIM's quasi-p-value (a one-sided binomial test of the box's density with
and without that limit): a large one says the limit may be chance.

CART (a classification tree, as EMA Workbench's ``cart`` wraps scikit-learn's) is the second
view: it splits the whole sample into disjoint boxes (the tree's leaves), and
:attr:`Discovery.leaves` lists those where the outcome is more likely than not. PRIM gives the one
box that best trades coverage for density; CART shows whether other, separate ways lead there.

Weighted samples (a constrained ensemble's members) are first resampled by weight, with
replacement and a fixed seed, to as many rows as the weights' effective size: PRIM and CART count
rows, and the quasi-p-values then rest on as many rows as the weights are worth.
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Mapping
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from ..errors import InputError

#: The density a box must reach by default: the outcome in four of five sets inside it.
DEFAULT_THRESHOLD = 0.8
#: A limit whose quasi-p-value is above this may be chance (the report says so).
SIGNIFICANT = 0.05
#: The depth of the CART tree (at most this many splits lead to a leaf: boxes a reader can follow).
CART_DEPTH = 3
#: The smallest leaf of the CART tree, as a share of the rows (EMA Workbench's ``mass_min``).
CART_MASS_MIN = 0.05
#: Seed of the weighted resample.
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
    coverage, density, mass : float
        Of the chosen box (0-1).
    restricted : int
        Inputs the box limits.
    trajectory : DataFrame
        The peeling trajectory: ``coverage``, ``density``, ``mass``, ``restricted`` at each step.
    chosen : int
        The step of the trajectory the box is.
    base_rate : float
        The share of all rows where the outcome happens.
    n : int
        Rows.
    dropped : list of str
        Limits of the chosen step that were dropped as possibly chance (quasi-p-value above
        :data:`SIGNIFICANT`), least significant first; ``limits`` and the statistics are those of
        the box without them.
    leaves : DataFrame
        CART's view: the tree's leaves where the outcome happens in more than half the rows,
        densest first, with ``rule`` (the splits that lead there, in words), ``coverage``,
        ``density``, ``mass`` and ``restricted``.
    weighted : bool
        Whether the rows were a weighted resample (``n`` is then the weights' effective size).
    threshold : float
        The density asked for.
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

    def sentence(self) -> str:
        """The box in plain words, with how much of the outcome it covers and how sure it is.

        Returns
        -------
        str
            One paragraph a reader can quote: the box's limits, its density against the base
            rate, its mass and coverage, and which limits may be chance.
        """
        if self.limits.empty:
            return (f"No box of the assumptions concentrates {self.outcome}: it is found in {self.base_rate:.0%} "
                    f"of the {self.n:,} sets, with no range of any assumption where it is markedly more frequent.")
        parts = []
        for name, row in self.limits.iterrows():
            text = str(row.get("description") or "")
            if text[:2] != text[:2].upper():  # "Cost to Russia" -> "cost to Russia", but "US aid" stays
                text = text[0].lower() + text[1:]
            what = f"{text} (`{name}`)" if text else f"`{name}`"
            unit = f" {row['unit']}" if isinstance(row.get("unit"), str) and row.get("unit") else ""
            where = {"at least": f"at least {row['low']:.3g}", "at most": f"at most {row['high']:.3g}"}.get(
                row["side"], f"between {row['low']:.3g} and {row['high']:.3g}")
            parts.append(f"{what} is {where}{unit}")
        weak = [str(n) for n, r in self.limits.iterrows() if not r["qp"] <= SIGNIFICANT]
        return (f"{self.outcome[0].upper() + self.outcome[1:]} is found in {self.density:.0%} of the sets where "
                + " and ".join(parts) + f" (against {self.base_rate:.0%} of all {self.n:,} sets). These sets are "
                f"{self.mass:.0%} of the sample and hold {self.coverage:.0%} of the sets where it is found."
                + (f" The limit on {', '.join(f'`{w}`' for w in weak)} may be chance (quasi-p-value above "
                   f"{SIGNIFICANT})." if weak else ""))


def resample(weights: np.ndarray, seed: int = SEED) -> np.ndarray:
    """Row indices of a weighted resample with replacement, as many as the weights' effective size
    (``sum(w)^2 / sum(w^2)``), drawn with ``seed``."""
    w = np.asarray(weights, dtype=float)
    size = max(int(round(w.sum() ** 2 / (w ** 2).sum())), 1)
    return np.sort(np.random.default_rng(seed).choice(w.size, size=size, replace=True, p=w / w.sum()))


def _rule(limits: dict[str, tuple[float, float]], describe: Mapping[str, tuple[str, str]] | None) -> str:
    """A leaf's splits in words: ``name >= a``, ``name < b`` or ``a <= name < b``."""
    parts = []
    for name, (low, high) in limits.items():
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
                seed: int = SEED) -> pd.DataFrame:
    """CART's leaves where ``happens`` is true in more than half the rows (EMA Workbench's ``CART``
    over scikit-learn's tree, with a fixed depth and seed so that it is reproducible).

    Returns
    -------
    DataFrame
        One row per such leaf, densest first: ``rule``, ``coverage``, ``density``, ``mass``,
        ``restricted``.
    """
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        from ema_workbench.analysis import cart
        from sklearn.tree import DecisionTreeClassifier

        x = inputs.reset_index(drop=True).astype(float)
        tree = cart.CART(x, happens, mass_min=mass_min)
        # EMA Workbench's own build_tree grows the tree without a depth limit or a seed
        tree.clf = DecisionTreeClassifier(min_samples_leaf=max(int(mass_min * len(x)), 1), max_depth=depth,
                                          random_state=seed).fit(x.to_numpy(), happens)
        boxes, stats = tree.boxes, tree.stats
    lows, highs = x.min(), x.max()
    rows = []
    for box, stat in zip(boxes, stats):
        if not stat["density"] > 0.5:
            continue
        limits = {}
        for name in box.columns:
            low, high = float(box.loc[0, name]), float(box.loc[1, name])
            if low > lows[name] or high < highs[name]:  # CART splits at midpoints, so a split is never an edge
                limits[str(name)] = (low if low > lows[name] else -math.inf, high if high < highs[name] else math.inf)
        rows.append({"rule": _rule(limits, describe), "coverage": float(stat["coverage"]),
                     "density": float(stat["density"]), "mass": float(stat["mass"]), "restricted": len(limits)})
    frame = pd.DataFrame(rows, columns=["rule", "coverage", "density", "mass", "restricted"])
    return frame.sort_values(["density", "coverage"], ascending=False, ignore_index=True)


def _check(inputs: pd.DataFrame, happens: np.ndarray, threshold: float) -> None:
    if not isinstance(inputs, pd.DataFrame) or inputs.empty:
        raise InputError(f"discover: inputs must be a DataFrame with a column per assumption, got "
                         f"{type(inputs).__name__}{' (empty)' if isinstance(inputs, pd.DataFrame) else ''}.")
    bad = [str(c) for c in inputs.columns if not pd.api.types.is_numeric_dtype(inputs[c])]
    if bad:
        raise InputError(f"discover: input column(s) {', '.join(bad)} are not numbers.")
    if not np.isfinite(inputs.to_numpy(dtype=float)).all():
        raise InputError("discover: the inputs hold NaN or infinite values; drop the rows whose run failed first.")
    if happens.shape != (len(inputs),):
        raise InputError(f"discover: the outcome has {happens.size:,} values for {len(inputs):,} rows of inputs.")
    if isinstance(threshold, bool) or not isinstance(threshold, (int, float)) or not 0 < threshold <= 1:
        raise InputError(f"discover: threshold must be a density above 0 and at most 1, got {threshold!r}.")


def discover(inputs: pd.DataFrame, happens: pd.Series | np.ndarray, *, outcome: str = "the outcome",
             threshold: float = DEFAULT_THRESHOLD, peel_alpha: float = 0.05,
             describe: Mapping[str, tuple[str, str]] | None = None,
             weights: np.ndarray | pd.Series | None = None, seed: int = SEED) -> Discovery:
    """The box of ``inputs`` in which ``happens`` is true most often (PRIM, EMA Workbench).

    Parameters
    ----------
    inputs : DataFrame
        One row per set of assumptions, one column per assumption (e.g. a sweep's or an
        ensemble's ``inputs``).
    happens : array of bool (n,)
        Whether the outcome of interest happens in each row (e.g. ``p_ceasefire_horizon > 0.5``).
    outcome : str
        What happens, as a noun phrase, for :meth:`Discovery.sentence`.
    threshold : float
        The density the chosen box must reach (0-1); of the boxes on the peeling trajectory that
        reach it, the one with the largest coverage is chosen (the densest one when none does).
    peel_alpha : float
        The share of rows each peeling step removes.
    describe : dict of name -> (unit, description), optional
        For the limits' table and the sentence.
    weights : array of float (n,), optional
        The rows' weights (a constrained ensemble's): the rows are then resampled by weight, with
        ``seed``, to as many as the weights' effective size (see the module).
    seed : int
        Seed of the weighted resample and of CART's tree.

    Returns
    -------
    Discovery

    Raises
    ------
    InputError
        For inputs that are not a numeric DataFrame, NaN, an outcome of another length or not
        yes/no, an outcome that never or always happens, a threshold outside (0, 1], or weights of
        another length, negative or not finite.
    """
    values = np.asarray(happens)
    _check(inputs, values, threshold)
    if values.dtype != bool:
        if not np.isin(values, (0, 1)).all():
            raise InputError("discover: the outcome must be yes/no (booleans, or 0 and 1) for each row.")
        values = values.astype(bool)
    if weights is not None:
        w = np.asarray(weights, dtype=float)
        if w.shape != values.shape or not np.isfinite(w).all() or (w < 0).any() or not w.sum() > 0:
            raise InputError(f"discover: weights must be {len(values):,} finite numbers >= 0, not all zero (got "
                             f"{w.size:,}{'' if np.isfinite(w).all() else ', some NaN or infinite'}).")
        rows = resample(w, seed)
        inputs, values = inputs.iloc[rows], values[rows]
    n, hits = len(values), int(values.sum())
    if hits == 0 or hits == n:
        raise InputError(f"discover: {outcome} happens in {hits:,} of {n:,} rows; there is nothing to tell apart.")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # EMA Workbench's notice that ipyparallel is absent
        from ema_workbench.analysis import prim

        x = inputs.reset_index(drop=True).astype(float)
        box = prim.Prim(x, values, threshold=float(threshold), peel_alpha=peel_alpha).find_box()
    trajectory = box.peeling_trajectory.rename(columns={"res_dim": "restricted"})[
        ["coverage", "density", "mass", "restricted"]].astype(float)
    dense = trajectory[trajectory["density"] >= threshold]
    chosen = int(dense.sort_values(["coverage", "restricted"], ascending=[False, True]).index[0] if len(dense)
                 else trajectory["density"].idxmax())
    # limits that may be chance are dropped one at a time, the least significant first (EMA Workbench's
    # drop_restriction: each gives a new box, which is then tested again), so that the box says only
    # what the sample supports
    step, dropped = chosen, []
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        while True:
            _, table = box.inspect(step, style="data")[0]
            qp = table.iloc[:, 2:4].astype(float).max(axis=1, skipna=True)
            if qp.empty or qp.max() <= SIGNIFICANT or len(qp) == 1:
                break
            name = str(qp.idxmax())
            box.drop_restriction(name, step)
            step = len(box.peeling_trajectory) - 1
            dropped.append(name)
    stats, table = box.inspect(step, style="data")[0]
    limits = pd.DataFrame({"low": table.iloc[:, 0].astype(float), "high": table.iloc[:, 1].astype(float),
                           "qp": table.iloc[:, 2:4].astype(float).max(axis=1, skipna=True)})
    limits.index = [str(i) for i in limits.index]
    # which end the box limits: a limit at the sample's own edge is no limit
    low_is_edge = np.isclose(limits["low"], x.min()[limits.index].to_numpy())
    high_is_edge = np.isclose(limits["high"], x.max()[limits.index].to_numpy())
    limits["side"] = np.where(low_is_edge, "at most", np.where(high_is_edge, "at least", "between"))
    if describe:
        limits["unit"] = [describe.get(name, ("", ""))[0] for name in limits.index]
        limits["description"] = [describe.get(name, ("", ""))[1] for name in limits.index]
    row = box.peeling_trajectory.loc[step]
    leaves = cart_leaves(inputs, values, describe=describe, seed=seed)
    return Discovery(outcome, limits, float(row["coverage"]), float(row["density"]), float(row["mass"]),
                     int(row["res_dim"]), trajectory, chosen, hits / n, n, dropped, leaves, weights is not None,
                     float(threshold))


def significant(discovery: Discovery) -> list[str]:
    """The limits whose quasi-p-value is at most :data:`SIGNIFICANT`."""
    return [str(n) for n, r in discovery.limits.iterrows() if not math.isnan(r["qp"]) and r["qp"] <= SIGNIFICANT]
