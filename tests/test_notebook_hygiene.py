"""Every notebook has its jupytext twin in sync, is stored without outputs, and opens with the setup cell."""
from pathlib import Path

import jupytext
import nbformat
import pytest
import torch

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


@pytest.mark.parametrize("profile", ["test", "real", "full"])
@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_every_profile_is_accepted_by_every_notebooks_setup_cell(path, profile, monkeypatch, capsys):
    """The setup cell (imports and setup_notebook) runs in each profile: `full` is accepted wherever `real` is."""
    monkeypatch.setenv("COURSE_PROFILE", profile)
    monkeypatch.setenv("COURSE_DEVICE", "cpu")
    monkeypatch.chdir(NB_DIR)
    code = next(c.source for c in nbformat.read(path, as_version=4).cells if c.cell_type == "code" and "setup_notebook(" in c.source)
    scope, threads = {}, torch.get_num_threads()
    try:
        exec(compile(code, f"{path.name}:setup", "exec"), scope)
    finally:
        torch.set_num_threads(threads)   # setup_notebook picks the thread count for a notebook, not for the tests
    assert f"profile={profile}" in capsys.readouterr().out
    assert type(scope["S"]).__name__ == "Settings"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_every_cell_carries_its_slide_type(path):
    """Each notebook presents as a deck (RISE in JupyterLab, `make slides`): every cell says how (`make slides-tag`)."""
    from course_lib import slides

    nb = nbformat.read(path, as_version=4)
    wrong = [i for i, c in enumerate(nb.cells) if c.metadata.get("slideshow", {}).get("slide_type") != slides.slide_type(c, i == 0)]
    assert not wrong, f"{path.name}: cells {wrong} lack their slide type: run `make slides-tag`, then `make sync`"
    kinds = [c.metadata["slideshow"]["slide_type"] for c in nb.cells]
    assert kinds[0] == "slide" and kinds.count("slide") >= 3


def test_no_section_heading_hides_in_a_code_cell():
    """A '## ' section written as comments in a code cell renders as code: each section opens a Markdown cell."""
    for path in NOTEBOOKS:
        for i, c in enumerate(nbformat.read(path, as_version=4).cells):
            if c.cell_type == "code":
                assert not any(l.startswith("# ## ") for l in c.source.splitlines()), f"{path.name} cell {i}"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_every_notebook_states_its_question(path):
    """The course index shows each chapter's question in one line: it comes from the '**Question.**' paragraph."""
    nb = nbformat.read(path, as_version=4)
    assert any("**Question.**" in c.source for c in nb.cells[:2] if c.cell_type == "markdown"), path.name


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_every_chapter_ends_with_what_we_saw_its_references_and_the_next_chapter(path):
    """The close of a chapter, in this order: '## What we saw', '**References.**', and a link to the next chapter
    (a file that exists), except after the last chapter."""
    cells = nbformat.read(path, as_version=4).cells
    md = [(i, c.source) for i, c in enumerate(cells) if c.cell_type == "markdown"]
    saw = [i for i, s in md if s.lstrip().startswith("## What we saw")]
    refs = [i for i, s in md if s.lstrip().startswith("**References.**")]
    assert saw and refs and saw[-1] < refs[-1], f"{path.name}: needs a '## What we saw' section, then '**References.**'"
    if path != NOTEBOOKS[-1]:
        nxt = NOTEBOOKS[NOTEBOOKS.index(path) + 1].name
        links = [i for i, s in md if any(line.startswith("Next: [") and f"]({nxt})" in line for line in s.splitlines())]
        assert links and links[-1] >= refs[-1], f"{path.name}: it should close with 'Next: [chapter ...]({nxt})'"
