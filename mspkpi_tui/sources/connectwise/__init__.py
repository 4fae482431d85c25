"""`mspkpi sync connectwise`: ConnectWise Manage (ConnectWise PSA) into the store.

``client`` talks to the API (codebase discovery, auth, forward-only paging),
``mapping`` turns vendor JSON into canonical records, ``sla`` derives due times,
``entities`` declares the synchronizers that sources/synchronizer.py runs.
"""

from __future__ import annotations

import threading
from collections.abc import Callable

from sqlalchemy import Engine

from mspkpi_tui.sources.connectwise.client import CwClient, CwSettings, read_cw_settings
from mspkpi_tui.sources.connectwise.entities import Pass
from mspkpi_tui.sources.connectwise.mapping import EscalationRule
from mspkpi_tui.store.writer import RunSummary, SyncWriter

SOURCE = "connectwise"


class ConnectWiseConnector:
    name = SOURCE

    def __init__(self, settings: CwSettings, rule: EscalationRule, nps_question: str = ""):
        self.settings = settings
        self.rule = rule
        self.nps_question = nps_question

    def sync(self, engine: Engine, *, full: bool, now_fn: Callable, stop: threading.Event) -> RunSummary:
        with SyncWriter(engine, SOURCE, "full" if full else "incremental", clock=now_fn) as run:
            client = CwClient(self.settings, on_request=run.add_requests)
            try:
                Pass(
                    run, client, full=full, now_fn=now_fn, stop=stop, rule=self.rule, nps_question=self.nps_question
                ).run_all()
            finally:
                client.close()
            assert run.summary is not None
            return run.summary


def connector_from_config(config) -> ConnectWiseConnector:
    rule = EscalationRule(statuses=set(config.escalation.statuses), boards=set(config.escalation.queues))
    return ConnectWiseConnector(read_cw_settings(config), rule, config.clients.nps_question)
