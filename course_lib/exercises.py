"""Exercises with instant feedback: ``check(id, answer)`` says at once whether an answer is right, and if not, what is wrong.

Three kinds, as in the chapters:

* **implement**: write the function a section just explained; the check runs it and an independent
  reference (course_lib's own function, a closed form or a brute-force computation) on random inputs
  and edge cases, so that a constant, a transposed or a wrongly reduced answer fails. When the answer
  agrees with a known mistake on the failing case, the message is that mistake's hint.
* **predict**: write down a number or a choice *before* the experiment runs; the check compares it
  with what the run measured (passed as ``actual=``) and explains.
* **explore**: change a setting, rerun, and answer a question that the run decides (``actual=``).

An exercise not done yet (its answer is ``...`` or raises ``NotImplementedError``) says so and never
stops a notebook. With ``$COURSE_EXERCISES=strict`` (the instructor edition under test and in the
course build) any check that does not pass raises ``ExerciseFailed``: a broken solution fails CI.

Solutions sit between nbgrader's markers in the notebooks' .py twins (``### BEGIN SOLUTION`` /
``### END SOLUTION``); ``python -m course_lib.exercises student`` writes the student edition, where each
solution becomes a stub (``raise NotImplementedError(...)``, or the ``# STUB:`` line the region holds).
"""
from __future__ import annotations

import argparse
import math
import os
import re
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable

import torch

STRICT_VAR = "COURSE_EXERCISES"
BEGIN, END, STUB = "### BEGIN SOLUTION", "### END SOLUTION", "# STUB:"
KINDS = ("implement", "predict", "explore")


class ExerciseFailed(AssertionError):
    """A check that did not pass while ``$COURSE_EXERCISES=strict`` (the instructor edition must pass every check)."""


@dataclass
class Result:
    """The outcome of one check: ``status`` in {"passed", "not done", "wrong"} and the message shown to the student."""
    id: str
    status: str
    message: str

    @property
    def passed(self) -> bool:
        return self.status == "passed"

    def __repr__(self) -> str:
        head = {"passed": "passed", "not done": "not done yet", "wrong": "not yet right"}[self.status]
        return f"Exercise {self.id}: {head}. {self.message}"

    def __bool__(self) -> bool:
        return self.passed


@dataclass
class Exercise:
    """One exercise: ``grade(answer, **context) -> (status, message)``; ``wrong``: plausible wrong answers, each with
    a phrase its message must contain (CI checks it), and ``context``: an example run's values for checking those."""
    id: str
    kind: str
    title: str
    grade: Callable
    wrong: list = field(default_factory=list)
    context: dict = field(default_factory=dict)
    solution: Any = None  # for CI: an answer that passes with ``context``

    def __post_init__(self):
        if self.kind not in KINDS:
            raise ValueError(f"exercise {self.id}: kind must be one of {KINDS}, got {self.kind!r}")


REGISTRY: dict[str, Exercise] = {}


def _register(ex: Exercise) -> Exercise:
    if ex.id in REGISTRY:
        raise ValueError(f"exercise {ex.id} is defined twice")
    REGISTRY[ex.id] = ex
    return ex


def _not_done(answer) -> bool:
    return answer is ... or answer is None


def _fmt(v) -> str:
    if torch.is_tensor(v):
        v = v.detach().cpu()
        if v.numel() == 1:
            return f"{float(v):.4g}"
        flat = ", ".join(f"{float(a):.3g}" for a in v.flatten()[:4])
        return f"tensor of shape {tuple(v.shape)} starting [{flat}{', ...' if v.numel() > 4 else ''}]"
    if isinstance(v, float):
        return f"{v:.4g}"
    return repr(v)


def _close(a, b, tol: float) -> bool:
    if torch.is_tensor(b):
        if not torch.is_tensor(a):
            try:
                a = torch.as_tensor(a, dtype=b.dtype)
            except (TypeError, ValueError, RuntimeError):
                return False
        if a.shape != b.shape:
            return False
        a, b = a.detach().double().cpu(), b.detach().double().cpu()
        return bool(torch.allclose(a, b, rtol=tol, atol=tol, equal_nan=True))
    if isinstance(b, (int, float)):
        try:
            a = float(a)
        except (TypeError, ValueError, RuntimeError):
            return False
        return math.isclose(a, b, rel_tol=tol, abs_tol=tol)
    if isinstance(b, tuple):
        return isinstance(a, (tuple, list)) and len(a) == len(b) and all(_close(x, y, tol) for x, y in zip(a, b))
    return a == b


def _agrees(fn, args, got, tol: float):
    """True if ``fn(*args)`` equals ``got``, False if not, None if the mistake does not apply (it raises)."""
    try:
        return _close(got, fn(*args), tol)
    except Exception:
        return None


# ---------------------------------------------------------------- the three kinds
def implement(id: str, title: str, reference: Callable, cases: Callable, mistakes=(), tol: float = 1e-5) -> Exercise:
    """An exercise whose answer is a function, checked against ``reference`` on ``cases()``: [(description, args), ...].

    ``mistakes``: [(wrong_function, hint)]; a wrong answer that agrees with one of them on the failing case
    gets its hint. Every mistake is also a recorded wrong answer for CI.
    """
    def grade(answer, **_):
        if _not_done(answer):
            return "not done", "Write the function in the cell above (replace the `raise NotImplementedError`), run it, then this check."
        if not callable(answer):
            return "wrong", f"the answer should be a function, got {type(answer).__name__}"
        runs, first_wrong = [], None
        for desc, args in cases():
            want = reference(*args)
            try:
                got = answer(*[a.clone() if torch.is_tensor(a) else a for a in args])
            except NotImplementedError:
                return "not done", "Write the function in the cell above (replace the `raise NotImplementedError`), run it, then this check."
            except Exception as err:  # the student's code raised: say where
                return "wrong", f"on {desc} your function raised {type(err).__name__}: {err}"
            runs.append((desc, args, got))
            if first_wrong is None and not _close(got, want, tol):
                first_wrong = (desc, got, want)
        if first_wrong is not None:
            desc, got, want = first_wrong
            for wrong_fn, hint in mistakes:  # a known mistake that agrees with the answer on every case
                votes = [_agrees(wrong_fn, args, g, tol) for _, args, g in runs]
                if True in votes and False not in votes:
                    return "wrong", f"on {desc} you get {_fmt(got)}, expected {_fmt(want)}: {hint}"
            if torch.is_tensor(want) and torch.is_tensor(got) and got.shape != want.shape:
                return "wrong", f"on {desc} your result has shape {tuple(got.shape)}, expected {tuple(want.shape)}."
            return "wrong", f"on {desc} you get {_fmt(got)}, expected {_fmt(want)}."
        return "passed", f"{title}: right on every test case (random inputs and edge cases)."

    return _register(Exercise(id, "implement", title, grade, wrong=[(fn, hint) for fn, hint in mistakes],
                              solution=reference))


def predict(id: str, title: str, judge: Callable, explain: Callable, context: dict, solution, wrong=(),
            kind: str = "predict") -> Exercise:
    """An exercise whose answer is a prediction (or, ``kind="explore"``, an answer the run decides).

    ``judge(answer, actual) -> bool`` says whether it is right; ``explain(answer, actual) -> str`` what the run
    showed and why. ``context``/``solution``/``wrong``: an example run, an answer right for it, and wrong
    answers with a phrase of their message (CI).
    """
    def grade(answer, actual=None, **_):
        if _not_done(answer):
            return "not done", "Write your answer in place of `...` (before you run the experiment), then run this check."
        if actual is None:
            return "not done", "Run the experiment's cell first: the check compares your answer with what it measured."
        ok = judge(answer, actual)
        return ("passed" if ok else "wrong"), explain(answer, actual)

    return _register(Exercise(id, kind, title, grade, wrong=list(wrong), context=context, solution=solution))


def predict_choice(id: str, title: str, options: tuple, right: Callable, explain: Callable, context: dict, solution,
                   wrong=(), kind: str = "predict") -> Exercise:
    """A prediction (or exploration) answered with one of ``options``: right when it is ``right(actual)``; an answer
    that names none of them is told the options after ``explain``'s sentence."""
    def told(a, actual):
        return explain(a, actual) + ("" if choice(a, options) else f" (answer with one of {options})")

    return predict(id, title, lambda a, actual: choice(a, options) == right(actual), told, context, solution, wrong, kind)


def setting(value, default, name: str = "your setting"):
    """An explore exercise's setting: ``value``, or while it is still ``...`` the chapter's ``default`` (said in one line)."""
    if value is ...:
        print(f"{name} is not chosen yet (still ...): this run uses {default!r}; put your own value in its place")
        return default
    return value


def choice(answer, options) -> str | None:
    """The option a student meant: exact, or the only option that starts with what they typed (case-insensitive)."""
    if not isinstance(answer, str):
        return None
    a = answer.strip().lower()
    hits = [o for o in options if o.lower() == a] or [o for o in options if o.lower().startswith(a) and a]
    return hits[0] if len(hits) == 1 else None


# ---------------------------------------------------------------- the check students call
def _load() -> None:
    from . import exercise_bank  # noqa: F401  (defining the exercises registers them)


def check(id: str, answer=..., **context) -> Result:
    """Check the answer to exercise ``id`` (e.g. "7.1"): passed, not done yet, or what is wrong (never the solution)."""
    _load()
    if id not in REGISTRY:
        known = ", ".join(sorted(REGISTRY, key=_order))
        raise KeyError(f"no exercise {id!r}; the course's exercises are {known}")
    status, message = REGISTRY[id].grade(answer, **context)
    result = Result(id, status, message)
    # strict (the instructor edition): a solution must pass; a prediction may be wrong, but not missing
    broken = status == "not done" or (status == "wrong" and REGISTRY[id].kind == "implement")
    if broken and os.environ.get(STRICT_VAR, "").strip().lower() == "strict":
        raise ExerciseFailed(repr(result))
    return result


def _order(i: str):
    return tuple(int(p) if p.isdigit() else p for p in re.split(r"[.]", i))


# ---------------------------------------------------------------- the student edition
def student_source(source: str) -> str:
    """A cell's source with every solution region replaced by its stub (the region's ``# STUB:`` lines, uncommented, else
    ``raise NotImplementedError``), indented as the ``### BEGIN SOLUTION`` line; the markers go (nbgrader's convention)."""
    out, region, indent = [], None, ""
    for line in source.splitlines():
        stripped = line.strip()
        if stripped == BEGIN:
            if region is not None:
                raise ValueError(f"a {BEGIN!r} inside another solution region:\n{source}")
            region, indent = [], line[: len(line) - len(line.lstrip())]
            continue
        if stripped == END:
            if region is None:
                raise ValueError(f"{END!r} without {BEGIN!r}:\n{source}")
            stubs = [l.strip()[len(STUB):].strip() for l in region if l.strip().startswith(STUB)]
            out += [indent + s for s in stubs] or [indent + 'raise NotImplementedError("your code here")']
            region = None
            continue
        (out if region is None else region).append(line)
    if region is not None:
        raise ValueError(f"a solution region without {END!r}:\n{source}")
    return "\n".join(out)


def solution_source(source: str) -> str:
    """The instructor's cell without the markers and stub lines: what the site shows as the solution."""
    return "\n".join(l for l in source.splitlines() if l.strip() not in (BEGIN, END) and not l.strip().startswith(STUB))


def solution_lines(source: str) -> list[str]:
    """The solution lines of a cell (between the markers, stubs excluded), stripped, blank lines and comments dropped."""
    lines, inside = [], False
    for line in source.splitlines():
        s = line.strip()
        if s in (BEGIN, END):
            inside = s == BEGIN
            continue
        if inside and s and not s.startswith("#"):
            lines.append(s)
    return lines


def student_notebook(nb):
    """A copy of notebook ``nb`` (nbformat) with every solution replaced by its stub and no outputs."""
    import copy

    nb = copy.deepcopy(nb)
    for cell in nb.cells:
        if cell.cell_type == "code":
            cell.source = student_source(cell.source)
            cell.outputs, cell.execution_count = [], None
    nb.metadata["course_edition"] = "student"
    # no jupytext pairing: a student's save would write a .py twin beside it, and once `make student` renews the
    # notebook, jupytext refuses to open the pair ("more recent than its .py twin")
    nb.metadata.pop("jupytext", None)
    return nb


def write_student_edition(paths, out: Path) -> list[Path]:
    """Write the student edition of the notebooks ``paths`` into ``out``; returns the written files."""
    import nbformat

    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    written = []
    for p in map(Path, paths):
        nb = nbformat.read(p, as_version=4)
        target = out / p.name
        tmp = target.with_suffix(".ipynb.tmp")
        nbformat.write(student_notebook(nb), tmp)
        os.replace(tmp, target)
        written.append(target)
    return written


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(prog="python -m course_lib.exercises", description=__doc__.splitlines()[0])
    sub = ap.add_subparsers(dest="cmd", required=True)
    st = sub.add_parser("student", help="write the student edition (solutions replaced by stubs)")
    st.add_argument("notebooks", nargs="+")
    st.add_argument("--out", default="build/student")
    sub.add_parser("list", help="list the course's exercises")
    args = ap.parse_args(argv)
    from course_lib import exercises as module  # run as __main__, this file is another module than the bank's

    if args.cmd == "student":
        files = write_student_edition(args.notebooks, Path(args.out))
        print(f"student edition: {len(files)} notebooks in {args.out}")
    else:
        module._load()
        for i in sorted(module.REGISTRY, key=_order):
            print(f"{i:6s} {module.REGISTRY[i].kind:9s} {module.REGISTRY[i].title}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
