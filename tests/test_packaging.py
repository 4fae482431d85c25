"""pyproject.toml says what the app is tested with: Textual's major version pinned to the installed
one (the app builds on Textual's API; a new major is tested before the pin moves), the licence in
the SPDX string form (PEP 639: no licence-table deprecation warning) with a setuptools that reads it.
The build itself is checked for warnings in tests/test_wheel.py (slow)."""

from __future__ import annotations

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
