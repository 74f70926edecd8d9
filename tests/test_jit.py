"""The right-hand side compiled by Numba from the model's own source (core/jit.py)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from conftest import run_values

from sanctions_model.core import jit, model
from sanctions_model.core.schedules import at_time, compiled
from sanctions_model.core.solve import as_batch
from sanctions_model.inputs.params import load_params
from sanctions_model.runs.designs import latin_hypercube


@pytest.mark.parametrize("scenario,days", [("history_2022_2025", 1061), ("hard_way", 730), ("status_quo", 730)])
def test_compiled_rates_are_numpys(scenario, days):
    values = latin_hypercube(load_params(scenario), 30, seed=5)
    run = run_values(values, days, rtol=1e-5, step=2.0)
    p = compiled(as_batch(values))
    n = run.y.shape[1]
    ref = jit.reference_records(run.ref, n)
    for k in np.linspace(0, run.t.size - 1, 7).astype(int):
        t = float(run.t[k])
        y = np.ascontiguousarray(run.y[:, :, k])
        want = model.derivatives(t, y, p, run.ref)
        got = jit.member_rates(np.full(n, t), y, jit.member_records(at_time(t, p), n), ref)
        # the same arithmetic; Numba's tanh, exp and powers may differ from NumPy's in the last bits
        # (each rate against its largest in the batch, or its stock's scale a day where all are ~0)
        scale = np.maximum(np.abs(want).max(axis=1, keepdims=True), model.STATE_SCALE[:, None])
        assert (np.abs(got - want) / scale).max() <= 1e-12, (t, model.STATE_NAMES[int(np.argmax(
            (np.abs(got - want) / scale).max(axis=1)))])


def test_each_member_reads_its_own_schedules_and_time():
    values = latin_hypercube(load_params("history_2022_2025"), 8, seed=6)
    run = run_values(values, 1061, rtol=1e-5, step=2.0)
    p = compiled(as_batch(values))
    days = np.array([0.0, 3.0, 40.0, 200.0, 333.0, 600.0, 900.0, 1061.0])  # each member at its own time
    k = np.searchsorted(run.t, days)
    y = np.ascontiguousarray(run.y[:, np.arange(8), k])
    records = np.concatenate([jit.member_records(at_time(float(day), p), 8)[i:i + 1] for i, day in enumerate(days)])
    got = jit.member_rates(days, y, records, jit.reference_records(run.ref, 8))
    for i, day in enumerate(days):
        want = model.derivatives(float(day), y, p, run.ref)[:, i]
        np.testing.assert_allclose(got[:, i], want, rtol=1e-12, atol=1e-15)


def test_every_batch_has_the_same_record_and_one_lacking_a_parameter_is_refused():
    jit.register()
    jit.register()  # idempotent
    plain = as_batch(load_params("status_quo").values())
    history = compiled(as_batch(load_params("history_2022_2025").values()))
    records = jit.member_records(plain, 1)
    assert records.dtype == jit.member_records(at_time(10.0, history), 1).dtype  # one record, one compiled code
    assert set(jit.schedule_fields()) <= set(records.dtype.names)
    assert records["oil.brent_price.slope"][0] == 0.0  # a driver without steps holds still
    assert records["macro.rub_per_usd"][0] == plain["macro.rub_per_usd"][0]
    del plain["strain.weight_capacity"]
    with pytest.raises(KeyError, match="strain.weight_capacity"):
        jit.member_records(plain, 1)


def test_the_model_is_compiled_once_in_a_process_of_its_own_before_workers_start(tmp_path, monkeypatch):
    """A pool's workers that each found nothing on disk would each compile the same code at once
    (twice the memory); the pool compiles it first, once, and its workers load it."""
    from sanctions_model.core import jit_cache
    from sanctions_model.runs import executors

    monkeypatch.setenv("SANCTIONS_MODEL_CACHE_DIR", str(tmp_path))
    assert jit_cache.directory().startswith(str(tmp_path)) and not jit_cache.on_disk()
    pool = executors.local_executor(2)
    pool.shutdown()
    assert jit_cache.on_disk()  # the compiling process left its mark
    assert any(Path(jit_cache.directory()).glob("core_*/jit.step_each-*.nbi"))
    monkeypatch.setattr(jit_cache, "_TRIED", set())
    monkeypatch.setattr(jit_cache.subprocess, "run", lambda *args, **kwargs: pytest.fail("compiled twice"))
    assert jit_cache.compile_once() is False  # on disk: nothing to do


def test_on_disk_needs_numbas_index_where_numba_looks_and_the_mark_for_this_core_and_jit_source(tmp_path,
                                                                                                monkeypatch):
    """Numba files its cache under the absolute path of core/ and checks jit.py's time and size: code
    compiled for another copy of the package, or before jit.py changed, or a mark left where the code
    itself was deleted, is not taken as on disk. (On a copy of core/: the package's own jit.py is not
    touched, which other test processes load.)"""
    import os
    import shutil

    from sanctions_model.core import jit_cache

    core = tmp_path / "core"
    shutil.copytree(jit_cache._CORE, core, ignore=shutil.ignore_patterns("__pycache__"))
    monkeypatch.setattr(jit_cache, "_CORE", core)
    monkeypatch.setenv("SANCTIONS_MODEL_CACHE_DIR", str(tmp_path / "cache"))
    monkeypatch.setattr(jit_cache, "_MARKED", False)
    jit_cache.mark_loaded()
    assert not jit_cache.on_disk()  # a mark, but no compiled code where Numba looks
    index = jit_cache._index()
    index.parent.mkdir(parents=True)
    (index.parent / index.name.replace("*", "123")).write_bytes(b"")
    assert jit_cache.on_disk()
    stat = (core / "jit.py").stat()
    os.utime(core / "jit.py", ns=(stat.st_atime_ns, stat.st_mtime_ns + 1_000_000_000))
    assert not jit_cache.on_disk()  # jit.py is newer than the code compiled from it
    os.utime(core / "jit.py", ns=(stat.st_atime_ns, stat.st_mtime_ns))
    assert jit_cache.on_disk()
    other = tmp_path / "elsewhere" / "core"
    shutil.copytree(core, other)
    os.utime(other / "jit.py", ns=(stat.st_atime_ns, stat.st_mtime_ns))
    monkeypatch.setattr(jit_cache, "_CORE", other)
    assert not jit_cache.on_disk()  # the same sources in another folder: Numba files them apart
    monkeypatch.setattr(jit_cache, "_CORE", core)
    monkeypatch.setenv("NUMBA_DISABLE_JIT", "1")  # nothing is compiled: no compile, and no mark
    monkeypatch.setattr(jit_cache, "_MARKED", False)
    monkeypatch.setattr(jit_cache.subprocess, "run", lambda *args, **kwargs: pytest.fail("tried to compile"))
    next(Path(jit_cache.directory()).glob("loaded-*")).unlink()
    jit_cache.mark_loaded()
    assert not jit_cache.on_disk() and jit_cache.compile_once() is False


def test_a_compile_that_fails_or_hangs_leaves_the_workers_to_compile_for_themselves(tmp_path, monkeypatch):
    import subprocess

    from sanctions_model.core import jit_cache

    monkeypatch.setenv("SANCTIONS_MODEL_CACHE_DIR", str(tmp_path))

    def hangs(*args, **kwargs):
        raise subprocess.TimeoutExpired(args[0], kwargs.get("timeout"))

    monkeypatch.setattr(jit_cache.subprocess, "run", hangs)
    assert jit_cache.compile_once() is True and not jit_cache.on_disk()
    # tried once in this process: the next pool does not wait for another attempt
    monkeypatch.setattr(jit_cache.subprocess, "run", lambda *args, **kwargs: pytest.fail("compiled twice"))
    assert jit_cache.compile_once() is False


def test_no_compile_is_tried_where_the_compiled_code_cannot_be_written(tmp_path, monkeypatch):
    from sanctions_model.core import jit_cache

    monkeypatch.setenv("SANCTIONS_MODEL_CACHE_DIR", str(tmp_path / "file"))
    (tmp_path / "file").write_text("not a directory")
    monkeypatch.setattr(jit_cache.subprocess, "run", lambda *args, **kwargs: pytest.fail("tried to compile"))
    assert jit_cache.compile_once() is False


def test_compiling_removes_other_versions_compiled_code_unused_for_a_month_and_nothing_else(tmp_path, monkeypatch):
    import os
    import time

    from sanctions_model.core import jit_cache

    monkeypatch.setenv("SANCTIONS_MODEL_CACHE_DIR", str(tmp_path))
    month_ago = time.time() - 31 * 86_400

    def folder(name: str, *files: str, old: bool = True) -> Path:
        path = tmp_path / name
        for file in files:
            (path / file).parent.mkdir(parents=True, exist_ok=True)
            (path / file).write_bytes(b"")
        if old:
            for item in [path, *path.rglob("*")]:
                os.utime(item, (month_ago, month_ago), follow_symlinks=False)
        return path

    compiled = ("core_x/jit.step_each-1.py311.nbi", "core_x/jit.step_each-1.py311.1.nbc", "loaded-0123456789abcdef")
    old = folder("numba-0.0-0123456789abcdef", *compiled)
    used = folder("numba-0.0-1123456789abcdef", *compiled)
    os.utime(used / "loaded-0123456789abcdef")  # a process ran it today
    notes = folder("numba-notes", "mine.txt")  # not named as compiled code is
    mixed = folder("numba-0.0-2123456789abcdef", *compiled, "core_x/mine.txt")  # holds something else too
    (tmp_path / "numba-0.0-3123456789abcdef").symlink_to(notes)
    assert jit_cache.prune() == [old.name]
    assert not old.exists() and used.exists() and (notes / "mine.txt").exists() and (mixed / "core_x/mine.txt").exists()
