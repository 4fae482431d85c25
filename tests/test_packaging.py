"""pyproject.toml says what the app is tested with: Textual's major version pinned to the installed
one (the app builds on Textual's API; a new major is tested before the pin moves), the licence in
the SPDX string form (PEP 639: no licence-table deprecation warning) with a setuptools that reads it.
The build itself is checked for warnings in tests/test_wheel.py (slow)."""

from __future__ import annotations

import re
import tomllib
from importlib.metadata import version
from pathlib import Path

from packaging.requirements import Requirement
from packaging.specifiers import SpecifierSet
from packaging.version import Version

PYPROJECT = tomllib.loads((Path(__file__).resolve().parent.parent / "pyproject.toml").read_text())


def _requirement(name: str, requirements: list[str]) -> Requirement:
    return next(r for r in map(Requirement, requirements) if r.name == name)


def test_textual_is_pinned_to_the_installed_major_version():
    installed = Version(version("textual"))
    pin = _requirement("textual", PYPROJECT["project"]["dependencies"]).specifier
    assert pin == SpecifierSet(f">={installed.major},<{installed.major + 1}")
    assert installed in pin


def test_the_licence_is_an_spdx_string_and_the_build_backend_can_read_it():
    assert PYPROJECT["project"]["license"] == "MIT"
    assert not any(c.startswith("License ::") for c in PYPROJECT["project"].get("classifiers", []))
    setuptools = _requirement("setuptools", PYPROJECT["build-system"]["requires"]).specifier
    assert "76.9" not in setuptools and "77" in setuptools  # setuptools 77 is the first to take the string form


def test_the_chart_and_screen_libraries_are_pinned_to_the_tested_majors():
    """plotext 6 is a rewrite with another API and Textual 9 may change what the app builds on:
    a careless bump of either pin fails here. textual-plotext is not a dependency (nothing
    imports it: the charts are our own widget over plotext's text)."""
    dependencies = PYPROJECT["project"]["dependencies"]
    assert _requirement("plotext", dependencies).specifier == SpecifierSet(">=5.2.8,<6")
    assert _requirement("textual", dependencies).specifier == SpecifierSet(">=8,<9")
    names = {Requirement(r).name.lower() for r in dependencies}
    assert "textual-plotext" not in names and "textual_plotext" not in names
    assert Version(version("plotext")) in SpecifierSet(">=5.2.8,<6")


def test_nothing_imports_textual_plotext():
    package = Path(__file__).resolve().parent.parent / "mspkpi_tui"
    importers = [
        p for p in package.rglob("*.py") if re.search(r"^\s*(from|import)\s+textual_plotext\b", p.read_text(), re.M)
    ]
    assert importers == []
