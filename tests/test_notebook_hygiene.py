"""Every notebook has its jupytext twin in sync, is stored without outputs, and opens with the setup cell."""
from pathlib import Path

import jupytext
import nbformat
import pytest

NB_DIR = Path(__file__).resolve().parents[1] / "notebooks"
NOTEBOOKS = sorted(NB_DIR.glob("[0-9][0-9]_*.ipynb"))
TWINS = sorted(NB_DIR.glob("[0-9][0-9]_*.py"))


def _cells(nb):
    return [(c.cell_type, c.source.strip()) for c in nb.cells]


def test_there_are_notebooks_and_every_py_twin_has_its_notebook():
    assert NOTEBOOKS, "no notebooks found"
    assert {p.stem for p in TWINS} == {p.stem for p in NOTEBOOKS}


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_notebook_matches_its_jupytext_twin(path):
    twin = path.with_suffix(".py")
    assert twin.exists(), f"{path.name} has no jupytext twin {twin.name}"
    a, b = _cells(nbformat.read(path, as_version=4)), _cells(jupytext.read(twin))
    assert a == b, f"{path.name} and {twin.name} differ: run `make sync` (the .py is the source)"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_notebook_is_stored_without_outputs(path):
    nb = nbformat.read(path, as_version=4)
    dirty = [i for i, c in enumerate(nb.cells) if c.cell_type == "code" and (c.outputs or c.execution_count)]
    assert not dirty, f"{path.name}: cells {dirty} hold outputs; store notebooks cleared (`make sync`)"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_notebook_starts_with_setup_and_checks_some_output(path):
    nb = nbformat.read(path, as_version=4)
    code = [c.source for c in nb.cells if c.cell_type == "code"]
    assert any("setup_notebook(" in s for s in code[:2]), f"{path.name}: the first code cells must call setup_notebook"
    assert any("# NBVAL_CHECK_OUTPUT" in s for s in code), f"{path.name}: mark deterministic cells with # NBVAL_CHECK_OUTPUT"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_notebook_and_its_twin_name_a_kernel(path):
    """JupyterLab opens a notebook without asking only when it names its kernel (the course's: python3)."""
    for name, meta in ((path.name, nbformat.read(path, as_version=4).metadata),
                       (path.with_suffix(".py").name, jupytext.read(path.with_suffix(".py")).metadata)):
        spec = meta.get("kernelspec", {})
        assert spec.get("name") == "python3", f"{name} names no python3 kernel: run `jupytext --set-kernel python3` on the .py, then `make sync`"


def test_a_warning_from_course_lib_in_a_cell_output_fails_the_cell(pytester):
    """The root conftest's hook fails a cell that prints a course_lib warning, and only that cell."""
    root_conftest = Path(__file__).resolve().parents[1] / "conftest.py"
    pytester.makeconftest(root_conftest.read_text())
    nb = nbformat.v4.new_notebook(metadata={"kernelspec": {"name": "python3", "display_name": "Python 3",
                                                             "language": "python"}})
    nb.cells = [
        nbformat.v4.new_code_cell("import warnings\nwarnings.simplefilter('always')\nprint('quiet')"),
        nbformat.v4.new_code_cell("warnings.warn_explicit('overflow in exp', RuntimeWarning, "
                                  "'/somewhere/course_lib/plots.py', 12)"),
        nbformat.v4.new_code_cell("warnings.warn_explicit('not ours', UserWarning, '/somewhere/else/lib.py', 3)"),
    ]
    nbformat.write(nb, pytester.path / "probe.ipynb")
    result = pytester.runpytest_subprocess("--nbval-lax", "--nbval-current-env", "-p", "no:cacheprovider", "probe.ipynb")
    result.assert_outcomes(passed=2, failed=1)
    result.stdout.fnmatch_lines(["*course_lib/plots.py:12: RuntimeWarning: overflow in exp*"])
