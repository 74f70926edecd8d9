"""The sweep store cannot be fooled: every part's rows and checksum are in the manifest, a
damaged part is recomputed on resume and refused on read, a foreign part is refused, and only
one writer works in a directory at a time."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys

import pandas as pd
import pytest

from sanctions_model.errors import InputError
from sanctions_model.inputs.params import load_params
from sanctions_model.runs.designs import Design
from sanctions_model.runs.store import sweep_parts
from sanctions_model.runs.sweep import read_sweep, run_sweep


def _sweep(out, seed=1, n=6):
    design = Design.build("lhs", load_params(), n, seed=seed, chunk_size=2)
    return run_sweep(design, [("base", load_params())], out, days=30, workers=1, progress=False)


@pytest.fixture(scope="module")
def reference(tmp_path_factory):
    out = tmp_path_factory.mktemp("store") / "ref"
    _sweep(out)
    return out, read_sweep(out, "outcomes")


def _copy(reference, tmp_path):
    out = tmp_path / "s"
    shutil.copytree(reference[0], out)
    return out


def test_manifest_records_rows_and_checksums(reference):
    manifest = json.loads((reference[0] / "manifest.json").read_text())
    assert set(manifest["parts"]) == {"0", "1", "2"}
    assert all(entry["outcomes"]["rows"] == 2 and len(entry["outcomes"]["sha256"]) == 64
               for entry in manifest["parts"].values())
    assert len(sweep_parts(reference[0], "outcomes")) == 3


@pytest.mark.parametrize("damage", [
    lambda p: p.write_bytes(p.read_bytes()[: len(p.read_bytes()) // 2]),  # truncated
    lambda p: p.write_bytes(b"garbage" * 50),                             # not Parquet at all
    lambda p: p.unlink(),                                                  # gone
])
def test_a_damaged_part_is_refused_on_read_and_recomputed_on_resume(reference, tmp_path, damage):
    out = _copy(reference, tmp_path)
    damage(out / "outcomes.parquet" / "part-00001.parquet")
    with pytest.raises(InputError, match="part-00001.parquet is missing or damaged"):
        read_sweep(out, "outcomes")
    messages = []
    design = Design.build("lhs", load_params(), 6, seed=1, chunk_size=2)
    run_sweep(design, [("base", load_params())], out, days=30, workers=1, progress=False, log=messages.append)
    assert any("resuming: 2 of 3" in m for m in messages)
    pd.testing.assert_frame_equal(read_sweep(out, "outcomes"), reference[1])


def test_a_foreign_or_duplicated_part_is_refused(reference, tmp_path):
    out = _copy(reference, tmp_path)
    stray = out / "outcomes.parquet" / "part-00007.parquet"
    shutil.copy(out / "outcomes.parquet" / "part-00000.parquet", stray)
    with pytest.raises(InputError, match="part-00007.parquet is not part of the sweep"):
        read_sweep(out, "outcomes")
    with pytest.raises(InputError, match="part-00007.parquet is not part of the sweep"):
        _sweep(out)
    stray.unlink()
    pd.testing.assert_frame_equal(read_sweep(out, "outcomes"), reference[1])


@pytest.mark.parametrize("text", ["[1, 2, 3]", '{"settings": 5}', "{not json"])
def test_a_manifest_of_the_wrong_shape_is_refused_cleanly(reference, tmp_path, text):
    out = _copy(reference, tmp_path)
    (out / "manifest.json").write_text(text)
    with pytest.raises(InputError, match="manifest"):
        _sweep(out)


def test_only_one_writer_at_a_time(tmp_path):
    out = tmp_path / "busy"
    out.mkdir()
    sleeper = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])
    try:
        (out / ".lock").write_text(f"{sleeper.pid} {os.uname().nodename}")
        with pytest.raises(InputError, match="is being written by another sweep"):
            _sweep(out)
    finally:
        sleeper.kill()
        sleeper.wait()
    _sweep(out)  # the lock's owner is dead: taken over
    assert not (out / ".lock").exists() and len(read_sweep(out, "outcomes")) == 6


def test_two_sweeps_started_together_never_mix(tmp_path):
    """Two CLI sweeps with different seeds into one new directory: one writes, the other is
    refused; the directory then holds one sweep, whole."""
    out = tmp_path / "race"
    args = [sys.executable, "-m", "sanctions_model.cli", "sweep", "-n", "40", "--chunk-size", "4", "--days", "60",
            "--workers", "1", "--out", str(out)]
    procs = [subprocess.Popen([*args, "--seed", str(seed)], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                              text=True) for seed in (1, 2)]
    results = [p.communicate(timeout=300) for p in procs]
    codes = sorted(p.returncode for p in procs)
    assert codes == [0, 2], results
    loser = results[[p.returncode for p in procs].index(2)][1]
    assert "another sweep" in loser or "different settings" in loser or "not empty" in loser, loser
    manifest = json.loads((out / "manifest.json").read_text())
    assert manifest["complete"] and len(read_sweep(out, "outcomes")) == 40
