"""The status line: when the data was last synced (from sync_runs, not when the screen was
drawn) and, beside it and never over the tables, a STALE / FAILED badge with the reason."""

from __future__ import annotations

from datetime import datetime, tzinfo

from rich.text import Text

from mspkpi_tui.kpi.status import FAILED, NEVER, OK, STALE, SyncStatus
from mspkpi_tui.tui import text as fmt
from mspkpi_tui.tui.widgets import Figure

BADGES = {STALE: " STALE ", FAILED: " SYNC FAILED ", NEVER: " NO SYNC YET "}


def status_text(
    status: SyncStatus | None, now: datetime, zone: tzinfo, read_error: str | None = None, read_only: bool = False
) -> Text:
    text = Text(no_wrap=True, overflow="ellipsis")
    if status is None:
        text.append("reading the database…")
        return text
    if read_error:
        text.append(" READ FAILED ", style="reverse bold")
        text.append(" ")
        text.append(fmt.clean(read_error))
        text.append(" · showing the last data read · ")
    if status.state != OK:
        text.append(BADGES[status.state], style="reverse bold")
        text.append(" ")
        text.append(fmt.clean(status.reason or ""))
        text.append(" · ")
    if status.last_ok_at is not None:
        text.append(f"last sync {fmt.stamp(status.last_ok_at, zone)} ({fmt.ago(status.last_ok_at, now)})")
        if status.last_ok_source:
            text.append(" from ")
            text.append(fmt.clean(status.last_ok_source))
    else:
        text.append("never synced")
    if status.rejected:  # what the last sync or import could not store, and where to read why
        text.append(f" · {status.rejected:,} record(s) rejected, ")
        text.append("mspkpi rejects", style="bold")
    if status.running_since is not None:
        text.append(f" · sync running since {fmt.stamp(status.running_since, zone)[-5:]}")
    if read_only:  # a shared copy or snapshot, opened without writing to it
        text.append(" · read-only database")
    return text


class StatusLine(Figure):
    DEFAULT_CSS = "StatusLine { height: 1; background: $panel; }"
