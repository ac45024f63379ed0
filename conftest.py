"""Checks every notebook cell that nbval runs: its output must carry no warning raised in the course's own code.

A warning printed from ``course_lib/...py`` (an overflow in a plot, a deprecated call) is a defect
the student sees in the rendered page, so the cell that printed it fails, naming the line.
"""
import re

import pytest

pytest_plugins = ["pytester"]  # tests/test_notebook_hygiene.py runs nbval on a probe notebook

OWN_WARNING = re.compile(r"^.*course_lib[/\\][\w/\\]+\.py:\d+: \w*Warning:.*$", re.MULTILINE)


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
    found = own_warnings(getattr(item, "test_outputs", None))
    if found:
        report.outcome = "failed"
        report.longrepr = ("the cell's output carries a warning from the course's own code (fix the cause, "
                           "do not hide it):\n" + "\n".join(found))
