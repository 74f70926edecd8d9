"""Provenance: the commit a result names is marked dirty by uncommitted inputs, not by the command's own outputs."""

from __future__ import annotations

import subprocess

from sanctions_model import provenance


def _git(status: str):
    """A stand-in for ``subprocess.run`` answering git as a tree at /repo with ``status`` would."""

    def run(args, **kwargs):
        out = "/repo\n0123456789ab\n" if args[1] == "rev-parse" else status
        return subprocess.CompletedProcess(args, 0, stdout=out, stderr="")

    return run


def test_the_files_a_command_wrote_do_not_make_the_tree_dirty(monkeypatch):
    ensemble = "/repo/params/constrained-ensemble.parquet"
    monkeypatch.setattr(provenance.subprocess, "run", _git(" M params/constrained-ensemble.parquet\n"))
    assert provenance.git_commit() == "0123456789ab-dirty"
    assert provenance.git_commit([ensemble]) == "0123456789ab"
    assert provenance.record({}, "cmd", [ensemble])["git commit"] == "0123456789ab"
    # any other change still does
    monkeypatch.setattr(provenance.subprocess, "run",
                        _git(" M params/constrained-ensemble.parquet\n M sanctions_model/core/model.py\n"))
    assert provenance.git_commit([ensemble]) == "0123456789ab-dirty"
    monkeypatch.setattr(provenance.subprocess, "run", _git(""))
    assert provenance.git_commit() == "0123456789ab"


def test_without_git_the_commit_is_unknown(monkeypatch):
    def missing(*args, **kwargs):
        raise FileNotFoundError("git")

    monkeypatch.setattr(provenance.subprocess, "run", missing)
    assert provenance.git_commit() == "unknown"
