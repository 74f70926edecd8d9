"""Sampling designs over the uncertainties (assumptions a user varies, not policy levers).

An *uncertainty* is every parameter outside a lever group whose range is not a single
point; a sweep varies all of them over ``[low, high]`` by default. A :class:`Design`
describes a sample by a few numbers (kind, size, seed, varied names and bounds), and can
produce any chunk of its rows on its own, so that a worker needs only that description.

Designs and their sizes (``n`` is the ``-n`` of ``sanctions-model sweep``):

========== ======================================================= ==================
kind       what                                                    rows
========== ======================================================= ==================
lhs        Latin hypercube (``scipy.stats.qmc``); each chunk is a  n
           Latin hypercube of its own rows, seeded by (seed, chunk)
sobol      scrambled Sobol' sequence (``scipy.stats.qmc.Sobol``)   n (a power of 2 is best)
grid       full factorial with n levels per varied parameter       n ** k
oat        one at a time: base, then each parameter at low, high   1 + 2k
morris     Morris elementary-effect trajectories (SALib)           n (k + 1)
saltelli   Saltelli's scheme for Sobol' indices (SALib)            n (k + 2)
========== ======================================================= ==================
"""

from __future__ import annotations

import functools
import warnings
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass

import numpy as np

from ..errors import InputError, suggest
from ..inputs.params import ParameterSet, check_range

DESIGNS = ("lhs", "sobol", "grid", "oat", "morris", "saltelli")
MAX_ROWS = 100_000_000


def uncertainties(params: ParameterSet) -> list[str]:
    """Names of the parameters a sweep varies by default: with low < high, neither a lever nor a
    further step of a lever's schedule or a driver's path (those are the scenario's choices)."""
    return [n for n, p in params.parameters.items()
            if p.low < p.high and p.group not in params.levers and ".step" not in n]


def overlay(base: Mapping[str, float], names: Sequence[str], x: np.ndarray) -> dict[str, np.ndarray]:
    """Batch values: every parameter of ``base`` repeated for each row of ``x`` (n, k), with the
    columns of ``x`` replacing the parameters ``names`` (in that order)."""
    x = np.atleast_2d(np.asarray(x, dtype=float))
    values = {k: np.full(x.shape[0], float(v)) for k, v in base.items()}
    values.update({name: x[:, j] for j, name in enumerate(names)})
    return values


def latin_hypercube(params: ParameterSet, n: int, seed: int) -> dict[str, np.ndarray]:
    """``n`` Latin-hypercube draws of every uncertainty over its [low, high], uniform.

    Levers and fixed parameters keep the values in ``params``. The same ``seed`` gives the
    same draws.
    """
    design = Design.build("lhs", params, n, seed, chunk_size=max(n, 1))
    return overlay(params.values(), design.names, design.chunk(0))


@dataclass(frozen=True)
class Design:
    """A sampling design, described by plain numbers so that it travels cheaply to workers."""

    kind: str
    n: int
    seed: int
    names: tuple[str, ...]
    lows: tuple[float, ...]
    highs: tuple[float, ...]
    base: tuple[float, ...]
    chunk_size: int
    num_levels: int = 4  # Morris grid levels

    @classmethod
    def build(
        cls,
        kind: str,
        params: ParameterSet,
        n: int,
        seed: int,
        *,
        vary: Mapping[str, tuple[float, float]] | None = None,
        fix: Sequence[str] = (),
        chunk_size: int = 2000,
        num_levels: int = 4,
    ) -> Design:
        """A design over the uncertainties of ``params``, with ``vary`` and ``fix`` applied.

        Raises
        ------
        InputError
            For an unknown design or parameter, ``n < 1``, LOW > HIGH, NaN bounds, or a
            design too large to run.
        """
        if kind not in DESIGNS:
            raise InputError(f"unknown design '{kind}'.{suggest(str(kind), DESIGNS)} Designs: {', '.join(DESIGNS)}.")
        if isinstance(n, bool) or not isinstance(n, (int, np.integer)) or n < 1:
            raise InputError(f"-n must be a whole number of at least 1, got {n!r}.")
        if isinstance(chunk_size, bool) or not isinstance(chunk_size, (int, np.integer)) or chunk_size < 1:
            raise InputError(f"chunk size must be a whole number of at least 1, got {chunk_size!r}.")
        check_seed(seed)
        if isinstance(num_levels, bool) or not isinstance(num_levels, (int, np.integer)) or num_levels < 2:
            raise InputError(f"--levels (num_levels) must be a whole number of at least 2, got {num_levels!r}.")
        if isinstance(fix, str):  # one name, not its letters
            fix = [fix]
        if not isinstance(params, ParameterSet):
            raise InputError(f"params must be a ParameterSet (sm.load_params(...)), got {type(params).__name__}.")
        if vary is not None and not isinstance(vary, Mapping):
            raise InputError(f"vary must be a dict of name to (low, high), got {type(vary).__name__}.")
        for name, pair in (vary or {}).items():
            if (isinstance(pair, (str, bytes)) or not isinstance(pair, (Sequence, np.ndarray)) or len(pair) != 2
                    or not all(isinstance(x, (int, float, np.integer, np.floating)) and not isinstance(x, bool)
                               for x in pair)):
                raise InputError(f"vary: '{name}' needs (low, high), two numbers; got {pair!r}.")
        names = uncertainties(params)
        for name in list(fix):
            _known(params, name, "--fix")
            if name in names:
                names.remove(name)
        bounds = {name: (params.parameters[name].low, params.parameters[name].high) for name in names}
        for name, (low, high) in (vary or {}).items():
            _known(params, name, "--vary")
            if name in fix:
                raise InputError(f"--vary and --fix both name '{name}'.")
            check_range(params.parameters[name], low, high, "--vary")
            if name not in names:
                names.append(name)
            bounds[name] = (float(low), float(high))
        if not names:
            raise InputError("nothing to vary: every uncertainty is fixed.")
        point = [name for name in names if bounds[name][0] == bounds[name][1]]
        if point and kind in ("saltelli", "morris"):  # SALib's samplers refuse a range of one point
            raise InputError(f"'{point[0]}' cannot vary in a {kind} design: its range [{bounds[point[0]][0]:g}, "
                             f"{bounds[point[0]][1]:g}] is a single point; give it two ends (--vary NAME=LOW:HIGH), or "
                             "hold it with --set.")
        if kind == "saltelli" and n & (n - 1):  # as `sensitivity --method sobol`: SALib's scheme needs it
            raise InputError(f"-n must be a power of 2 for the saltelli design (Sobol' indices need it), got {n}; "
                             f"the nearest are {1 << (int(n).bit_length() - 1)} and {1 << int(n).bit_length()}.")
        design = cls(kind, int(n), int(seed), tuple(names), tuple(bounds[m][0] for m in names),
                     tuple(bounds[m][1] for m in names), tuple(params[m] for m in names), int(chunk_size),
                     int(num_levels))
        if design.rows > MAX_ROWS:
            raise InputError(f"the {kind} design would have {design.rows:,} rows (more than {MAX_ROWS:,}); "
                             "vary fewer parameters or lower -n.")
        return design

    def to_dict(self) -> dict:
        """The design as plain numbers, for a manifest or a worker.

        Returns
        -------
        dict
            Accepted by :meth:`from_dict`.
        """
        return asdict(self)

    @classmethod
    def from_dict(cls, data: Mapping) -> Design:
        d = dict(data)
        for key in ("names", "lows", "highs", "base"):
            d[key] = tuple(d[key])
        return cls(**d)

    @property
    def k(self) -> int:
        return len(self.names)

    @property
    def rows(self) -> int:
        """Total number of parameter sets the design evaluates."""
        return {
            "lhs": self.n, "sobol": self.n, "grid": self.n ** self.k, "oat": 1 + 2 * self.k,
            "morris": self.n * (self.k + 1), "saltelli": self.n * (self.k + 2),
        }[self.kind]

    @property
    def n_chunks(self) -> int:
        return -(-self.rows // self.chunk_size)

    def chunk_rows(self, i: int) -> range:
        """Row numbers of chunk ``i``.

        Parameters
        ----------
        i : int
            Chunk number, from 0.

        Returns
        -------
        range
        """
        return range(i * self.chunk_size, min((i + 1) * self.chunk_size, self.rows))

    def chunk(self, i: int) -> np.ndarray:
        """Parameter values of chunk ``i``.

        Parameters
        ----------
        i : int
            Chunk number, from 0.

        Returns
        -------
        numpy.ndarray
            (rows, k), in the parameters' units; the same for the same design and ``i``.
        """
        from scipy.stats import qmc  # imported where a design draws (a sweep's workers), not by every command

        rows = self.chunk_rows(i)
        lows, highs = np.array(self.lows), np.array(self.highs)
        if self.kind == "lhs":
            rng = np.random.default_rng([self.seed, i])
            unit = qmc.LatinHypercube(d=self.k, seed=rng).random(len(rows))
        elif self.kind == "sobol":
            engine = qmc.Sobol(d=self.k, scramble=True, seed=np.random.default_rng(self.seed))
            if rows.start:
                engine.fast_forward(rows.start)
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", UserWarning)  # balance needs powers of 2; said in the docs
                unit = engine.random(len(rows))
        elif self.kind == "grid":
            levels = np.linspace(0.0, 1.0, self.n) if self.n > 1 else np.array([0.5])
            idx = np.unravel_index(np.arange(rows.start, rows.stop), (self.n,) * self.k)
            unit = np.stack([levels[j] for j in idx], axis=1)
        else:
            return _whole(self)[rows.start:rows.stop]
        return lows + unit * (highs - lows)

    def problem(self) -> dict:
        """The design's uncertainties in SALib's problem format.

        Returns
        -------
        dict
            ``num_vars``, ``names`` and ``bounds``.
        """
        return {"num_vars": self.k, "names": list(self.names),
                "bounds": [[lo, hi] for lo, hi in zip(self.lows, self.highs)]}


@functools.lru_cache(maxsize=4)
def _whole(design: Design) -> np.ndarray:
    """The whole of a small design that SALib or the OAT rule builds in one piece."""
    if design.kind == "oat":
        base = np.array(design.base)
        rows = [base]
        for j in range(design.k):
            for bound in (design.lows[j], design.highs[j]):
                row = base.copy()
                row[j] = bound
                rows.append(row)
        return np.array(rows)
    from SALib.sample import morris, sobol

    problem = design.problem()
    if design.kind == "morris":
        return morris.sample(problem, design.n, num_levels=design.num_levels, seed=design.seed)
    return sobol.sample(problem, design.n, calc_second_order=False, seed=design.seed)


def check_seed(seed: object) -> int:
    """``seed`` as a whole number NumPy accepts (0 to 2**32 - 1), or an InputError."""
    if isinstance(seed, bool) or not isinstance(seed, (int, np.integer)) or not 0 <= seed < 2 ** 32:
        raise InputError(f"seed must be a whole number from 0 to {2 ** 32 - 1}, got {seed!r}.")
    return int(seed)


def _known(params: ParameterSet, name: str, option: str) -> None:
    if name not in params:
        raise InputError(f"{option}: unknown parameter '{name}'.{suggest(name, params)}")

