"""No comparative sentence of the course is typed by hand (issue 27): every verdict comes from the course's rule.

The rule (``course_lib.verdicts``: ``compare_runs`` over seeds, ``compare_scores`` over test examples)
returns a ``Verdict`` whose ``sentence()`` a chapter prints. This test reads every chapter's source and
finds the words a verdict is made of ("does better", "better than", "worse than", "beats", ...) in the
text a student reads: Markdown cells, and the strings of code cells (what they print or display).
Such words may appear only in a cell that asks the rule (``.sentence()``, ``.clause()``, ``.winner``, ``.outcome``),
or in one of the few places listed below, each with the reason it is not a verdict.
"""
import ast
import re
from pathlib import Path

import jupytext
import pytest

from course_lib import verdicts

NB_DIR = Path(__file__).resolve().parents[1] / "notebooks"
TWINS = sorted(NB_DIR.glob("[0-9][0-9]_*.py"))

VERDICT_WORDS = re.compile(r"\b(does better|do better|did better|better than(?! chance)|worse than|outperform\w*|beats?\b|"
                           r"(?<!smaller )(?<!lower )(?<!higher )(?<!larger )is better|the better (?:one|method|model|density|classifier|generator)|gained far less|"
                           r"more robust than)", re.I)
ASKS_THE_RULE = re.compile(r"\.(sentence|clause)\(\)|\.winner\b|\.outcome\b")

# (chapter, words as they appear) -> why it is not a comparison of the course's own runs
NOT_VERDICTS = {
    ("03", "better than"): "the VAE fits its training digits better than unseen ones: the printed gap is the measurement",
    ("06", "worse than"): "a reading of one number (a negative contrast), not a comparison of two set-ups",
    ("11", "is better"): "the chapter's point: two metrics disagree on which model is better (both numbers printed)",
    ("11", "the better generator"): "the same point: each metric alone would name a different one",
    ("01", "beat"): "the structured perceptron's language: a correct answer's score must beat the wrong ones'",
    ("08", "beat"): "the same, for the structured SVM's margin",
}


def _strings(cell_source: str):
    """(line, text) of every string a code cell shows: constants and the constant parts of f-strings, not assert messages."""
    try:
        tree = ast.parse(cell_source)
    except SyntaxError:  # a cell with IPython magics: read it without them
        tree = ast.parse("\n".join("" if l.lstrip().startswith(("%", "!")) else l for l in cell_source.splitlines()))
    skip = {id(n.msg) for n in ast.walk(tree) if isinstance(n, ast.Assert) and n.msg is not None}
    skip |= {id(c) for n in ast.walk(tree) if isinstance(n, ast.Assert) and n.msg is not None for c in ast.walk(n.msg)}
    for node in ast.walk(tree):
        if isinstance(node, ast.Constant) and isinstance(node.value, str) and id(node) not in skip:
            yield node.lineno, node.value


def _hits():
    out = []
    for twin in TWINS:
        chapter = twin.name[:2]
        for cell in jupytext.read(twin).cells:
            if cell.cell_type == "markdown":
                texts = [(0, cell.source)]
            elif cell.cell_type == "code":
                if ASKS_THE_RULE.search(cell.source):
                    continue
                texts = list(_strings(cell.source))
            else:
                continue
            for _, text in texts:
                for m in VERDICT_WORDS.finditer(text):
                    out.append((chapter, m.group(0), text[max(0, m.start() - 60):m.end() + 60].replace("\n", " ")))
    return out


def test_every_comparative_sentence_comes_from_the_rule():
    typed = [(ch, w, ctx) for ch, w, ctx in _hits() if (ch, w) not in NOT_VERDICTS]
    assert not typed, ("comparative sentences typed by hand (build them with course_lib.verdicts and print "
                       "verdict.sentence(), or add a reason to NOT_VERDICTS):\n" + "\n".join(f"  {ch}: ...{ctx}..." for ch, _, ctx in typed))


def test_every_exception_is_still_needed():
    found = {(ch, w) for ch, w, _ in _hits()}
    stale = sorted(set(NOT_VERDICTS) - found)
    assert not stale, f"NOT_VERDICTS lists places that no longer exist: {stale}"


def test_the_finder_finds_a_typed_verdict_and_accepts_one_from_the_rule(tmp_path, monkeypatch):
    """The test above can fail: a hand-typed comparison is caught, the rule's sentence in a cell that asks it is not."""
    v = verdicts.compare_runs([5, 6, 7, 6, 5], [1, 2, 1, 2, 1], "EBGAN", "GAN", "modes covered")
    assert VERDICT_WORDS.search(v.sentence())            # the rule's own sentence uses the words the finder looks for
    typed = 'display(Markdown(f"EBGAN covers {a} modes, better than the GAN ({b})."))\n'
    by_rule = 'display(Markdown(verdict.sentence() + " EBGAN does better than the GAN here."))\n'
    assert [m.group(0) for _, t in _strings(typed) for m in VERDICT_WORDS.finditer(t)] == ["better than"]
    assert ASKS_THE_RULE.search(by_rule) and not ASKS_THE_RULE.search(typed)
    assert not VERDICT_WORDS.search("the energy separates the digit better than chance")  # a chance level is not a rival
    assert [t for _, t in _strings('assert a > b, "A should beat B"\n')] == []           # a check's message is not text
