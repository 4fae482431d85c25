"""The Autotask PSA connector: ``mspkpi sync autotask``.

Settings: the ``[autotask]`` table of the config, overridden by MSPKPI_AUTOTASK_*
environment variables (see Setting below). Optional tenant rules in ``[autotask]``:
``closed_statuses`` and ``closed_project_statuses`` (labels or picklist values; default
Complete), ``won_statuses`` (default Closed, Implemented) and ``lost_statuses`` (Lost)
for opportunities. Escalation follows the config's ``[escalation]`` table.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from datetime import datetime
from typing import Any

from sqlalchemy import Engine

from mspkpi_tui.errors import ConfigError
from mspkpi_tui.sources.autotask.client import DEFAULT_ZONE_URL, AutotaskClient
from mspkpi_tui.sources.autotask.mapping import Rules
from mspkpi_tui.sources.autotask.sync import SOURCE, AutotaskPass
from mspkpi_tui.sources.connectors import Setting, read_settings
from mspkpi_tui.store.writer import RunSummary, SyncWriter

SETTINGS = [
    Setting("username", "MSPKPI_AUTOTASK_USERNAME"),
    Setting("secret", "MSPKPI_AUTOTASK_SECRET"),
    Setting("integration_code", "MSPKPI_AUTOTASK_INTEGRATION_CODE"),
    Setting("base_url", "MSPKPI_AUTOTASK_BASE_URL", required=False),
    Setting("zone_url", "MSPKPI_AUTOTASK_ZONE_URL", required=False, default=DEFAULT_ZONE_URL),
    Setting("web_url", "MSPKPI_AUTOTASK_WEB_URL", required=False),
]


class AutotaskConnector:
    name = SOURCE

    def __init__(self, settings: dict[str, Any], rules: Rules):
        self.settings = settings
        self.rules = rules

    def sync(self, engine: Engine, *, full: bool, now_fn: Callable[[], datetime], stop: threading.Event) -> RunSummary:
        with SyncWriter(engine, SOURCE, "full" if full else "incremental", clock=now_fn) as run:
            client = AutotaskClient(self.settings, on_request=run.add_requests)
            try:
                AutotaskPass(run, client, self.rules, full=full, now_fn=now_fn, stop=stop).run_all()
            finally:
                client.close()
            assert run.summary is not None
            return run.summary


def connector_from_config(config) -> AutotaskConnector:
    settings = read_settings(config, "autotask", SETTINGS)
    table = config.sources.get("autotask", {})
    escalation = config.escalation
    rules = Rules(
        closed_ticket_statuses=_names(table, "closed_statuses", ["5", "Complete"]),
        closed_project_statuses=_names(table, "closed_project_statuses", ["5", "Complete"]),
        escalation_statuses={s.casefold() for s in escalation.statuses},
        escalation_queues={q.casefold() for q in escalation.queues},
        escalation_udf=escalation.udf,
        won_statuses=_names(table, "won_statuses", ["Closed", "Implemented"]),
        lost_statuses=_names(table, "lost_statuses", ["Lost"]),
    )
    return AutotaskConnector(settings, rules)


def _names(table: dict, key: str, default: list[str]) -> set[str]:
    value = table.get(key, default)
    if not isinstance(value, list) or not all(isinstance(v, (str, int)) for v in value):
        raise ConfigError(f"[autotask] {key} must be a list of status names or values")
    return {str(v).casefold() for v in value}
