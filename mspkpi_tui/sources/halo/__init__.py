"""`mspkpi sync halo`: HaloPSA into the store.

``client`` talks to the API (OAuth2 client credentials, the rate budget, paging),
``mapping`` turns vendor JSON into canonical records (dates and their sentinels above all),
``entities`` declares the synchronizers that sources/synchronizer.py runs, ``writer``
sends triage actions back (through mspkpi_tui.actions only).
"""

from __future__ import annotations

import threading
from collections.abc import Callable

from sqlalchemy import Engine

from mspkpi_tui.errors import ConfigError
from mspkpi_tui.sources.halo.client import HaloClient, HaloSettings, read_halo_settings
from mspkpi_tui.sources.halo.entities import EscalationRule, Pass
from mspkpi_tui.sources.halo.mapping import Catalog
from mspkpi_tui.store.writer import RunSummary, SyncWriter

SOURCE = "halo"
# Halo's status type codes that close a ticket, when a status carries no isclosed flag (docs/sources.md).
DEFAULT_CLOSED_TYPES = (4,)


class HaloConnector:
    name = SOURCE

    def __init__(self, settings: HaloSettings, options: dict, rule: EscalationRule, nps_question: str = ""):
        self.settings = settings
        self.options = options
        self.rule = rule
        self.nps_question = nps_question

    def catalog(self) -> Catalog:
        return Catalog(
            zone=self.settings.zone,
            url=self.settings.url,
            issue_type_field=str(self.options.get("issue_type_field") or "category_1"),
            won_statuses={s.casefold() for s in option_list(self.options.get("won_statuses"), ["Won"])},
            lost_statuses={s.casefold() for s in option_list(self.options.get("lost_statuses"), ["Lost"])},
            nps_question=self.nps_question,
        )

    def closed_types(self) -> set[int]:
        return closed_types_of(self.options)

    def sync(self, engine: Engine, *, full: bool, now_fn: Callable, stop: threading.Event) -> RunSummary:
        catalog, closed = self.catalog(), self.closed_types()
        with SyncWriter(engine, SOURCE, "full" if full else "incremental", clock=now_fn) as run:
            client = HaloClient(self.settings, on_request=run.add_requests)
            try:
                Pass(
                    run,
                    client,
                    full=full,
                    now_fn=now_fn,
                    stop=stop,
                    catalog=catalog,
                    closed_types=closed,
                    rule=self.rule,
                    batch=self.settings.store_batch,
                ).run_all()
            finally:
                client.close()
            assert run.summary is not None
            return run.summary


def closed_types_of(options: dict) -> set[int]:
    """[halo] closed_status_types: the status type codes that close a ticket (docs/sources.md)."""
    raw = option_list(options.get("closed_status_types"), [str(t) for t in DEFAULT_CLOSED_TYPES])
    try:
        return {int(t) for t in raw}
    except ValueError:
        raise ConfigError(f"[halo] closed_status_types = {raw!r}: expected whole numbers (status type codes)") from None


def option_list(value, default: list[str]) -> list[str]:
    """A list setting given as a TOML list or a comma-separated string."""
    if value is None:
        return default
    if isinstance(value, list):
        return [str(v) for v in value]
    return [part.strip() for part in str(value).split(",") if part.strip()]


def connector_from_config(config) -> HaloConnector:
    rule = EscalationRule(set(config.escalation.statuses), set(config.escalation.queues))
    options = dict(config.sources.get("halo", {}))
    return HaloConnector(read_halo_settings(config), options, rule, config.clients.nps_question)
