"""Checks every notebook cell that nbval runs: its output must carry no warning raised in the course's own code.

A warning printed from ``course_lib/...py`` (an overflow in a plot, a deprecated call) is a defect
the student sees in the rendered page, so the cell that printed it fails, naming the line. In the
student edition (``course_lib.exercises``) every exercise's check must answer "not done yet": the
stubs are undone exercises, and a check that passes on a stub, or fails it, is a broken exercise.
"""
import re

import pytest

pytest_plugins = ["pytester"]  # tests/test_notebook_hygiene.py runs nbval on a probe notebook

OWN_WARNING = re.compile(r"^.*course_lib[/\\][\w/\\]+\.py:\d+: \w*Warning:.*$", re.MULTILINE)


def output_text(outputs) -> str:
    """Everything a cell printed or displayed as text (nbformat dicts)."""
    parts = []
    for out in outputs or []:
        if out.get("output_type") == "stream":
            parts.append(out.get("text", ""))
        elif "data" in out:
            parts.append(out["data"].get("text/plain", ""))
        elif out.get("output_type") == "error":
            parts.append(f"{out.get('ename')}: {out.get('evalue')}")
    return "\n".join(parts)


def own_warnings(outputs) -> list:
    """The lines of a cell's outputs (nbformat dicts) that report a warning raised in course_lib."""
    lines = []
    for out in outputs or []:
        if out.get("output_type") == "stream":
            lines += OWN_WARNING.findall(out.get("text", ""))
    return lines


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    outcome = yield
    report = outcome.get_result()
    if call.when != "call" or not report.passed:
        return
    outputs = getattr(item, "test_outputs", None)
    nb = getattr(item.parent, "nb", None)
    source = (getattr(item, "cell", None) or {}).get("source", "")
    if nb is not None and nb.metadata.get("course_edition") == "student" and re.search(r"^check\(\"", source, re.M):
        text = output_text(outputs)
        if "not done yet" not in text:
            report.outcome = "failed"
            report.longrepr = f"in the student edition this exercise's check should say 'not done yet'; it printed:\n{text}"
            return
    found = own_warnings(outputs)
    if found:
        report.outcome = "failed"
        report.longrepr = ("the cell's output carries a warning from the course's own code (fix the cause, "
                           "do not hide it):\n" + "\n".join(found))
