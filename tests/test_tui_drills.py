"""Drill-downs: every figure that counts records opens the list behind it, and the list is
built from the same rule as the count (they match on SQLite and PostgreSQL)."""

from __future__ import annotations

import pytest
from test_tui_app import loaded, screen_text, wait_until
from test_tui_support import NOW, fill, make_app, tui_config, tui_engine, tui_template_db  # noqa: F401

from mspkpi_tui.kpi import drills, tickets
from mspkpi_tui.kpi.escalations import escalation_figures
from mspkpi_tui.kpi.pipeline import pipeline_figures
from mspkpi_tui.kpi.projects import project_figures
from mspkpi_tui.kpi.service import service_figures
from mspkpi_tui.tui.drills import DrillList, DrillScreen

DRILL_LISTS = {"3": "#esc-drills", "4": "#team-drills", "5": "#pipe-drills", "6": "#svc-drills"}


@pytest.fixture
def anyio_backend():
    return "asyncio"


def test_each_list_behind_a_figure_has_as_many_records_as_the_figure_counts(engine):
    fill(engine)
    config = tui_config()
    projects = project_figures(engine, NOW, config)
    for colour in ("Red", "Amber", "Green"):
        assert drills.projects_at_risk(engine, NOW, config, colour).total == projects.at_risk[colour]
    assert projects.at_risk["Red"] > 0  # the dataset has a project late on both counts
    service = service_figures(engine, NOW, config)
    low = drills.csat_to_follow_up(engine, NOW, config)
    assert low.total == service.csat_30d.below_3 > 0 and all(row[3] < 3 for row in low.rows)
    pipeline = pipeline_figures(engine, NOW, config)
    for days in config.pipeline.checkin_days:
        past = sum(s.past_checkins[days] for s in pipeline.stages)
        assert drills.deals_past_checkin(engine, NOW, days).total == past
    escalations = escalation_figures(engine, NOW, config)
    assert escalations.by_issue_type
    for issue_type, n in escalations.by_issue_type.items():
        assert tickets.escalated_of_type(engine, NOW, config, issue_type).total == n, issue_type


pilot = pytest.mark.anyio


@pilot
@pytest.mark.parametrize("pane_key", list(DRILL_LISTS))
async def test_every_drill_in_a_pane_lists_as_many_records_as_its_count(tui_engine, pane_key):
    app = make_app(tui_engine)
    async with app.run_test(size=(80, 24)) as pilot:
        await loaded(pilot)
        await pilot.press(pane_key)
        listed = app.query_one(DRILL_LISTS[pane_key], DrillList)
        await wait_until(pilot, lambda: listed.row_count > 0)
        assert any(d.count for d in listed.drills.values())
        for drill in listed.drills.values():
            if drill.fetch is not None:
                assert drill.fetch(app).total == drill.count, drill.label


@pilot
async def test_the_team_panes_first_screen_counts_overdue_timesheets_and_enter_lists_them(tui_engine):
    app = make_app(tui_engine)
    async with app.run_test(size=(80, 24)) as pilot:
        await loaded(pilot)
        await pilot.press("4")
        await wait_until(pilot, lambda: "Overdue timesheets" in screen_text(app))
        overdue = app.latest["team"].figures.overdue_timesheets
        first_screen = screen_text(app).splitlines()[:8]
        assert any("Overdue timesheets" in line and line.rstrip().endswith(str(len(overdue))) for line in first_screen)
        await pilot.press("shift+tab")  # from the hours table up to the count line
        assert app.focused.id == "team-drills"
        await pilot.press("enter")
        await wait_until(pilot, lambda: isinstance(app.screen, DrillScreen) and app.screen.listed is not None)
        await pilot.pause()
        text = screen_text(app)
        for sheet in overdue:
            assert sheet.resource in text
        await pilot.press("escape")
        await wait_until(pilot, lambda: not isinstance(app.screen, DrillScreen))


@pilot
async def test_escalations_of_one_issue_type_open_as_tickets_with_their_detail(tui_engine):
    app = make_app(tui_engine)
    async with app.run_test(size=(80, 24)) as pilot:
        await loaded(pilot)
        await pilot.press("3")
        listed = app.query_one("#esc-drills", DrillList)
        await wait_until(pilot, lambda: listed.row_count > 0)
        listed.focus()
        await pilot.pause()
        await pilot.press("enter")
        await wait_until(pilot, lambda: isinstance(app.screen, DrillScreen) and app.screen.listed is not None)
        first = app.screen.listed.rows[0]
        await pilot.pause()
        assert first.number in screen_text(app)
        await pilot.press("enter")
        await wait_until(pilot, lambda: getattr(app.screen, "detail", None) is not None)
        assert app.screen.detail.row.id == first.id
