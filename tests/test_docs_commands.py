"""Every command and code block of the README and the user guide runs as written.

Shell blocks run line by line (backslash continuations joined) with the test environment's
``bin/`` first on PATH, so ``sanctions-model``, ``.venv/bin/sanctions-model`` and
``papermill`` are the installed ones; Python blocks of one document run in order in one
interpreter, as a reader pasting them into a notebook would. Each document runs in a fresh
folder (with ``examples/`` beside it), so that its ``out/...`` paths start empty.

Not run, each for a stated reason: ``make`` lines (``make test`` is this suite, run by CI;
``make report`` runs the same ``report`` and ``backtest`` commands that tests/test_reports.py
checks the committed output of) and any block right after an HTML comment
``<!-- not run: REASON -->`` (a Dask cluster's address, a 25-minute calibration).
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
DOCUMENTS = ("README.md", "docs/guide.md")
BLOCK = re.compile(r"(?P<skip><!-- not run: (?P<why>[^>]*?) -->\s*\n)?```(?P<lang>\w*)\n(?P<body>.*?)```", re.S)


INLINE = re.compile(r"`(sanctions-model [^`]+)`")


def inline_commands(document: str) -> list[str]:
    """Complete ``sanctions-model`` commands quoted in the text (not placeholders with ... or DIR,
    nor calibrate, which takes a minute or two and writes the project's calibration)."""
    text = " ".join((ROOT / document).read_text().split())
    return [c for c in INLINE.findall(text)
            if "..." not in c and "DIR" not in c and not c.startswith("sanctions-model calibrate")]


def blocks(document: str) -> list[tuple[str, str, str | None]]:
    """(language, body, reason it is not run or None) for every fenced block of ``document``."""
    text = (ROOT / document).read_text()
    return [(m["lang"], m["body"], m["why"]) for m in BLOCK.finditer(text)]


def shell_commands(body: str) -> list[str]:
    """The commands of a shell block: continuations joined, comments and ``make`` lines dropped."""
    joined = re.sub(r"\\\n\s*", " ", body)
    commands = []
    for line in joined.splitlines():
        line = re.sub(r"\s+#\s.*$", "", line).strip()
        if line and not line.startswith("#") and not line.startswith("make "):
            commands.append(line)
    return commands


def _environment() -> dict[str, str]:
    bin_dir = str(Path(sys.executable).parent)
    env = {k: v for k, v in os.environ.items() if not k.startswith("SANCTIONS_MODEL_")}
    env.update(PATH=f"{bin_dir}{os.pathsep}{env.get('PATH', '')}", MPLBACKEND="Agg")
    return env


def _workdir(tmp_path: Path) -> Path:
    work = tmp_path / "reader"
    work.mkdir()
    (work / "examples").symlink_to(ROOT / "examples")
    (work / ".venv").mkdir()
    (work / ".venv" / "bin").symlink_to(Path(sys.executable).parent)
    return work


@pytest.mark.slow
@pytest.mark.parametrize("document", DOCUMENTS)
def test_every_documented_command_and_code_block_runs(document, tmp_path):
    work = _workdir(tmp_path)
    env = _environment()
    found = blocks(document)
    assert found, f"{document} has no code blocks"
    skipped = [(lang, why) for lang, _, why in found if why is not None]
    assert all(why.strip() for _, why in skipped)
    python = []
    ran = 0
    toml: list[str] = []
    for command in inline_commands(document):
        res = subprocess.run(command, shell=True, cwd=work, env=env, capture_output=True, text=True, timeout=600)
        assert res.returncode == 0, f"{document}: `{command}` failed:\n{res.stderr[-3000:]}"
        ran += 1
    for lang, body, why in found:
        if why is not None:
            continue
        if lang in ("sh", "bash", "shell"):
            for command in shell_commands(body):
                started = time.perf_counter()
                res = subprocess.run(command, shell=True, cwd=work, env=env, capture_output=True, text=True,
                                     timeout=600)
                print(f"{time.perf_counter() - started:6.1f} s  {command}")
                assert res.returncode == 0, f"{document}: `{command}` failed:\n{res.stderr[-3000:]}"
                ran += 1
        elif lang == "python":
            python.append(textwrap.dedent(body))
        elif lang == "toml":  # a scenario file, or further tables of the one before it
            if "title =" in body or not toml:
                toml.append(body)
            else:
                toml[-1] += "\n" + body
    for i, text in enumerate(toml):
        path = work / f"scenario-{i}.toml"
        path.write_text(text)
        command = f"sanctions-model run --scenario {path.name} --days 60 --unconstrained --out out/toml-{i}"
        res = subprocess.run(command, shell=True, cwd=work, env=env, capture_output=True, text=True, timeout=600)
        assert res.returncode == 0, f"{document}: its TOML example {i + 1} does not run:\n{res.stderr[-3000:]}"
        ran += 1
    if python:
        # given with -c, as a notebook's kernel runs cells: no main file for spawned workers to import
        # again (a script would need `if __name__ == "__main__":`, which notebooks do not)
        res = subprocess.run([sys.executable, "-c", "\n\n".join(python)], cwd=work, env=env,
                             capture_output=True, text=True, timeout=900)
        assert res.returncode == 0, f"{document}: a Python block failed:\n{res.stderr[-3000:]}"
        ran += 1
    assert ran >= 3


def test_blocks_marked_not_run_are_few_and_say_why():
    for document in DOCUMENTS:
        marked = [why for _, _, why in blocks(document) if why is not None]
        assert len(marked) <= 2, (document, marked)
        assert all(len(why.split()) >= 3 for why in marked), marked


def test_every_subcommand_help_ends_with_an_example_that_parses():
    import shlex

    from sanctions_model.cli import build_parser

    parser = build_parser()
    sub = next(a for a in parser._actions if a.dest == "command").choices  # type: ignore[attr-defined]
    for name, command in sub.items():
        text = command.format_help().rstrip()
        last = text.splitlines()[-1].strip()
        assert last.startswith("sanctions-model " + name), (name, last)
        parser.parse_args(shlex.split(last)[1:])  # a usage error would raise InputError


def test_counts_in_docs_and_help_are_the_computed_ones():
    from sanctions_model.cli import build_parser
    from sanctions_model.inputs.params import load_params
    from sanctions_model.runs.designs import uncertainties

    k = len(uncertainties(load_params()))
    texts = {p: (ROOT / p).read_text() for p in ("README.md", "docs/guide.md", "docs/sweeps.md", "docs/reports.md")}
    sub = next(a for a in build_parser()._actions if a.dest == "command").choices  # type: ignore[attr-defined]
    texts["report --help"] = sub["report"].format_help()
    for where, text in texts.items():
        flat = " ".join(text.split())
        for number in re.findall(r"(\d[\d,]*) (?:uncertain(?:ties| parameters)|varied parameters)", flat):
            assert int(number.replace(",", "")) == k, (where, number, k)
        for number in re.findall(r"(\d[\d,]*) one-at-a-time runs", flat):
            assert int(number.replace(",", "")) == 1 + 2 * k, (where, number)
    assert f"{1024 * (k + 2):,} runs" in " ".join(texts["report --help"].split())
