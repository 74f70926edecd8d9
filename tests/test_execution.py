"""Long work shows progress and runs where the user says: the same --workers, --scheduler and
--progress on every command that runs many models, the same default (every core), and a sweep
that says whether it started, resumed or had nothing to do."""

from __future__ import annotations

import inspect
import subprocess
import sys

import pandas as pd
import pytest
from conftest import run_cli as _cli

import sanctions_model as sm
from sanctions_model.analysis import sensitivity as sa
from sanctions_model.analysis.studies import full_study
from sanctions_model.cli import build_parser
from sanctions_model.errors import InputError
from sanctions_model.jobs import comparison, full_report
from sanctions_model.runs.ensemble import at_each_end, run_ensemble
from sanctions_model.runs.executors import execution, map_in_processes, parallel_width

MANY = ("run", "compare", "sweep", "sensitivity", "report", "constrain")



def _square(x: int) -> int:
    return x * x


def test_every_command_that_runs_many_models_takes_the_same_options_and_default():
    parser = build_parser()
    sub = next(a for a in parser._actions if a.dest == "command").choices  # type: ignore[attr-defined]
    for command in MANY:
        actions = {a.dest: a for a in sub[command]._actions}
        assert {"workers", "scheduler", "progress"} <= set(actions), command
        assert actions["workers"].default is None and actions["progress"].default is None, command
    for fn in (run_ensemble, at_each_end, sa.model_function, sm.run_sweep, full_study, full_report):
        assert inspect.signature(fn).parameters["workers"].default is None, fn.__name__


def test_api_default_follows_the_execution_context_and_results_do_not_depend_on_it():
    with execution(workers=1, progress=False):
        one = run_ensemble(["status_quo"], 120, 2500, seed=3)
    with execution(workers=2, progress=False):
        two = run_ensemble(["status_quo"], 120, 2500, seed=3)
    pd.testing.assert_frame_equal(one.shares(), two.shares())
    assert map_in_processes(_square, range(5)) == [0, 1, 4, 9, 16]


def _pid(_: object) -> int:
    import os
    import time

    time.sleep(0.05)  # items overlap, so a second worker usually takes some
    return os.getpid()


def _blas_threads(_: object) -> tuple[int, str | None]:
    import os
    import time

    time.sleep(0.05)
    return os.getpid(), os.environ.get("OPENBLAS_NUM_THREADS")


def test_kept_workers_have_one_blas_thread_and_two_batches_alive_at_once_each_finish():
    import os

    from sanctions_model.runs.executors import WORKER_ENV, each_result

    parent = {key: os.environ.get(key) for key in WORKER_ENV}
    with execution(workers=2, progress=False):
        seen = map_in_processes(_blas_threads, range(6))
        assert {threads for _, threads in seen} == {"1"}
        first = each_result(_blas_threads, range(6), 2)
        next(first)
        second = each_result(_blas_threads, range(6), 2)  # the kept pool is lent out: a pool of its own
        next(second)
        first.close()  # ending one batch early leaves the other's pool alone
        assert len(list(second)) == 5
        late = each_result(_blas_threads, range(6), 2)
        next(late)
    assert len(list(late)) == 5  # a batch started in the block finishes after it
    assert {key: os.environ.get(key) for key in WORKER_ENV} == parent  # this process's own settings are back


def test_an_execution_block_starts_its_workers_once_and_replaces_a_pool_that_breaks():
    import os
    import signal

    with execution(workers=2, progress=False):
        first = set(map_in_processes(_pid, range(8)))
        second = set(map_in_processes(_pid, range(3)))  # a short batch keeps the pool too
        with execution(workers=2):  # an inner block shares the outer one's pool
            inner = set(map_in_processes(_pid, range(8)))
        # two processes in all (a pool a batch would have at least three); which one took which items
        # depends on how fast each started, so it is not asserted
        kept = first | second | inner
        assert os.getpid() not in kept and len(kept) <= 2
        os.kill(min(first), signal.SIGKILL)  # a kept worker dies between batches
        assert map_in_processes(_square, range(5)) == [0, 1, 4, 9, 16]  # the work is whole, on a new pool
        after = set(map_in_processes(_pid, range(8)))
        assert after and after.isdisjoint(kept)
    # outside a block every batch starts (and stops) its own workers
    assert set(map_in_processes(_pid, range(8), workers=2)).isdisjoint(after)


def test_workers_out_of_bounds_are_refused():
    for bad in (0, -1, 10_000, 1.5, True):
        with pytest.raises(InputError, match="workers"):
            with execution(workers=bad):  # type: ignore[arg-type]
                pass
    res = _cli("compare", "--workers", "1000", "--out", "/tmp/never-written-by-this-test")
    assert res.returncode == 2 and "--workers must be a whole number from 1 to" in res.stderr
    assert "Traceback" not in res.stderr


def test_progress_is_shown_when_asked_and_silent_otherwise(tmp_path):
    shown = _cli("compare", "--scenario", "status_quo", "--scenario", "hard_way", "--samples", "40", "--days", "60",
                 "--workers", "1", "--progress", "--unconstrained", "--out", str(tmp_path / "a"))
    assert shown.returncode == 0, shown.stderr
    assert "100%" in shown.stderr
    quiet = _cli("compare", "--scenario", "status_quo", "--samples", "40", "--days", "60", "--workers", "1",
                 "--unconstrained", "--out", str(tmp_path / "b"))  # not a terminal: no bar
    assert quiet.returncode == 0 and "100%" not in quiet.stderr
    sens = _cli("sensitivity", "--method", "oat", "--param", "oil.brent_price", "--param", "evasion.max",
                "--days", "60", "--workers", "1", "--progress", "--out", str(tmp_path / "s"))
    assert sens.returncode == 0 and "100%" in sens.stderr, sens.stderr


def test_compare_runs_on_a_dask_scheduler_with_the_same_numbers(tmp_path):
    distributed = pytest.importorskip("dask.distributed")
    with distributed.LocalCluster(n_workers=1, threads_per_worker=1, processes=True, dashboard_address=":0") as cluster:
        with execution(scheduler=cluster.scheduler_address, progress=False):
            remote = run_ensemble(["status_quo", "hard_way"], 90, 2500, seed=4)
    local = run_ensemble(["status_quo", "hard_way"], 90, 2500, seed=4, workers=1)
    pd.testing.assert_frame_equal(remote.shares(), local.shares())
    with pytest.raises(InputError, match="cannot reach the Dask scheduler"):
        with execution(scheduler="tcp://127.0.0.1:9"):
            comparison(["status_quo"], tmp_path / "o", "test", samples=5)
    assert not (tmp_path / "o").exists()


def test_a_sweep_says_whether_it_started_resumed_or_had_nothing_to_do(tmp_path):
    args = ["sweep", "-n", "6", "--chunk-size", "2", "--days", "30", "--workers", "1", "--out", str(tmp_path / "s")]
    first = _cli(*args)
    assert first.returncode == 0 and "running 3 chunks" in first.stderr and "wrote" in first.stdout
    (tmp_path / "s" / "outcomes.parquet" / "part-00001.parquet").unlink()  # as if killed before chunk 1 was written
    resumed = _cli(*args)
    assert resumed.returncode == 0, resumed.stderr
    assert "resuming: 2 of 3 chunks already written" in resumed.stderr
    assert "wrote the 1 missing chunks of 3" in resumed.stdout
    again = _cli(*args)
    assert "nothing to run" in again.stderr and "nothing was run" in again.stdout and " in 0.0 s" not in again.stdout


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="measures glibc's heap through /proc")
def test_a_worker_releases_the_memory_of_its_previous_item_before_the_next():
    """Freed heap pages that glibc would keep (the top of the heap pinned by a live block) go
    back to the system. The sweep's workers run each chunk through call_in_worker;
    benchmarks/sweep_throughput.py measures the effect on a whole sweep."""
    code = """
import numpy as np
from sanctions_model.runs import executors as parallel
def rss():
    return next(int(l.split()[1]) for l in open('/proc/self/status') if l.startswith('VmRSS')) // 1024
blocks = [np.ones(12_000) for _ in range(4_000)]   # ~96 kB each: on the heap, not mmap'd
pinned = np.ones(12_000)                           # allocated last: pins the top of the heap
del blocks
before = rss()
assert parallel.call_in_worker(len, [1, 2, 3]) == 3
print(before, rss())
"""
    res = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    before, after = map(int, res.stdout.split())
    assert before - after > 200, (before, after)  # ~370 MiB were freed but still resident


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="measures glibc's heap through /proc")
def test_a_worker_releases_the_memory_of_its_item_before_it_waits_for_the_next():
    """A worker kept for the next batch (inside an execution block) may wait idle: what its last
    item freed goes back to the system before the result is returned."""
    code = """
import numpy as np
from sanctions_model.runs import executors as parallel
def rss():
    return next(int(l.split()[1]) for l in open('/proc/self/status') if l.startswith('VmRSS')) // 1024
kept = []
def work(_):
    blocks = [np.ones(12_000) for _ in range(4_000)]   # ~96 kB each: on the heap, not mmap'd
    kept.append(np.ones(12_000))                       # allocated last, kept: pins the top of the heap
    del blocks
    return rss()
inside = parallel.call_in_worker(work, None)
print(inside, rss())
"""
    res = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    inside, after = map(int, res.stdout.split())
    assert inside - after > 200, (inside, after)


def _freeze_count(_: object) -> tuple[int, bool, int]:
    import gc
    import os
    import time

    from sanctions_model.runs import executors

    time.sleep(0.05)
    return os.getpid(), executors._OWN_WORKER, gc.get_freeze_count()


def test_a_pool_worker_freezes_what_it_has_imported_and_no_other_process_does():
    """A worker of the local pool freezes what is alive before each item (later collections, and its
    exit, pass it by); this process, running an item itself, freezes nothing."""
    import gc

    from sanctions_model.runs import executors

    before = gc.get_freeze_count()
    assert executors.call_in_worker(len, [1, 2]) == 2
    assert gc.get_freeze_count() == before and not executors._OWN_WORKER
    seen = map_in_processes(_freeze_count, range(6), workers=2)
    assert all(own and frozen > 0 for _, own, frozen in seen), seen


def _rss_after(_: list) -> tuple[int, int]:
    import os

    return os.getpid(), next(int(line.split()[1]) for line in open("/proc/self/status")
                             if line.startswith("VmRSS")) // 1024


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="measures the workers' memory through /proc")
def test_an_item_in_a_reference_cycle_is_freed_after_its_worker_froze_what_was_alive():
    """The freeze happens before the item is unpacked: an item that refers to itself (freed only by
    the garbage collector) does not stay in the worker's memory for good."""
    items = []
    for _ in range(8):
        item: list = [bytearray(30_000_000)]
        item.append(item)  # a reference cycle
        items.append(item)
    seen: dict[int, list[int]] = {}
    for pid, rss in map_in_processes(_rss_after, items, workers=2):
        seen.setdefault(pid, []).append(rss)
    for pid, rss in seen.items():  # 30 MB more an item if the items stayed
        assert max(rss) - min(rss) < 45, (pid, rss)


def test_building_the_parser_reads_no_parameter_file_and_imports_no_sampler():
    """Every command builds the parser: what its help reads (the parameter files, to count the
    uncertainties) is worked out when help is shown, not before (test_docs_commands checks the count)."""
    code = ("import sys\nfrom sanctions_model import cli\np = cli.build_parser()\n"
            "print('scipy.stats' in sys.modules)\n"
            "sub = next(a for a in p._actions if a.dest == 'command').choices\n"
            "text = sub['report'].format_help()\n"
            "print('SOBOL_RUNS' in text, 'runs for the' in ' '.join(text.split()))")
    res = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert res.stdout.split() == ["False", "False", "True"], res.stdout


class _Cluster:
    """What parallel_width reads of a Dask client: its workers and their threads."""

    def __init__(self, *threads: int) -> None:
        self.threads = threads

    def scheduler_info(self) -> dict:
        return {"workers": {f"tcp://w{i}": {"nthreads": n} for i, n in enumerate(self.threads)}}


def test_parallel_width_counts_what_can_run_at_once(monkeypatch):
    monkeypatch.setattr("os.cpu_count", lambda: 4)
    assert parallel_width(1) == 1
    assert parallel_width(3) == 3
    assert parallel_width(None) == 4
    assert parallel_width(16) == 4  # more processes than cores take turns on them
    assert parallel_width(client=_Cluster(1, 1, 1)) == 3
    assert parallel_width(client=_Cluster(6)) == 2  # each_result keeps two items a worker in flight
    assert parallel_width(client=_Cluster(4, 1)) == 4
    assert parallel_width(client=_Cluster()) == 1


def _socket_family(item: object) -> int:
    return int(item.family)  # type: ignore[attr-defined]


def test_items_go_to_a_local_pool_as_multiprocessing_would_send_them():
    """Items are pickled before they are sent (so that a worker freezes before unpacking one) with
    multiprocessing's own pickler, which sends what plain pickle cannot (a socket, say)."""
    import socket

    with socket.socket() as one, socket.socket() as two:
        assert map_in_processes(_socket_family, [one, two], workers=2) == [int(one.family)] * 2
