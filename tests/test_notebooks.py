"""The example notebooks run top to bottom through a real Jupyter kernel, at small sizes.

Each notebook has a cell tagged ``parameters`` (papermill's convention); the test inserts
its own settings after it, as papermill does, so the notebooks also prove that they can be
run with other settings.
"""

from __future__ import annotations

from pathlib import Path

import pytest

nbformat = pytest.importorskip("nbformat")
nbclient = pytest.importorskip("nbclient")

EXAMPLES = Path(__file__).resolve().parent.parent / "examples"
SMALL = {
    "01_quickstart.ipynb": 'scenario = "easy_way"\ndays = 400',
    "02_sweep_and_sensitivity.ipynb": "n_samples = 40\nworkers = 2\nsobol_n = 16\nmorris_n = 4",
    "03_reproduce_report.ipynb": "",  # the committed size: about 10 s, and the check is the point
}


def _run(name: str, tmp_path: Path) -> nbformat.NotebookNode:
    book = nbformat.read(EXAMPLES / name, as_version=4)
    tagged = [i for i, cell in enumerate(book.cells) if "parameters" in cell.metadata.get("tags", [])]
    assert len(tagged) == 1, f"{name} needs exactly one cell tagged 'parameters'"
    if SMALL[name]:
        injected = nbformat.v4.new_code_cell(SMALL[name])
        injected.metadata["tags"] = ["injected-parameters"]
        book.cells.insert(tagged[0] + 1, injected)
    client = nbclient.NotebookClient(book, timeout=600, kernel_name="python3",
                                     resources={"metadata": {"path": str(tmp_path)}})
    client.execute()
    return book


def _outputs(book: nbformat.NotebookNode) -> list[dict]:
    return [out for cell in book.cells if cell.cell_type == "code" for out in cell.get("outputs", [])]


@pytest.mark.parametrize("name", sorted(SMALL))
def test_notebook_runs_top_to_bottom(name, tmp_path):
    assert (EXAMPLES / name).is_file()
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
    text = "".join(o.get("text", "") for o in outputs)
    if name == "01_quickstart.ipynb":
        assert "must be between" in text or "outside" in text, "the bad override prints a clear error"
    if name == "02_sweep_and_sensitivity.ipynb":
        assert (tmp_path / "sweep-lhs" / "manifest.json").is_file(), "the sweep ran with local workers"
    if name == "03_reproduce_report.ipynb":
        assert "the committed table is reproduced exactly" in text


def test_notebooks_are_committed_without_outputs():
    for path in EXAMPLES.glob("*.ipynb"):
        book = nbformat.read(path, as_version=4)
        assert all(not cell.get("outputs") for cell in book.cells if cell.cell_type == "code"), path.name
