"""Faults survived: SIGTERM and Ctrl-C clean up and say what was kept, kill -9 leaves no
workers behind, a killed worker is retried, and a dead writer's temporary folders go at the
next run."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pandas as pd
import pytest
from conftest import run_cli

from sanctions_model.outdir import atomic_directory
from sanctions_model.runs.sweep import read_sweep

CLI = [sys.executable, "-m", "sanctions_model.cli"]
# long enough (about 10 s) that it cannot finish between a poll that sees its first chunks and the
# signal, even when the test process is starved of CPU on a loaded machine
SWEEP = ["sweep", "-n", "400", "--chunk-size", "4", "--days", "60"]
CHUNKS = 100
#: The same sweep over twice the days (about 20 s) for the interrupted runs: at 60 days one finished
#: in a loaded CI run between the poll that saw its first chunks and the signal (session 11).
INTERRUPTED = ["sweep", "-n", "400", "--chunk-size", "4", "--days", "120"]


def _as_from_a_terminal() -> None:
    """In the child before it runs: SIGINT at its default, as a shell starts a command. Libraries
    loaded by earlier tests in this worker (Jupyter's kernel machinery) may leave it ignored,
    and an ignored SIGINT is inherited: Python then never raises KeyboardInterrupt."""
    signal.signal(signal.SIGINT, signal.SIG_DFL)
    signal.pthread_sigmask(signal.SIG_UNBLOCK, {signal.SIGINT, signal.SIGTERM})


def _children(pid: int) -> list[int]:
    out = subprocess.run(["pgrep", "-P", str(pid)], capture_output=True, text=True).stdout
    return [int(p) for p in out.split()]


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    stat = Path(f"/proc/{pid}/stat")
    return not (stat.exists() and stat.read_text().split()[2] == "Z")


def _wait_for(condition, timeout: float = 60.0) -> bool:
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        if condition():
            return True
        time.sleep(0.2)
    return False


def _chunks_done(out: Path) -> int:
    try:
        status = json.loads((out / "manifest.json").read_text()).get("chunk_status", {})
        return sum(v == "done" for v in status.values())
    except (OSError, ValueError):
        return 0


@pytest.mark.parametrize("sig", [signal.SIGINT, signal.SIGTERM])
def test_an_interrupted_sweep_says_how_many_chunks_it_kept(tmp_path, sig):
    out = tmp_path / "s"
    proc = subprocess.Popen([*CLI, *INTERRUPTED, "--workers", "1", "--out", str(out)], stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True, preexec_fn=_as_from_a_terminal)
    assert _wait_for(lambda: _chunks_done(out) >= 2)
    assert proc.poll() is None, "the sweep finished before the signal: the test needs a longer sweep"
    masks = [line for line in Path(f"/proc/{proc.pid}/status").read_text().splitlines()
             if line.startswith(("SigBlk", "SigIgn", "SigCgt"))]
    proc.send_signal(sig)
    _, err = proc.communicate(timeout=120)
    assert proc.returncode == 130, (err, masks)
    kept = _chunks_done(out)
    assert f"interrupted: {kept} of {CHUNKS} chunks written in {out}; run the same command to resume." in err
    assert "Traceback" not in err and not (out / ".lock").exists()
    if sig == signal.SIGINT:
        resumed = subprocess.run([*CLI, *INTERRUPTED, "--workers", "1", "--out", str(out)], capture_output=True,
                                 text=True, timeout=300)
        assert resumed.returncode == 0 and f"resuming: {kept} of {CHUNKS}" in resumed.stderr


@pytest.mark.parametrize("when", ["working", "starting"])
def test_ctrl_c_in_a_terminal_stops_a_sweep_on_workers_without_their_tracebacks(tmp_path, when):
    """A terminal's Ctrl-C reaches every process of the command's group, the workers too: they leave it
    to the process that started them, which says what it kept and ends them, with no worker's traceback;
    also while the workers are still starting (importing), before they could set SIGINT aside themselves."""
    out = tmp_path / "s"
    proc = subprocess.Popen([*CLI, *INTERRUPTED, "--workers", "2", "--out", str(out)], stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True, preexec_fn=_as_from_a_terminal, start_new_session=True)
    if when == "starting":
        end = time.monotonic() + 60
        while not _children(proc.pid) and time.monotonic() < end:
            time.sleep(0.005)
        time.sleep(0.05)  # a worker's imports take about a second
    else:
        assert _wait_for(lambda: len(_children(proc.pid)) >= 2)
        assert _wait_for(lambda: _chunks_done(out) >= 2)
    assert proc.poll() is None, "the sweep finished before the signal: the test needs a longer sweep"
    workers = _children(proc.pid)
    assert workers, "no worker started"
    os.killpg(proc.pid, signal.SIGINT)
    _, err = proc.communicate(timeout=120)
    assert proc.returncode == 130, err
    assert f"interrupted: {_chunks_done(out)} of {CHUNKS} chunks written in {out}" in err
    assert "Traceback" not in err and "KeyboardInterrupt" not in err and "Fatal Python" not in err, err
    assert _wait_for(lambda: not any(_alive(w) for w in workers), timeout=15), "workers outlived the command"


_WRITES_A_LARGE_RESULT = """
import time
def item(n):
    if n == 0:
        time.sleep(0.3)
        return n
    time.sleep(1.0)
    return b"y" * (200 * 1024 * 1024)
"""

_STOPS_READING_MID_WRITE = """
import os, signal, subprocess, threading, time
from sanctions_model.runs.executors import each_result
import work

def writing(pid):  # in write(2) of more than 1 MB (x86-64's syscall 1): sending its large result
    try:
        fields = open(f"/proc/{pid}/syscall").read().split()
    except OSError:
        return False
    return len(fields) > 3 and fields[0] == "1" and int(fields[3], 16) > 1_000_000

def workers():
    found = subprocess.run(["pgrep", "-P", str(os.getpid())], capture_output=True, text=True).stdout.split()
    return [int(pid) for pid in found if "spawn_main" in open(f"/proc/{pid}/cmdline").read()]

if __name__ == "__main__":
    for i, result in each_result(work.item, [0, 1], 2):
        caught, end = None, time.monotonic() + 30
        while caught is None and time.monotonic() < end:
            for pid in workers():
                if writing(pid):
                    os.kill(pid, signal.SIGSTOP)  # held in the middle of its write, continued below
                    caught = pid
                    break
        print("caught" if caught else "missed", flush=True)
        if caught:
            threading.Timer(0.5, os.kill, (caught, signal.SIGCONT)).start()
        break  # stop reading: the batch ends early, with a worker half-way through sending a result
    print("left", flush=True)
"""


@pytest.mark.skipif(not (sys.platform.startswith("linux") and os.uname().machine == "x86_64"),
                    reason="finds the worker in its write through /proc/PID/syscall (x86-64's numbers)")
def test_a_batch_ended_while_a_worker_sends_its_result_does_not_hang_the_process(tmp_path):
    """A batch that ends early ends its workers (executors.stop_now); one ended half-way through sending a
    result left the pool's thread waiting for the rest for ever, and the process hung at exit."""
    (tmp_path / "work.py").write_text(_WRITES_A_LARGE_RESULT)
    (tmp_path / "main.py").write_text(_STOPS_READING_MID_WRITE)
    try:
        res = subprocess.run([sys.executable, "main.py"], cwd=tmp_path, capture_output=True, text=True, timeout=120)
    except subprocess.TimeoutExpired:
        pytest.fail("the process hung after the batch ended")
    if "missed" in res.stdout:
        pytest.skip("never saw the worker in the middle of its write")
    assert res.returncode == 0 and res.stdout.split() == ["caught", "left"], (res.stdout, res.stderr)


@pytest.mark.parametrize("where", ["sweep", "command"])
def test_an_interrupt_reported_by_compiled_code_as_a_system_error_is_an_interrupt(tmp_path, monkeypatch, where):
    """A signal whose handler raised while compiled code (Numba's, Arrow's) was calling back into Python
    comes out as ``SystemError: ... returned a result with an exception set``, caused by the
    ``KeyboardInterrupt``: once in CI, a SIGTERM'd sweep ended so, with a traceback and status 1."""
    from sanctions_model import cli
    from sanctions_model.runs import sweep

    def interrupted(*args, **kwargs):
        try:
            raise KeyboardInterrupt
        except KeyboardInterrupt as exc:
            raise SystemError("<built-in function step_each> returned a result with an exception set") from exc

    def broken(*args, **kwargs):
        raise SystemError("a SystemError of its own")

    # in the sweep's own handling (which says what was kept), or else in the command's
    target, name = (sweep, "run_sweep") if where == "sweep" else (cli.COMMANDS, "sweep")
    replace = monkeypatch.setattr if where == "sweep" else monkeypatch.setitem
    replace(target, name, interrupted)
    res = run_cli(*SWEEP, "--workers", "1", "--out", tmp_path / "s")
    said = "interrupted: 0 of 100 chunks written" if where == "sweep" else "sanctions-model: interrupted; nothing"
    assert res.returncode == 130 and said in res.stderr and "Traceback" not in res.stderr, res.stderr
    replace(target, name, broken)
    with pytest.raises(SystemError, match="of its own"):  # any other SystemError is not taken for an interrupt
        run_cli(*SWEEP, "--workers", "1", "--out", tmp_path / "t")


def test_kill_9_leaves_no_worker_behind(tmp_path):
    proc = subprocess.Popen([*CLI, *SWEEP, "--workers", "2", "--out", str(tmp_path / "s")],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    assert _wait_for(lambda: len(_children(proc.pid)) >= 2)
    assert _wait_for(lambda: _chunks_done(tmp_path / "s") >= 1)
    workers = _children(proc.pid)
    proc.kill()
    proc.wait()
    assert _wait_for(lambda: not any(_alive(w) for w in workers), timeout=15), "workers outlived their parent"


def test_a_killed_worker_is_retried_and_the_results_are_whole(tmp_path):
    reference = run_cli(*SWEEP, "--workers", "1", "--out", tmp_path / "ref")
    assert reference.returncode == 0, reference.stderr
    proc = subprocess.Popen([*CLI, *SWEEP, "--workers", "2", "--out", str(tmp_path / "s")],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    assert _wait_for(lambda: _chunks_done(tmp_path / "s") >= 1)
    victims = [p for p in _children(proc.pid) if "multiprocessing" in Path(f"/proc/{p}/cmdline").read_text()]
    os.kill(victims[0], signal.SIGKILL)
    _, err = proc.communicate(timeout=300)
    assert proc.returncode == 0, err
    pd.testing.assert_frame_equal(read_sweep(tmp_path / "s", "outcomes"), read_sweep(tmp_path / "ref", "outcomes"))


def test_sigterm_during_report_leaves_nothing(tmp_path):
    proc = subprocess.Popen([*CLI, "report", "--samples", "50", "--sobol-n", "16", "--days", "120", "--workers", "1",
                             "--out", str(tmp_path / "full")], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            text=True)
    assert proc.stderr is not None
    seen = []
    for line in proc.stderr:  # wait until it is inside the work (the ensemble), past the imports
        seen.append(line)
        if line.startswith("[2/6]"):
            break
    proc.send_signal(signal.SIGTERM)
    _, rest = proc.communicate(timeout=120)
    err = "".join(seen) + rest
    assert proc.returncode == 130 and "nothing was written" in err, err
    assert list(tmp_path.iterdir()) == []


def test_a_dead_writers_temporary_folder_goes_at_the_next_run(tmp_path):
    dead = subprocess.Popen([sys.executable, "-c", "pass"])
    dead.wait()
    leftover = tmp_path / f".out.tmp-{dead.pid}-abc123"
    leftover.mkdir()
    (leftover / "half.csv").write_text("x")
    mine = tmp_path / f".out.tmp-{os.getpid()}-live"  # a live writer's is kept
    mine.mkdir()
    with atomic_directory(tmp_path / "out") as tmp:
        (tmp / "whole.csv").write_text("y")
    assert not leftover.exists() and mine.exists() and (tmp_path / "out" / "whole.csv").is_file()


def test_a_script_without_the_main_guard_is_told_what_to_do(tmp_path):
    """Spawned workers import the running script again; one that runs the model at its top level
    makes every worker die at once. The lost chunks say why, not only 'a worker died'."""
    script = tmp_path / "unguarded.py"
    script.write_text("import sanctions_model as sm\n"
                      "design = sm.Design.build('lhs', sm.load_params(), 8, seed=1, chunk_size=4)\n"
                      "sm.run_sweep(design, [('base', sm.load_params())], 'out', days=30, workers=2)\n")
    done = subprocess.run([sys.executable, str(script)], cwd=tmp_path, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr[-2000:]
    messages = set(read_sweep(tmp_path / "out", "outcomes")["message"])
    assert len(messages) == 1 and 'under `if __name__ == "__main__":`' in messages.pop()


def test_the_hint_is_only_for_scripts(monkeypatch):
    import types

    from sanctions_model.runs.executors import script_hint

    monkeypatch.setitem(sys.modules, "__main__", types.ModuleType("__main__"))  # a notebook or python -c
    assert script_hint() == ""
    script = types.ModuleType("__main__")
    script.__file__ = "/somewhere/run.py"
    monkeypatch.setitem(sys.modules, "__main__", script)
    assert "/somewhere/run.py" in script_hint() and "workers=1" in script_hint()
