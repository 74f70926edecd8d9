"""The example notebooks run top to bottom through a real Jupyter kernel, at small sizes.

Each notebook has a cell tagged ``parameters`` (papermill's convention); the test inserts
its own settings after it, as papermill does, so the notebooks also prove that they can be
run with other settings. One test runs a notebook through papermill itself.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

import sanctions_model as sm

nbformat = pytest.importorskip("nbformat")
nbclient = pytest.importorskip("nbclient")

EXAMPLES = Path(__file__).resolve().parent.parent / "examples"
REPORT = Path(__file__).resolve().parent.parent / "reports" / "analysis"
SMALL = {
    "01_quickstart.ipynb": 'scenario = "easy_way"\ndays = 400',
    "02_sweep_and_sensitivity.ipynb": "n_samples = 40\nworkers = 2\nsobol_n = 16\nmorris_n = 4",
    # the committed size (about 10 s): the check against the committed table is the point
    "03_reproduce_report.ipynb": f"report_dir = {str(REPORT)!r}",
}
KERNEL = "python3"
TIMEOUT = 600
#: What a notebook may import from the package: the top level and the documented modules.
PUBLIC_MODULES = {"sensitivity", "ensemble", "sweep", "history", "backtest", "calibrate"}


def _run(name: str, tmp_path: Path, settings: str | None = None) -> nbformat.NotebookNode:
    book = nbformat.read(EXAMPLES / name, as_version=4)
    tagged = [i for i, cell in enumerate(book.cells) if "parameters" in cell.metadata.get("tags", [])]
    assert len(tagged) == 1, f"{name} needs exactly one cell tagged 'parameters'"
    settings = SMALL[name] if settings is None else settings
    if settings:
        injected = nbformat.v4.new_code_cell(settings)
        injected.metadata["tags"] = ["injected-parameters"]
        book.cells.insert(tagged[0] + 1, injected)
    client = nbclient.NotebookClient(book, timeout=TIMEOUT, kernel_name=KERNEL,
                                     resources={"metadata": {"path": str(tmp_path)}})
    client.execute()
    return book


def _outputs(book: nbformat.NotebookNode) -> list[dict]:
    return [out for cell in book.cells if cell.cell_type == "code" for out in cell.get("outputs", [])]


def _text(book: nbformat.NotebookNode) -> str:
    return "".join(o.get("text", "") + "".join(o.get("data", {}).get("text/plain", "")) for o in _outputs(book))


@pytest.mark.parametrize("name", sorted(SMALL))
def test_notebook_runs_top_to_bottom(name, tmp_path, monkeypatch):
    assert (EXAMPLES / name).is_file()
    monkeypatch.setenv("TMPDIR", str(tmp_path))  # the kernel's temporary folder, for notebook 02's default
    book = _run(name, tmp_path)
    outputs = _outputs(book)
    assert not [o for o in outputs if o.get("output_type") == "error"]
    kinds = {key for o in outputs for key in o.get("data", {})}
    assert "text/html" in kinds, "rich display of results and tables"
    if name != "03_reproduce_report.ipynb":
        assert "image/png" in kinds, "figures show inline"
    for cell in book.cells:  # .plot() returns a Figure that shows itself, with no pyplot call
        if cell.cell_type == "code" and cell.source.strip().endswith(".plot()") or ".plot(\"" in cell.source:
            assert any("image/png" in o.get("data", {}) for o in cell.outputs), cell.source
    text = _text(book)
    if name == "01_quickstart.ipynb":
        assert "must be between" in text or "outside" in text, "the bad override prints a clear error"
    if name == "02_sweep_and_sensitivity.ipynb":
        made = [p for p in tmp_path.glob("sweep-lhs-*") if (p / "manifest.json").is_file()]
        assert len(made) == 1, "the sweep ran with local workers, in a new temporary directory"
    if name == "03_reproduce_report.ipynb":
        assert "the committed table is reproduced exactly" in text


def test_sweep_notebook_leaves_a_users_files_alone(tmp_path):
    """Given a folder that holds a user's files, notebook 02 adds a new sweep directory and touches nothing else."""
    mine = tmp_path / "my-work"
    (mine / "sweep-lhs").mkdir(parents=True)
    (mine / "notes.txt").write_text("my notes")
    (mine / "sweep-lhs" / "keep.csv").write_text("a,b\n1,2\n")
    _run("02_sweep_and_sensitivity.ipynb", tmp_path,
         SMALL["02_sweep_and_sensitivity.ipynb"] + f"\nout_dir = {str(mine)!r}\nn_samples = 12")
    assert (mine / "notes.txt").read_text() == "my notes"
    assert (mine / "sweep-lhs" / "keep.csv").read_text() == "a,b\n1,2\n"
    made = [p for p in mine.iterdir() if p.name not in ("notes.txt", "sweep-lhs")]
    assert len(made) == 1 and made[0].name.startswith("sweep-lhs-") and (made[0] / "manifest.json").is_file()
    assert len(sm.open_sweep(made[0]).samples) == 12


def test_report_notebook_runs_without_the_committed_report(tmp_path):
    """Outside a clone (no reports/ folder) notebook 03 computes the table and says it cannot check it."""
    book = _run("03_reproduce_report.ipynb", tmp_path, "samples = 16\nreport_dir = None")
    assert not [o for o in _outputs(book) if o.get("output_type") == "error"]
    text = _text(book)
    assert "no comparison" in text and "no committed report" in text
    assert "reproduced exactly" not in text


def test_quickstart_runs_through_papermill(tmp_path):
    """As the user guide's papermill line does, through papermill's Python API, with parameters."""
    papermill = pytest.importorskip("papermill")
    out = tmp_path / "out.ipynb"
    papermill.execute_notebook(str(EXAMPLES / "01_quickstart.ipynb"), str(out),
                               parameters={"scenario": "easy_way", "days": 365}, kernel_name=KERNEL,
                               cwd=str(tmp_path), progress_bar=False, execution_timeout=TIMEOUT)
    book = nbformat.read(out, as_version=4)
    injected = [c for c in book.cells if "injected-parameters" in c.metadata.get("tags", [])]
    assert len(injected) == 1 and 'scenario = "easy_way"' in injected[0].source and "days = 365" in injected[0].source
    assert not [o for o in _outputs(book) if o.get("output_type") == "error"]
    text = _text(book)
    assert "RunResult easy_way: 365 days" in text, "the run used papermill's parameters"


def _imports(tree: ast.AST) -> list[tuple[str, list[str]]]:
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and node.module:
            found.append((node.module, [a.name for a in node.names]))
        elif isinstance(node, ast.Import):
            found += [(a.name, []) for a in node.names]
    return found


@pytest.mark.parametrize("name", sorted(SMALL))
def test_notebooks_use_only_the_public_api(name):
    book = nbformat.read(EXAMPLES / name, as_version=4)
    for cell in book.cells:
        if cell.cell_type != "code":
            continue
        tree = ast.parse(cell.source)
        for module, names in _imports(tree):
            if module == "sanctions_model":
                assert all(n in sm.__all__ or n in PUBLIC_MODULES for n in names), (name, module, names)
            elif module.startswith("sanctions_model."):
                assert module.split(".")[1] in PUBLIC_MODULES and len(module.split(".")) == 2, (name, module)
            assert not any(n.startswith("_") for n in names), (name, module, names)
        for node in ast.walk(tree):
            if isinstance(node, ast.Attribute) and node.attr.startswith("_") and node.attr != "__version__":
                pytest.fail(f"{name}: uses the private {node.attr}: {cell.source}")
            if isinstance(node, ast.Name) and node.id == "__file__":
                pytest.fail(f"{name}: finds files through the package's location: {cell.source}")


def test_notebooks_are_committed_without_outputs():
    for path in EXAMPLES.glob("*.ipynb"):
        book = nbformat.read(path, as_version=4)
        assert all(not cell.get("outputs") for cell in book.cells if cell.cell_type == "code"), path.name
