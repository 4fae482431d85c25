"""Alerts (kpi/alerts.py, tui/alerts.py, `mspkpi alerts`): what fires, what is announced and
when, the bytes written to the terminal, the state file, the exit codes. Both databases."""

from __future__ import annotations

import json
from datetime import timedelta

import pytest
from test_kpi_builder import NOW, Data, config

from mspkpi_tui.kpi import alerts
from mspkpi_tui.kpi.alerts import AT_RISK, BREACH, CRITICAL, NEW_QUEUE, SYNC, Announcer, Firing
from mspkpi_tui.tui import alerts as delivery

QUIET = {"sync": "off"}  # the builder's sync run is not the point of most tests


def at(hours: float) -> str:
    return (NOW + timedelta(hours=hours)).strftime("%Y-%m-%d %H:%M")


def desk() -> Data:
    d = Data()
    d.resource("P1", "Alice")
    d.ticket("K1", first_response_due=at(0.5), assigned_resource_id="P1")  # at risk
    d.ticket("K2", resolution_due=at(-1), assigned_resource_id="P1")  # breached
    d.ticket("K3", resolution_due=at(3), assigned_resource_id="P1")  # fine
    d.ticket("K4", priority="Critical", priority_rank=1)  # Critical, unassigned
    d.ticket("K5", priority="Critical", priority_rank=1, assigned_resource_id="P1")  # assigned: fine
    d.closed("K6", resolution_due=at(-5))  # closed: fine
    return d


def ids(engine) -> dict[str, int]:
    from sqlalchemy import select

    from mspkpi_tui.kpi.rules import tickets

    with engine.connect() as conn:
        return dict(conn.execute(select(tickets.c.source_id, tickets.c.id)).all())


def by_rule(firing: list[Firing]) -> dict[str, Firing]:
    return {f.rule: f for f in firing}


def test_each_rule_fires_for_its_tickets(engine):
    desk().store(engine)
    known = ids(engine)
    cfg = config("UTC", alerts=QUIET | {"new_queue_max": 0})
    found = by_rule(alerts.evaluate(engine, NOW, cfg))
    assert found[AT_RISK].tickets == {known["K1"]}
    assert found[BREACH].tickets == {known["K2"]}
    assert found[CRITICAL].tickets == {known["K4"]}
    assert found[NEW_QUEUE].message == "1 new tickets unassigned (over 0)"
    assert list(found) == [BREACH, AT_RISK, CRITICAL, NEW_QUEUE]  # most serious first
    lines = alerts.firing_lines(engine, NOW, list(found.values()))
    assert ("at_risk", "TK1 due in 30 min: ticket K1") in lines
    assert ("breach", "TK2 overdue by 60 min: ticket K2") in lines
    assert ("critical_unassigned", "TK4 Critical, unassigned: ticket K4") in lines


def test_a_rule_set_off_is_not_evaluated_and_the_stale_sync_fires(engine):
    desk().store(engine)
    cfg = config("UTC", alerts={"breach": "off", "at_risk": "off", "critical_unassigned": "off"})
    found = by_rule(alerts.evaluate(engine, NOW, cfg))
    assert BREACH not in found and AT_RISK not in found and CRITICAL not in found
    later = NOW.replace(year=2100)  # far after the sync: stale
    assert by_rule(alerts.evaluate(engine, later, cfg))[SYNC].level == 1


def test_announced_once_when_it_enters_then_only_after_the_interval(engine):
    desk().store(engine)
    cfg = config("UTC", alerts=QUIET | {"repeat_minutes": 60})
    state = Announcer()
    first = state.step(alerts.evaluate(engine, NOW, cfg), NOW, cfg, engine)
    assert [a.message for a in first] == [
        "TK2 overdue by 60 min: ticket K2",
        "TK1 due in 30 min: ticket K1",
        "TK4 Critical, unassigned: ticket K4",
    ]
    assert state.changed
    for minutes in (1, 15, 29):  # still firing: nothing again
        now = NOW + timedelta(minutes=minutes)
        assert state.step(alerts.evaluate(engine, now, cfg), now, cfg, engine) == []
    assert not state.changed
    half = NOW + timedelta(minutes=45)  # K1's response due passed at 12:30: it breached, which is news
    assert [a.message for a in state.step(alerts.evaluate(engine, half, cfg), half, cfg, engine)] == [
        "TK1 overdue by 15 min: ticket K1"
    ]
    hour = NOW + timedelta(minutes=61)  # K2 and K4 repeat after the hour; K1's breach is 16 min old
    again = state.step(alerts.evaluate(engine, hour, cfg), hour, cfg, engine)
    assert [a.message.split(" ")[0] for a in again] == ["TK2", "TK4"]
    assert len(state.log) == 6


def test_a_ticket_leaving_the_state_and_coming_back_is_news_again():
    cfg = config("UTC", alerts={"repeat_minutes": 600})
    state = Announcer()
    assert len(state.step([Firing(AT_RISK, frozenset({1}))], NOW, cfg)) == 1
    assert state.step([], NOW + timedelta(minutes=1), cfg) == []
    assert state.changed  # forgotten
    assert len(state.step([Firing(AT_RISK, frozenset({1}))], NOW + timedelta(minutes=2), cfg)) == 1


def test_many_at_once_are_one_announcement_and_worse_is_news():
    cfg = config("UTC", alerts={"group_over": 3, "new_queue": "both"})
    state = Announcer()
    seven = [Firing(AT_RISK, frozenset(range(1, 8))), Firing(NEW_QUEUE, level=2, message="25 new")]
    out = state.step(seven, NOW, cfg)
    assert [(a.rule, a.message, a.delivery) for a in out] == [
        (AT_RISK, "7 tickets now at risk", "bell"),
        (NEW_QUEUE, "25 new", "both"),
    ]
    assert out[0].ticket_ids == tuple(range(1, 8)) and len(state.log) == 8
    later = NOW + timedelta(minutes=5)
    assert state.step([Firing(AT_RISK, frozenset(range(1, 8))), Firing(NEW_QUEUE, level=2)], later, cfg) == []
    worse = state.step([Firing(AT_RISK, frozenset(range(1, 9))), Firing(NEW_QUEUE, level=3, message="31")], later, cfg)
    assert [(a.rule, a.ticket_ids) for a in worse] == [(AT_RISK, (8,)), (NEW_QUEUE, ())]


def test_the_log_keeps_today_only_and_the_state_survives_a_restart(tmp_path):
    cfg = config("UTC", alerts={"repeat_minutes": 10080})
    state = Announcer()
    state.step([Firing(BREACH, frozenset({4, 5}))], NOW - timedelta(days=1), cfg)
    state.step([Firing(BREACH, frozenset({4, 5, 6}))], NOW, cfg)
    assert [e.ticket_id for e in state.log] == [6]  # yesterday's are gone
    path = tmp_path / "state" / "alerts.json"
    delivery.save_state(path, state)
    again = delivery.load_state(path)
    assert again.tickets == state.tickets and [e.ticket_id for e in again.log] == [6]
    assert oct(path.stat().st_mode & 0o777) == "0o600"
    assert again.step([Firing(BREACH, frozenset({4, 5, 6}))], NOW + timedelta(minutes=1), cfg) == []
    path.write_text("{not json", encoding="utf-8")
    assert delivery.load_state(path).tickets == {}
    path.write_text(json.dumps({"tickets": {"breach": {"x": [1]}}, "log": [{"at": 3}]}), encoding="utf-8")
    assert delivery.load_state(path).log == []


def test_state_path_is_per_database_under_xdg_state_home(tmp_path):
    one, two = delivery.state_path("sqlite:///a.db"), delivery.state_path("sqlite:///b.db")
    assert one != two and one.parent == tmp_path / "state" / "mspkpi"


# --- the bytes -------------------------------------------------------------------------------------


def announce(how: str, message: str = "TK1 due in 30 min: disk full") -> alerts.Announcement:
    return alerts.Announcement(AT_RISK, how, message, (1,))


@pytest.mark.parametrize(
    ("how", "tmux", "expected"),
    [
        ("bell", False, "\x07"),
        (
            "notify",
            False,
            "\x1b]9;mspkpi: TK1 due in 30 min: disk full\x07\x1b]777;notify;mspkpi;TK1 due in 30 min: disk full\x07",
        ),
        (
            "both",
            True,
            "\x1bPtmux;\x1b\x1b]9;mspkpi: TK1 due in 30 min: disk full\x07\x1b\\"
            "\x1bPtmux;\x1b\x1b]777;notify;mspkpi;TK1 due in 30 min: disk full\x07\x1b\\\x07",
        ),
        ("off", True, None),
    ],
)
def test_bell_and_desktop_notifications_written(how, tmux, expected):
    written: list[str] = []
    toasts: list[str] = []
    delivery.deliver([announce(how)], toasts.append, written.append, in_tmux=tmux)
    assert written == ([expected] if expected else [])
    assert toasts == ([] if how == "off" else ["TK1 due in 30 min: disk full"])


def test_a_burst_rings_once_and_psa_text_cannot_escape():
    written: list[str] = []
    hostile = "TK9: \x1b]52;c;ZXZpbA==\x07 pwn; more"
    delivery.deliver(
        [announce("bell"), announce("both", hostile), announce("bell")], lambda _: None, written.append, False
    )
    assert len(written) == 1 and written[0].count("\x07") == 3  # two OSC terminators and one bell
    body = written[0]
    assert "\x1b]52" not in body and "␛]52" in body and "pwn, more" in body


def test_nothing_is_written_while_nothing_fires():
    written: list[str] = []
    delivery.deliver([], written.append, written.append, False)
    assert written == []


# --- mspkpi alerts ---------------------------------------------------------------------------------


def test_cli_exit_codes(run_cli, sqlite_url, tmp_path):
    from mspkpi_tui.store.engine import open_database

    engine = open_database(sqlite_url)
    desk().store(engine)
    engine.dispose()
    now = NOW.isoformat()
    firing = run_cli("--db", sqlite_url, "--now", now, "alerts")
    assert firing.returncode == 3, firing.stderr
    assert "breach: TK2 overdue by 60 min: ticket K2" in firing.stdout
    as_json = run_cli("--db", sqlite_url, "--now", now, "alerts", "--format", "json")
    assert as_json.returncode == 3
    assert {f["rule"] for f in json.loads(as_json.stdout)["firing"]} >= {BREACH, AT_RISK, CRITICAL}
    quiet = tmp_path / "quiet.toml"
    rules_off = "\n".join(f'{r} = "off"' for r in (AT_RISK, BREACH, CRITICAL, NEW_QUEUE, SYNC))
    quiet.write_text(f"[alerts]\n{rules_off}\n", encoding="utf-8")
    none = run_cli("--config", str(quiet), "--db", sqlite_url, "--now", now, "alerts")
    assert (none.returncode, none.stdout.strip()) == (0, "no alert fires")
    broken = run_cli("--db", f"sqlite:///{tmp_path}/missing/x.db", "alerts")
    assert broken.returncode == 1 and len(broken.stderr.strip().splitlines()) == 1
