"""Only what pyproject.toml cannot say: db/ installs as the package mspkpi_tui.migrations."""

from setuptools import find_packages, setup

setup(
    packages=find_packages(include=["mspkpi_tui", "mspkpi_tui.*"])
    # fixtures/demo holds only data (no __init__.py): named, so setuptools ships it without a warning
    + ["mspkpi_tui.fixtures.demo", "mspkpi_tui.migrations", "mspkpi_tui.migrations.versions"],
    package_dir={"mspkpi_tui.migrations": "db"},
)
