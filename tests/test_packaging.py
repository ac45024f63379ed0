"""One set of packages: pyproject.toml's (ranges), constraints.txt's exact versions, environment.yml's pip section."""
import re
from pathlib import Path

import pytest

try:
    import tomllib
except ImportError:  # Python 3.10
    tomllib = pytest.importorskip("tomli")

ROOT = Path(__file__).resolve().parents[1]


def _name(req: str) -> str:
    return re.split(r"[<>=!~\[; ]", req.strip(), maxsplit=1)[0].lower().replace("_", "-")


def _pyproject() -> list:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    return project["dependencies"] + project["optional-dependencies"]["dev"]


def _pins(lines) -> dict:
    pins = {}
    for line in lines:
        line = line.split("#")[0].strip()
        if line and not line.startswith("-"):
            name, _, version = line.partition("==")
            pins[_name(name)] = version.strip()
    return pins


def test_pyproject_states_ranges_and_constraints_pin_exactly_the_same_packages():
    reqs = _pyproject()
    assert not [r for r in reqs if "==" in r], "pyproject.toml states ranges; exact versions belong in constraints.txt"
    pins = _pins((ROOT / "constraints.txt").read_text().splitlines())
    assert set(pins) == {_name(r) for r in reqs}
    assert all(pins.values()), "every constraint names its exact version"


def test_environment_yml_installs_the_constrained_versions_of_the_same_packages():
    text = (ROOT / "environment.yml").read_text()
    pip_lines = [l.strip()[2:] for l in text.split("- pip:")[1].splitlines() if l.strip().startswith("- ")]
    env = _pins(l for l in pip_lines if l != "-e .")
    assert env == _pins((ROOT / "constraints.txt").read_text().splitlines())
    assert "-e ." in pip_lines  # and the course's own package


def test_the_makefile_installs_with_the_constraints():
    assert "-c constraints.txt" in (ROOT / "Makefile").read_text()


def test_a_licence_and_a_citation_file_are_there():
    licence = (ROOT / "LICENSE").read_text()
    assert "MIT License" in licence and "CC BY 4.0" in licence
    cff = (ROOT / "CITATION.cff").read_text()
    assert "cff-version: 1.2.0" in cff and "title:" in cff and "authors:" in cff
