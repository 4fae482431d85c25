"""Running a PSA connector once or in a watch loop, and reading its settings.

A connector module (``sources/autotask``, ``sources/connectwise``) provides
``connector_from_config(config) -> Connector``; a Connector has ``name`` and
``sync(engine, *, full, now_fn, stop) -> RunSummary``. It checks ``stop.is_set()``
between pages, so Ctrl-C in ``--watch`` finishes the page under way and stops cleanly.
"""

from __future__ import annotations

import importlib
import os
import signal
import threading
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Protocol

from sqlalchemy import Engine

from mspkpi_tui.clock import utcnow
from mspkpi_tui.errors import ConfigError, MspkpiError
from mspkpi_tui.store.writer import RunSummary

CONNECTORS = {
    "autotask": "mspkpi_tui.sources.autotask",
    "connectwise": "mspkpi_tui.sources.connectwise",
    "halo": "mspkpi_tui.sources.halo",
}


class Connector(Protocol):
    name: str

    def sync(self, engine: Engine, *, full: bool, now_fn: Callable, stop: threading.Event) -> RunSummary: ...


@dataclass(frozen=True)
class Setting:
    key: str  # in the config table, e.g. "username"
    env: str  # e.g. "MSPKPI_AUTOTASK_USERNAME"
    required: bool = True
    default: str | None = None


def read_settings(config, section: str, settings: list[Setting]) -> dict[str, Any]:
    """Config file table [section], overridden by environment variables; names what is missing."""
    table = config.sources.get(section, {})
    values: dict[str, Any] = {}
    missing = []
    for setting in settings:
        value = os.environ.get(setting.env) or table.get(setting.key) or setting.default
        if setting.required and not value:
            missing.append(f"{setting.env} (or {setting.key} in [{section}] of the config)")
        values[setting.key] = value
    if missing:
        raise ConfigError(f"{section} sync needs: {', '.join(missing)}")
    return values


def run_sync(
    name: str, engine: Engine, config, *, full: bool, watch: bool, interval: float, echo: Callable[[str], None]
) -> bool:
    """One pass, or passes every `interval` seconds until Ctrl-C. True when the last pass succeeded."""
    module = importlib.import_module(CONNECTORS[name])
    connector = module.connector_from_config(config)
    stop = threading.Event()
    previous = signal.signal(signal.SIGINT, lambda *_: _stop(stop, echo)) if watch else None
    ok = False
    try:
        while True:
            try:
                summary = connector.sync(engine, full=full, now_fn=utcnow, stop=stop)
                _report(summary, echo)
                ok = not summary.rejects and not summary.warnings
            except MspkpiError as exc:
                if not watch:
                    raise
                echo(f"sync failed: {exc}; trying again in {interval:g} s")
                ok = False
            if not watch or stop.wait(interval):
                return ok
    finally:
        if previous is not None:
            signal.signal(signal.SIGINT, previous)


def _stop(stop: threading.Event, echo: Callable[[str], None]) -> None:
    if stop.is_set():
        raise KeyboardInterrupt  # a second Ctrl-C stops at once; the page in flight rolls back
    echo("stopping after the current page (Ctrl-C again to stop now)")
    stop.set()


def _report(summary: RunSummary, echo: Callable[[str], None]) -> None:
    stored = ", ".join(f"{n} {entity}" for entity, n in summary.counts.items()) or "no changes"
    pruned = ", ".join(f"{n} {entity}" for entity, n in summary.pruned.items() if n)
    echo(
        f"{summary.source}: stored {stored}"
        + (f"; deleted {pruned}" if pruned else "")
        + f" ({summary.requests} requests)"
    )
    for warning in summary.warnings:
        echo(f"warning: {warning}")
    for reject in summary.rejects:
        echo(f"rejected {reject.entity} at {reject.location}: {reject.reason}")
