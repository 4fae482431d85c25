"""Issue 11, the quick keys: a pane switch paints the new pane once, with the focus already on
its table and without repainting the whole screen; a focus asked for on a pane no longer shown
never takes the screen back (two panes used to take it from each other); a filter keystroke
that changes the queue's length lays nothing out while the scrollbar stays as it is, and the
filter box lays nothing out as it fills; the queue draws a ticket's line again only when
something the line shows changed.

The updates are taken where Textual hands them to the terminal (App._display); the layouts
are counted with Screen.screen_layout_refresh_signal (published after each layout)."""

from __future__ import annotations

from dataclasses import replace

import pytest
from test_tui_app import loaded, screen_text, settle, table, wait_until
from test_tui_support import OPEN_TICKETS, make_app, tui_engine, tui_template_db  # noqa: F401
from textual._compositor import CompositorUpdate, LayoutUpdate

from mspkpi_tui.tui.filter_box import FilterBox
from mspkpi_tui.tui.pane_tabs import PaneStrip, PaneSwitcher
from mspkpi_tui.tui.panes import PANES
from mspkpi_tui.tui.widgets import Figure, TicketListView

pytestmark = pytest.mark.anyio


@pytest.fixture
def anyio_backend():
    return "asyncio"


class Frames:
    """Each compositor update the app hands to the terminal, with the widget focused then."""

    def __init__(self, app) -> None:
        self.updates: list[tuple[str, str | None]] = []
        original = app._display

        def display(screen, renderable) -> None:
            if isinstance(renderable, CompositorUpdate):
                focused = app.focused.id if app.focused is not None else None
                self.updates.append(("full" if isinstance(renderable, LayoutUpdate) else "part", focused))
            original(screen, renderable)

        app._display = display


async def all_panes(pilot) -> None:
    await loaded(pilot)
    await wait_until(pilot, lambda: len(pilot.app.mounted_panes()) == len(PANES))
    await settle(pilot)


async def test_a_pane_switch_paints_once_with_the_focus_moved_and_not_the_whole_screen(tui_engine):
    app = make_app(tui_engine)
    async with app.run_test(size=(120, 40)) as pilot:
        await all_panes(pilot)
        await pilot.press("6")  # built and shown once: its tables have rendered
        await settle(pilot)
        await pilot.press("1")
        await settle(pilot)
        frames = Frames(app)
        await pilot.press("6")
        await settle(pilot)
        assert app.active_pane_id == "service" and app.focused is not None and app.focused.id == "svc-contracts"
        assert frames.updates, "the switch painted nothing"
        # No frame showed the new pane with the Queue's table still focused, and the focus
        # change did not repaint the whole screen (it was a second full frame, ~19 KB).
        assert all(kind == "part" for kind, _ in frames.updates), frames.updates
        assert all(focused == "svc-contracts" for _, focused in frames.updates), frames.updates


async def test_a_pane_switch_that_changes_the_keys_draws_them_in_the_same_frame(tui_engine):
    """Textual's Footer was rebuilt a frame after the switch, the tabs' underline moved a frame
    after it, and the queue's scrollbars repainted a frame after it: three frames for one key."""
    app = make_app(tui_engine)
    async with app.run_test(size=(120, 40)) as pilot:
        await all_panes(pilot)
        for key in "5151":  # each pane shown once: its charts are drawn
            await pilot.press(key)
            await settle(pilot)
        for key, has_filter in [("5", False), ("1", True), ("5", False)]:
            frames = Frames(app)
            await pilot.press(key)
            await settle(pilot)
            assert len(frames.updates) == 1, (key, frames.updates)
            assert ("Filter" in screen_text(app).splitlines()[-1]) == has_filter, key


def strip_line(app) -> str:
    return screen_text(app).splitlines()[0]


async def test_a_click_on_a_pane_name_shows_it_with_its_table_focused(tui_engine):
    app = make_app(tui_engine)
    async with app.run_test(size=(80, 24)) as pilot:
        await all_panes(pilot)
        line = strip_line(app)
        assert line.startswith(" 1 Queue 2 SLAs 3 Escalations")
        await pilot.click(PaneStrip, offset=(line.index("3 Escalations") + 5, 0))
        await settle(pilot)
        assert app.active_pane_id == "escalations"
        assert app.focused is not None and app.pane("escalations") in app.focused.ancestors
        await pilot.click(PaneStrip, offset=(line.index(" 2 SLAs"), 0))  # the gap before a name is its own
        await settle(pilot)
        assert app.active_pane_id == "sla" and app.focused is app.query_one("#sla-list")


async def test_left_and_right_on_the_focused_strip_step_through_the_panes_and_keep_the_focus(tui_engine):
    app = make_app(tui_engine)
    async with app.run_test(size=(80, 24)) as pilot:
        await all_panes(pilot)
        strip = app.query_one(PaneStrip)
        await pilot.press("shift+tab")  # from the queue's table back to the strip
        await settle(pilot)
        assert app.focused is strip
        shown = []
        for key in ["right", "right", "left", "left", "left"]:
            await pilot.press(key)
            await settle(pilot)
            shown.append(app.active_pane_id)
            assert app.focused is strip and strip.active == app.active_pane_id
        assert shown == ["sla", "escalations", "sla", "queue", PANES[-1].pane_id]  # round from the first
        assert app.pane("clients").display and not any(app.pane(cls.pane_id).display for cls in PANES[:-1])


@pytest.mark.parametrize("width", [40, 60])
async def test_a_narrow_strip_starts_late_enough_to_show_the_pane_shown(tui_engine, width):
    """Eight names take 78 columns: at 40 or 60 the strip drops names from its start until the
    shown pane's name is whole, and starts at the first name again when it fits."""
    app = make_app(tui_engine)
    async with app.run_test(size=(width, 24)) as pilot:
        await all_panes(pilot)
        assert strip_line(app).startswith(" 1 Queue 2 SLAs")
        for key, name in [("8", "8 Clients"), ("5", "5 Pipeline"), ("1", "1 Queue")]:
            await pilot.press(key)
            await settle(pilot)
            assert name in strip_line(app), (key, strip_line(app))
        assert strip_line(app).startswith(" 1 Queue")


@pytest.mark.parametrize("no_color", [True, False], ids=["NO_COLOR", "colour"])
async def test_the_shown_panes_name_is_bold_and_reversed_with_or_without_colour(tui_engine, monkeypatch, no_color):
    if no_color:
        monkeypatch.setenv("NO_COLOR", "1")
    else:
        monkeypatch.delenv("NO_COLOR", raising=False)
    app = make_app(tui_engine)
    async with app.run_test(size=(80, 24)) as pilot:
        await all_panes(pilot)
        for key, name in [("1", "1 Queue"), ("3", "3 Escalations")]:
            await pilot.press(key)
            await settle(pilot)
            text = app.query_one(PaneStrip).render()
            styled = {text.plain[span.start : span.end]: span.style for span in text.spans}
            assert styled[name].bold and styled[name].reverse, (name, styled[name])
            others = [style for label, style in styled.items() if label.strip() and label != name]
            assert others and not any(style.reverse for style in others)


async def test_a_focus_asked_for_on_a_pane_not_shown_leaves_the_pane_shown(tui_engine):
    app = make_app(tui_engine)
    async with app.run_test(size=(120, 40)) as pilot:
        await all_panes(pilot)
        assert app.active_pane_id == "queue"
        app.query_one("#svc-contracts").focus()  # e.g. asked for by a pane key just before this one
        await settle(pilot)
        assert app.active_pane_id == "queue" and app.focused is table(app)


async def test_two_pane_keys_at_once_end_on_the_second_pane_and_stay(tui_engine):
    app = make_app(tui_engine)
    async with app.run_test(size=(120, 40)) as pilot:
        await all_panes(pilot)
        for first, second in [("service", "queue"), ("team", "pipeline"), ("queue", "sla")]:
            app.action_show_pane(first)
            app.action_show_pane(second)  # the second key before the first one's focus was handled
            shown = []
            for _ in range(20):  # the two panes used to take the screen from each other
                await pilot.pause(0.01)
                shown.append(app.active_pane_id)
            assert set(shown) == {second}, shown
            assert app.focused is not None and app.pane(second) in app.focused.ancestors


async def test_a_shorter_queue_keeps_its_scrollbar_without_a_layout(tui_engine):
    app = make_app(tui_engine)
    async with app.run_test(size=(80, 23)) as pilot:  # the queue holds fewer rows than it has
        await all_panes(pilot)
        queue = table(app)
        ids = list(queue.ids)
        height = queue.container_size.height
        assert len(ids) == OPEN_TICKETS and height + 1 < OPEN_TICKETS and queue.show_vertical_scrollbar
        layouts = []
        app.screen.screen_layout_refresh_signal.subscribe(queue, lambda screen: layouts.append(screen))
        queue.action_cursor_last()  # scrolled to the end: the shorter list must scroll back into range
        await settle(pilot)
        assert queue.scroll_offset.y == OPEN_TICKETS - height
        layouts.clear()

        queue.show(ids[: height + 1])  # a filter keystroke: fewer tickets, still more than the screen holds
        await settle(pilot)
        assert layouts == []  # the whole screen was laid out on every keystroke
        assert queue.virtual_size.height == height + 1 and queue.show_vertical_scrollbar
        assert queue.vertical_scrollbar.window_virtual_size == height + 1
        assert queue.scroll_offset.y == 1 and queue.max_scroll_y == 1
        row = queue.current_row()
        assert queue.current_id == ids[height] and row is not None and row.number in screen_text(app)

        queue.show(ids[:3])  # now the tickets fit: the scrollbar goes, and that is a layout
        await settle(pilot)
        assert layouts and not queue.show_vertical_scrollbar and queue.scroll_offset.y == 0
        assert queue.virtual_size.height == 3


async def test_a_resize_of_the_sla_pane_that_keeps_its_labels_keeps_its_list(tui_engine):
    """Showing a pane again sends it a Resize; the SLAs pane rebuilt its whole ticket list for it
    (every row's cells), though only its bucket labels depend on its width."""
    app = make_app(tui_engine)
    async with app.run_test(size=(120, 40)) as pilot:
        await all_panes(pilot)
        await pilot.press("2")
        await settle(pilot)
        view = app.query_one("#sla-list", TicketListView)
        listed = view._last
        assert listed is not None
        await pilot.press("1")
        await settle(pilot)
        await pilot.resize_terminal(110, 40)  # the labels keep their 32 columns
        await pilot.press("2")
        await settle(pilot)
        assert view.size.width < 120 and view._last is listed
        labels = app.query_one("#sla-buckets", Figure).plain
        await pilot.resize_terminal(40, 40)  # narrower labels: the buckets are shown again
        await settle(pilot)
        assert app.query_one("#sla-buckets", Figure).plain != labels


async def test_the_filter_box_lays_nothing_out_as_it_fills_and_still_scrolls_its_text(tui_engine):
    """Textual's Input laid out the whole screen on every keystroke (its virtual width is a
    reactive with layout=True); the box has a fixed size, so a keystroke only repaints it."""
    app = make_app(tui_engine)
    async with app.run_test(size=(80, 24)) as pilot:
        await all_panes(pilot)
        await pilot.press("slash")
        await settle(pilot)
        box = app.query_one("#queue-filter", FilterBox)
        assert app.focused is box
        layouts = []
        app.screen.screen_layout_refresh_signal.subscribe(box, lambda screen: layouts.append(screen))
        for key in "t2026":  # every ticket's number matches: the list keeps its length
            await pilot.press(key)
            await settle(pilot)
        assert box.value == "t2026" and "filter: t2026" in screen_text(app)
        assert len(table(app).ids) == OPEN_TICKETS
        assert layouts == []
        await pilot.press(*"x" * 100)  # longer than the box: it scrolls to keep the cursor shown
        await settle(pilot)
        assert box.scroll_x > 0 and box.cursor_position == 105
        assert "x" * 60 in screen_text(app) and "t2026" not in screen_text(app).split("filter:")[0]


async def test_the_queue_draws_a_line_again_only_when_what_it_shows_changed(tui_engine):
    app = make_app(tui_engine)
    async with app.run_test(size=(120, 40)) as pilot:
        await all_panes(pilot)
        queue = table(app)
        first = queue.render_line(1)
        assert queue.render_line(1) is first  # nothing changed: the line drawn before
        row = queue.current_row()
        second = queue._rows[queue.ids[1]]
        assert row is not None
        # The same rows read again (a filter keystroke reads the rows on screen): still the same line.
        queue.show(list(queue.ids), [replace(r) for r in queue._rows.values()])
        assert queue.render_line(1) is first
        # A row read with new text is drawn again.
        queue.show(list(queue.ids), [replace(second, title="Printer on fire")])
        assert "Printer on fire" in "".join(s.text for s in queue.render_line(1))
        # The cursor, a mark and the focus each draw the line again.
        before = queue.render_line(1)
        queue.action_cursor_down()
        assert queue.render_line(1) is not before and queue.render_line(0) is not None
        marked = queue.render_line(1)
        await pilot.press("space")  # marks the ticket under the cursor (line 1)
        await settle(pilot)
        assert queue.render_line(1) is not marked
        y = queue.cursor - queue.scroll_offset.y
        focused = queue.render_line(y)
        await pilot.press("2")
        await settle(pilot)
        assert queue.render_line(y) != focused  # the cursor's colour without the focus


async def test_a_table_restyles_for_its_focus_only_where_it_shows(tui_engine):
    """A table blurred as its pane is hidden keeps its focused styles (the restyle was ~10 % of a
    switch, and the focus comes back with the pane); shown without the focus, it is restyled."""
    app = make_app(tui_engine)
    async with app.run_test(size=(120, 40)) as pilot:
        await all_panes(pilot)
        view = app.query_one("#sla-list", TicketListView)

        def cursor_style():
            return view.get_component_rich_style("table--cursor")

        await pilot.press("2")
        await settle(pilot)
        assert app.focused is view
        focused = cursor_style()
        await pilot.press("shift+tab")  # the focus leaves the table, which stays on screen
        await settle(pilot)
        assert app.focused is not view
        blurred = cursor_style()
        assert blurred != focused
        await pilot.press("2", "1")
        await settle(pilot)
        assert not view.has_focus and cursor_style() == focused  # hidden: not restyled
        await pilot.press("2")
        await settle(pilot)
        assert app.focused is view and cursor_style() == focused
        await pilot.press("1")
        await settle(pilot)
        # Shown with the focus left where it was (no pane key or tab does that: each focuses the
        # pane's table; the pane's container switched directly).
        app.query_one("#panes", PaneSwitcher).current = "sla"
        await settle(pilot)
        assert not view.has_focus and cursor_style() == blurred


async def test_a_filter_keystroke_over_tickets_read_already_is_answered_at_once_and_the_same(tui_engine):
    """Typing on narrows the list and a backspace widens it again: when the rows on screen were
    read by an earlier keystroke, the answer comes from memory on the UI thread (no worker), and
    it is the answer the worker (and so the SQL filter) gives."""
    app = make_app(tui_engine)
    async with app.run_test(size=(120, 40)) as pilot:
        await all_panes(pilot)
        pane = app.pane("queue")
        await pilot.press("slash")
        await settle(pilot)
        cache, version = pane.filter_cache, pane.filter_cache.version
        height = table(app).size.height
        for keys, text in [(["c"], "c"), (["a"], "ca"), (["backspace"], "c")]:
            query = replace(pane.ticket_query, text=text)
            known = cache.answer_now(query, version, height, 1000)
            if keys == ["c"]:
                assert known is None  # nothing read yet: a worker reads it
            else:  # the rows "c" listed hold those of "ca"; the backspace lists "c" again
                assert known is not None and known[0] == cache.filtered(app.engine, app.now, query, version)
            await pilot.press(*keys)
            if known is not None:  # answered in the key's handler, before any worker or pause
                assert table(app).ids == known[0] and pane.shown_query == pane.ticket_query
            await settle(pilot)
            ids = table(app).ids
            assert ids == cache.filtered(app.engine, app.now, pane.ticket_query, version)
            assert [table(app)._rows[i] for i in ids] == table(app)._fetch(ids)
            assert f"filter: {text}" in screen_text(app)


async def test_a_filter_keystroke_answered_from_memory_is_one_frame(tui_engine):
    """The box hands its text to the pane in the key's handler (Input.Changed arrived a few
    message hops later, after the box had been painted alone)."""
    app = make_app(tui_engine)
    async with app.run_test(size=(120, 40)) as pilot:
        await all_panes(pilot)
        await pilot.press("slash", "c")  # read by a worker: the rows of "c" are kept
        await settle(pilot)
        frames = Frames(app)
        await pilot.press("a")
        await settle(pilot)
        assert "filter: ca" in screen_text(app) and len(table(app).ids) < OPEN_TICKETS
        assert len(frames.updates) == 1, frames.updates
