"""Exercises: every reference passes its own check, every recorded mistake fails with its hint, an undone one says so."""
import math

import nbformat
import pytest
import torch

from course_lib import exercises as ex

ex._load()
IDS = sorted(ex.REGISTRY, key=ex._order)


@pytest.mark.parametrize("eid", IDS)
def test_the_solution_passes_and_the_stub_says_not_done_yet(eid, monkeypatch):
    monkeypatch.delenv(ex.STRICT_VAR, raising=False)
    e = ex.REGISTRY[eid]
    assert ex.check(eid, e.solution, **e.context).passed, ex.check(eid, e.solution, **e.context)
    assert ex.check(eid, ..., **e.context).status == "not done"
    if e.kind == "implement":
        def stub(*args):
            raise NotImplementedError("your code here")
        assert ex.check(eid, stub).status == "not done"


@pytest.mark.parametrize("eid", IDS)
def test_every_recorded_wrong_answer_fails_with_its_hint(eid, monkeypatch):
    monkeypatch.delenv(ex.STRICT_VAR, raising=False)
    e = ex.REGISTRY[eid]
    assert e.wrong, f"exercise {eid} records no plausible wrong answer"
    for answer, hint in e.wrong:
        r = ex.check(eid, answer, **e.context)
        assert r.status == "wrong" and hint[:40] in r.message, (eid, hint[:40], repr(r))


@pytest.mark.parametrize("eid", [i for i in IDS if ex.REGISTRY[i].kind == "implement"])
def test_a_constant_answer_fails(eid, monkeypatch):
    monkeypatch.delenv(ex.STRICT_VAR, raising=False)
    assert ex.check(eid, lambda *a: 0.3).status == "wrong"


def test_strict_mode_raises_on_anything_but_a_pass(monkeypatch):
    monkeypatch.setenv(ex.STRICT_VAR, "strict")
    with pytest.raises(ex.ExerciseFailed, match="not yet right"):
        ex.check("7.1", lambda r, f, m: r.mean())
    with pytest.raises(ex.ExerciseFailed, match="not done yet"):
        ex.check("7.1", ...)
    assert ex.check("7.1", ex.REGISTRY["7.1"].solution).passed


def test_the_ebgan_hint_names_the_hinge_on_the_batch_mean(monkeypatch):
    monkeypatch.delenv(ex.STRICT_VAR, raising=False)
    r = ex.check("7.1", lambda e_real, e_fake, m: e_real.mean() + torch.relu(m - e_fake.mean()))
    assert "each generated sample, not to the batch mean" in repr(r) and "expected" in repr(r)


def test_a_student_function_that_raises_is_told_where():
    r = ex.check("3.1", lambda mu, logvar, eps: mu @ eps)
    assert r.status == "wrong" and "raised" in r.message


def test_an_unknown_exercise_lists_the_known_ones():
    with pytest.raises(KeyError, match="7.1"):
        ex.check("99.9", 1)


def test_student_source_replaces_solutions_by_stubs_and_keeps_the_rest():
    src = ("def f(x):\n    ### BEGIN SOLUTION\n    return 2 * x\n    ### END SOLUTION\n\ncheck('1.1', f)\n"
           "### BEGIN SOLUTION\n# STUB: guess = ...\nguess = 0.5\n### END SOLUTION")
    out = ex.student_source(src)
    assert out == "def f(x):\n    raise NotImplementedError(\"your code here\")\n\ncheck('1.1', f)\nguess = ..."
    assert ex.solution_lines(src) == ["return 2 * x", "guess = 0.5"]
    assert ex.solution_source(src) == "def f(x):\n    return 2 * x\n\ncheck('1.1', f)\nguess = 0.5"
    with pytest.raises(ValueError, match="without"):
        ex.student_source("x = 1\n### BEGIN SOLUTION\nx = 2")


def test_the_student_edition_holds_no_solution_line(tmp_path):
    from pathlib import Path
    root = Path(__file__).resolve().parents[1]
    sources = sorted((root / "notebooks").glob("[0-9][0-9]_*.ipynb"))
    written = ex.write_student_edition(sources, tmp_path)
    with_solutions = 0
    for src, out in zip(sources, written):
        nb, st = nbformat.read(src, as_version=4), nbformat.read(out, as_version=4)
        code = "\n".join(c.source for c in st.cells if c.cell_type == "code")
        solutions = [l for c in nb.cells if c.cell_type == "code" for l in ex.solution_lines(c.source)]
        with_solutions += bool(solutions)
        for line in solutions:
            assert line not in code, f"{out.name}: the solution line {line!r} is in the student edition"
        assert ex.BEGIN not in code and ex.END not in code
        assert st.metadata["course_edition"] == "student"
        assert nb.metadata["jupytext"]["formats"] == "ipynb,py:percent" and "jupytext" not in st.metadata  # no .py twin
    assert with_solutions >= 1


# ---------------------------------------------------------------- the notebooks' exercises (instructor edition)
import ast
import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
CHECK = re.compile(r'^check\("([0-9]+\.[0-9]+)"', re.M)


def _notebook_exercises():
    """(notebook name, exercise id, solution cell source) for every exercise in the notebooks."""
    found = []
    for path in sorted((ROOT / "notebooks").glob("[0-9][0-9]_*.ipynb")):
        cells = [c.source for c in nbformat.read(path, as_version=4).cells if c.cell_type == "code"]
        for i, src in enumerate(cells):
            for eid in CHECK.findall(src):
                # the solution sits in the check's cell or, for a prediction made before the run, in an earlier
                # cell that assigns the name the check is given
                var = re.search(rf'^check\("{re.escape(eid)}", (\w+)', src, re.M).group(1)
                sol = src if ex.BEGIN in src else next(c for c in reversed(cells[:i])
                                                       if ex.BEGIN in c and re.search(rf"^{var} = ", c, re.M))
                found.append((path.name, eid, sol))
    return found


NOTEBOOK_EXERCISES = _notebook_exercises()


def test_every_exercise_is_in_exactly_one_notebook_of_its_chapter():
    where = {}
    for name, eid, _ in NOTEBOOK_EXERCISES:
        where.setdefault(eid, []).append(name)
        assert int(name[:2]) == int(eid.split(".")[0]), f"exercise {eid} sits in {name}"
    assert sorted(where, key=ex._order) == IDS, "every exercise of the bank is in a notebook and no notebook checks an unknown one"
    assert all(len(v) == 1 for v in where.values()), where


@pytest.mark.parametrize("name,eid,source", NOTEBOOK_EXERCISES, ids=[f"{e}" for _, e, _ in NOTEBOOK_EXERCISES])
def test_every_notebook_solution_passes_its_check(name, eid, source, monkeypatch):
    monkeypatch.setenv(ex.STRICT_VAR, "strict")  # a failing solution raises
    e = ex.REGISTRY[eid]
    if e.kind == "implement":  # the cell defines the function and checks it: run it as it stands
        exec(compile(source, f"{name}: exercise {eid}", "exec"), {"torch": torch, "math": math, "check": ex.check})
    else:  # a prediction: the value the solution writes down, against the bank's example run
        region = source[source.index(ex.BEGIN):source.index(ex.END)]
        value = next(ast.literal_eval(node.value) for node in ast.parse(region.replace(ex.BEGIN, "")).body
                     if isinstance(node, ast.Assign))
        assert ex.check(eid, value, **e.context).passed
        assert re.search(r"^# STUB: \w+ = \.\.\.$", region, re.M), "a prediction's stub leaves the value to the student: `x = ...`"


def test_every_chapter_has_at_least_three_exercises_and_the_course_fifty_of_all_three_kinds():
    per_chapter = {}
    for name, eid, _ in NOTEBOOK_EXERCISES:
        per_chapter.setdefault(name, []).append(eid)
    chapters = sorted((ROOT / "notebooks").glob("[0-9][0-9]_*.ipynb"))
    assert {p.name for p in chapters} == set(per_chapter), "a chapter without exercises"
    assert all(len(v) >= 3 for v in per_chapter.values()), {k: len(v) for k, v in per_chapter.items()}
    assert len(IDS) >= 50
    assert {ex.REGISTRY[i].kind for i in IDS} == set(ex.KINDS)


def test_an_answer_that_names_no_option_is_told_the_options(monkeypatch):
    monkeypatch.delenv(ex.STRICT_VAR, raising=False)
    r = ex.check("7.3", "most of it", actual=0.91)
    assert r.status == "wrong" and "answer with one of" in r.message and "over three quarters" in r.message
    assert "answer with one of" not in ex.check("7.3", "about half", actual=0.91).message
