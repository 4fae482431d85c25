"""The dashboard caps glibc's malloc arenas before its threads start (mspkpi_tui/memory.py)."""

from __future__ import annotations

import pytest

from mspkpi_tui.memory import glibc_version, limit_malloc_arenas

glibc = pytest.mark.skipif(not glibc_version(), reason="glibc only")


@glibc
def test_the_arena_cap_is_set_on_glibc(monkeypatch):
    monkeypatch.delenv("MALLOC_ARENA_MAX", raising=False)
    assert limit_malloc_arenas(2) is True


@glibc
def test_an_arena_limit_the_user_set_is_left_alone(monkeypatch):
    monkeypatch.setenv("MALLOC_ARENA_MAX", "4")
    assert limit_malloc_arenas(2) is False
