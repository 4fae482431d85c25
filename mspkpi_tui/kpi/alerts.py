"""Alerts before an SLA breaks: which conditions fire now, and which of them to announce.

Five rules (config ``[alerts]``, each off | bell | notify | both): a ticket enters "at risk"
(due within the views' horizon), a ticket breaches (overdue), a Critical ticket is
unassigned, the New / unassigned queue is longer than N, the last sync failed or is stale.
The ticket rules are those of kpi/rules.py (the same as the At risk and New views) and the
sync rule is kpi/status.py's: nothing here decides again what "at risk" means.

`evaluate` reads the database in one statement (ids only, from the open tickets' covering index);
`Announcer.step` turns what fires into what to announce, once per (rule, ticket) when it
starts firing, again only after the repeat interval or when it got
worse, and grouped when many tickets start at once ("7 tickets now at risk"). Its state is a
plain dict the dashboard keeps in a file (tui/alerts.py), so a restart does not re-announce.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING, Any

from sqlalchemy import ColumnElement, Engine, and_, func, select
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.sql.expression import FunctionElement
from sqlalchemy.types import Text

from mspkpi_tui.kpi import rules
from mspkpi_tui.kpi.status import FAILED, OK, sync_status

if TYPE_CHECKING:
    from mspkpi_tui.config import Config

tickets = rules.tickets

AT_RISK, BREACH, CRITICAL, NEW_QUEUE, SYNC = "at_risk", "breach", "critical_unassigned", "new_queue", "sync"
RULES = (BREACH, AT_RISK, CRITICAL, NEW_QUEUE, SYNC)  # most serious first
LABELS = {
    AT_RISK: "now at risk",
    BREACH: "breached their SLA",
    CRITICAL: "Critical and unassigned",
    NEW_QUEUE: "new and unassigned",
    SYNC: "sync",
}
LOG_KEEP = 500  # announcements kept in the day's log at most


@dataclass(frozen=True)
class Firing:
    """One rule firing now: for the tickets it names, or for the desk as a whole (no tickets)."""

    rule: str
    tickets: frozenset[int] = frozenset()  # ticket ids (ticket rules)
    level: int = 1  # desk rules: higher is worse, announced again when it rises
    message: str = ""  # desk rules: one line


def delivery(config: Config, rule: str) -> str:
    """off | bell | notify | both, from the config."""
    return str(getattr(config.alerts, rule))


class id_list(FunctionElement):
    """The ids an aggregate collects, as one comma-separated string (NULL when none): one
    value to split instead of a row object per id, which cost two thirds of an evaluation
    when thousands of tickets are overdue."""

    type = Text()
    inherit_cache = True


@compiles(id_list, "sqlite")
def _id_list_sqlite(element, compiler, **kw):
    return "group_concat(%s, ',')" % compiler.process(element.clauses, **kw)


@compiles(id_list, "postgresql")
def _id_list_pg(element, compiler, **kw):
    return "string_agg(CAST(%s AS TEXT), ',')" % compiler.process(element.clauses, **kw)


def _split(text: str | None) -> frozenset[int]:
    return frozenset(map(int, text.split(","))) if text else frozenset()


def evaluate(engine: Engine, now: datetime, config: Config) -> list[Firing]:
    """Every rule that is not off and fires now, most serious first.

    One statement for every ticket rule: a single pass over ix_tickets_open_cover (no table
    row, no datetime or title parsed), each rule an aggregate filtered by its clause from
    kpi/rules.py, so a desk with thousands of overdue tickets stays cheap. `describe` adds
    the words for the few tickets that are announced."""
    on = {rule for rule in RULES if delivery(config, rule) != "off"}
    clauses: dict[str, ColumnElement] = {
        BREACH: rules.is_overdue(now),
        AT_RISK: rules.at_risk(now, config.views.at_risk_hours),
        CRITICAL: and_(rules.is_unassigned(), tickets.c.priority_rank <= config.alerts.critical_rank),
    }
    wanted = [rule for rule in clauses if rule in on]
    columns = [id_list(tickets.c.id).filter(clauses[rule]) for rule in wanted]
    if NEW_QUEUE in on:
        columns.append(func.count().filter(rules.is_unassigned()))
    found: list[Firing] = []
    unassigned = 0
    if columns:
        with engine.connect() as conn:
            row = conn.execute(select(*columns).where(rules.is_open())).one()
        found = [Firing(rule, _split(text)) for rule, text in zip(wanted, row, strict=False)]
        unassigned = int(row[-1] or 0) if NEW_QUEUE in on else 0
    found = [f for f in found if f.tickets]
    limit = config.alerts.new_queue_max
    if NEW_QUEUE in on and unassigned > limit:
        level = unassigned // max(limit, 1)  # announced again each time the queue grows by another N
        found.append(Firing(NEW_QUEUE, level=level, message=f"{unassigned} new tickets unassigned (over {limit})"))
    if SYNC in on:
        status = sync_status(engine, now, config)
        if status.has_tickets and status.state != OK:
            found.append(Firing(SYNC, level=2 if status.state == FAILED else 1, message=status.reason or status.state))
    return found


def _span(minutes: int) -> str:
    if minutes < 120:
        return f"{minutes} min"
    return f"{minutes // 60} h" if minutes < 48 * 60 else f"{minutes // (24 * 60)} days"


def _due_text(due: datetime | None, now: datetime) -> str:
    if due is None:
        return ""
    minutes = int((due - now).total_seconds() // 60)
    return f" due in {_span(minutes)}" if minutes >= 0 else f" overdue by {_span(-minutes)}"


@dataclass(frozen=True)
class TicketWords:
    number: str
    title: str
    due: datetime | None


def describe(engine: Engine, ids: list[int]) -> dict[int, TicketWords]:
    """Number, title and next due of these tickets (for the announcements and `mspkpi alerts`)."""
    words: dict[int, TicketWords] = {}
    with engine.connect() as conn:
        for start in range(0, len(ids), 500):
            stmt = select(tickets.c.id, tickets.c.number, tickets.c.title, rules.next_due()).where(
                tickets.c.id.in_(ids[start : start + 500])
            )
            words.update({i: TicketWords(n, t, d) for i, n, t, d in conn.execute(stmt)})
    return words


def ticket_message(rule: str, words: TicketWords, now: datetime) -> str:
    what = " Critical, unassigned" if rule == CRITICAL else _due_text(words.due, now)
    return f"{words.number}{what}: {words.title}"


def firing_lines(engine: Engine, now: datetime, firing: list[Firing]) -> list[tuple[str, str]]:
    """(rule, message) for every condition firing: one per ticket, one per desk rule."""
    words = describe(engine, sorted({i for f in firing for i in f.tickets}))
    lines: list[tuple[str, str]] = []
    for f in firing:
        lines += [(f.rule, ticket_message(f.rule, words[i], now)) for i in sorted(f.tickets) if i in words]
        if not f.tickets:
            lines.append((f.rule, f.message))
    return lines


# --- what to announce ----------------------------------------------------------------------


@dataclass(frozen=True)
class Announcement:
    """One toast (and bell or notification): a single condition, or many of one rule grouped."""

    rule: str
    delivery: str  # bell | notify | both
    message: str
    ticket_ids: tuple[int, ...] = ()


@dataclass(frozen=True)
class LogEntry:
    at: datetime
    rule: str
    message: str
    ticket_id: int | None


@dataclass
class Announcer:
    """What was announced: per ticket rule, each ticket's time; per desk rule, time and level;
    and the day's log. Whatever stops firing is forgotten, so entering the state again is news."""

    tickets: dict[str, dict[int, float]] = field(default_factory=dict)  # rule -> ticket id -> epoch seconds
    desk: dict[str, tuple[float, int]] = field(default_factory=dict)  # rule -> (epoch seconds, level)
    log: list[LogEntry] = field(default_factory=list)
    changed: bool = False  # the last step changed the state (the dashboard saves it only then)

    def step(
        self, firing: list[Firing], now: datetime, config: Config, engine: Engine | None = None
    ) -> list[Announcement]:
        """Announce what started firing, got worse, or is due a repeat. With an engine, the
        announced tickets get their words (number, due, title)."""
        repeat = config.alerts.repeat_minutes * 60
        stamp = now.timestamp()
        due: list[tuple[str, list[int], str]] = []  # rule, tickets, desk message
        by_rule = {f.rule: f for f in firing}
        self.changed = False
        for rule in RULES:
            f = by_rule.get(rule)
            if f is None:
                gone = self.tickets.pop(rule, None), self.desk.pop(rule, None)
                self.changed |= any(g is not None for g in gone)
            elif rule in (NEW_QUEUE, SYNC):
                before = self.desk.get(rule)
                if before is None or f.level > before[1] or stamp - before[0] >= repeat:
                    self.desk[rule] = (stamp, f.level)
                    due.append((rule, [], f.message))
                elif f.level < before[1]:
                    self.desk[rule] = (before[0], f.level)  # better: a rise back is worse again
                    self.changed = True
            else:
                known = self.tickets.get(rule, {})
                kept = {i: known[i] for i in f.tickets if i in known}
                fresh = sorted(i for i in f.tickets if i not in known or stamp - known[i] >= repeat)
                self.changed |= len(kept) != len(known)
                kept.update(dict.fromkeys(fresh, stamp))
                self.tickets[rule] = kept
                if fresh:
                    due.append((rule, fresh, ""))
        self.changed |= bool(due)
        return self._announce(due, now, config, engine)

    def _announce(
        self, due: list[tuple[str, list[int], str]], now: datetime, config: Config, engine: Engine | None
    ) -> list[Announcement]:
        wanted = [i for _, ids, _ in due for i in ids][:LOG_KEEP]  # a first run may start thousands
        words = describe(engine, wanted) if engine is not None and wanted else {}
        today = now.astimezone(config.zone).date()
        self.log = [e for e in self.log if e.at.astimezone(config.zone).date() == today]
        out: list[Announcement] = []
        for rule, ids, message in due:
            how = delivery(config, rule)
            lines = [(i, ticket_message(rule, words[i], now) if i in words else f"ticket {i}") for i in ids]
            self.log += [LogEntry(now, rule, line, i) for i, line in lines[:LOG_KEEP]]
            if not ids:
                self.log.append(LogEntry(now, rule, message, None))
                out.append(Announcement(rule, how, message))
            elif len(ids) > config.alerts.group_over:
                out.append(Announcement(rule, how, f"{len(ids)} tickets {LABELS[rule]}", tuple(ids)))
            else:
                out += [Announcement(rule, how, line, (i,)) for i, line in lines]
        del self.log[:-LOG_KEEP]
        return out

    # --- kept in a file by the dashboard ---------------------------------------------------

    def to_dict(self) -> dict[str, Any]:
        """Compact: per rule, the tickets grouped by the time they were announced."""
        tickets_out: dict[str, dict[str, list[int]]] = {}
        for rule, known in self.tickets.items():
            by_time: dict[str, list[int]] = {}
            for ticket_id, stamp in known.items():
                by_time.setdefault(repr(stamp), []).append(ticket_id)
            tickets_out[rule] = by_time
        return {
            "tickets": tickets_out,
            "desk": {rule: list(value) for rule, value in self.desk.items()},
            "log": [
                {"at": e.at.isoformat(), "rule": e.rule, "message": e.message, "ticket": e.ticket_id} for e in self.log
            ],
        }

    @classmethod
    def from_dict(cls, data: Any) -> Announcer:
        """Whatever the file holds: a malformed part is dropped, never an error."""
        made = cls()
        if not isinstance(data, dict):
            return made
        for rule, by_time in dict(data.get("tickets") or {}).items():
            if rule not in RULES or not isinstance(by_time, dict):
                continue
            known = made.tickets.setdefault(rule, {})
            for stamp, ids in by_time.items():
                try:
                    known.update(dict.fromkeys((int(i) for i in ids), float(stamp)))
                except (TypeError, ValueError):
                    continue
        for rule, value in dict(data.get("desk") or {}).items():
            try:
                if rule in RULES:
                    made.desk[rule] = (float(value[0]), int(value[1]))
            except (TypeError, ValueError, IndexError, KeyError):
                continue
        for item in list(data.get("log") or [])[-LOG_KEEP:]:
            try:
                ticket = item.get("ticket")
                at = datetime.fromisoformat(item["at"])
                made.log.append(
                    LogEntry(at, str(item["rule"]), str(item["message"]), ticket if type(ticket) is int else None)
                )
            except (AttributeError, KeyError, TypeError, ValueError):
                continue
        return made
