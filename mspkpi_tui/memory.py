"""The dashboard runs all day: keep glibc's malloc arenas from creeping up its memory."""

from __future__ import annotations

import ctypes
import ctypes.util
import os

M_ARENA_MAX = -8  # glibc's <malloc.h>


def glibc_version() -> str:
    """'glibc 2.36', or '' off glibc (musl, macOS, Windows)."""
    try:
        return os.confstr("CS_GNU_LIBC_VERSION") or ""
    except (AttributeError, ValueError, OSError):
        return ""


def limit_malloc_arenas(arenas: int = 2) -> bool:
    """Cap glibc's malloc arenas, before the app starts any thread; returns whether the cap is set.

    Every refresh runs in a new worker thread, and glibc may give each thread an arena of its
    own (up to 8 per core): their freed memory fragments, so the resident size crept up over
    1,000 refresh cycles on the 1M-ticket database (+5.9 % from the 10th cycle, Python's own
    allocations flat), against -0.1 % with two arenas (bench/RESULTS.md, "Memory over refresh
    cycles"). A MALLOC_ARENA_MAX the user set is left to glibc; off glibc nothing happens."""
    if "MALLOC_ARENA_MAX" in os.environ or not glibc_version():
        return False
    try:
        libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6")
        return bool(libc.mallopt(M_ARENA_MAX, arenas))
    except (OSError, AttributeError):
        return False
