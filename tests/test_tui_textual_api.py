"""What the app takes from Textual beyond its public API, pinned so that a Textual upgrade that
changes it fails here (pyproject.toml pins `textual>=8,<9`; tests/test_packaging.py checks the pin).

- The private attributes the TUI reads: `App._driver` (bells and OSC 9/777 notifications are
  written through it, as Textual's own `bell()` does): still there, None before the app runs
  and a driver with `write` and `flush` while it runs. A new one fails the first test until it
  is pinned here.
- The private modules the TUI imports from: `textual._resolve.resolve` (tui/trends_pane.py splits
  the tab area's width into the grid's columns as Textual's layout does, to build the charts at
  their size before the first layout): still there, and it still splits that way.
- No class of ours silently takes over a private name of a Textual base class (an attribute or
  method `_x` that Textual's own code of that class also defines), except the one pinned here:
  `QuietScrollView._size_updated` (tui/quiet_scroll.py: a layout with the same sizes leaves the
  scrollbars alone), whose signature and its use by the screen's layout are checked below.
"""

from __future__ import annotations

import ast
import importlib
import inspect
import re
from pathlib import Path

import pytest
from test_tui_app import loaded
from test_tui_support import make_app, tui_engine, tui_template_db  # noqa: F401

import mspkpi_tui

PACKAGE = Path(mspkpi_tui.__file__).parent
TUI = PACKAGE / "tui"
PRIVATE_TEXTUAL_USED = {"_driver"}
PRIVATE_TEXTUAL_MODULES = {"textual._resolve"}
PRIVATE_TEXTUAL_OVERRIDES = {"QuietScrollView._size_updated"}

pytestmark = pytest.mark.anyio


@pytest.fixture
def anyio_backend():
    return "asyncio"


def _trees(root: Path):
    for path in sorted(root.rglob("*.py")):
        yield path, ast.parse(path.read_text(encoding="utf-8"))


def _our_names() -> set[str]:
    """Every name the package itself defines (functions, classes, attributes it assigns)."""
    names: set[str] = set()
    for _path, tree in _trees(PACKAGE):
        for node in ast.walk(tree):
            if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
                names.add(node.name)
            elif isinstance(node, ast.Attribute) and isinstance(node.ctx, ast.Store):
                names.add(node.attr)
            elif isinstance(node, ast.Name) and isinstance(node.ctx, ast.Store):
                names.add(node.id)
    return names


def test_the_private_textual_attributes_read_are_the_pinned_ones():
    ours = _our_names()
    foreign = {
        node.attr
        for _path, tree in _trees(TUI)
        for node in ast.walk(tree)
        if isinstance(node, ast.Attribute)
        and node.attr.startswith("_")
        and not node.attr.startswith("__")
        and node.attr not in ours
    }
    assert foreign == PRIVATE_TEXTUAL_USED


def test_the_private_textual_modules_imported_are_the_pinned_ones():
    imported = {
        node.module
        for _path, tree in _trees(TUI)
        for node in ast.walk(tree)
        if isinstance(node, ast.ImportFrom)
        and node.module
        and node.module.startswith("textual.")
        and any(part.startswith("_") for part in node.module.split("."))
    }
    assert imported == PRIVATE_TEXTUAL_MODULES


def test_textual_resolve_still_splits_a_width_into_fractional_columns():
    from textual._resolve import resolve
    from textual.css.scalar import Scalar
    from textual.geometry import Size

    # Three 1fr columns in 80 cells with a gutter of 2: 76 cells shared out, the remainder last.
    spans = resolve([Scalar.parse("1fr")] * 3, 80, 2, Size(80, 24), Size(80, 24))
    assert [width for _offset, width in spans] == [25, 25, 26]
    assert [offset for offset, _width in spans] == [0, 27, 54]


def _private_names_of(cls: type) -> set[str]:
    """The `_x` names a class's body defines: methods, and `self._x = ...` in its methods."""
    tree = ast.parse(inspect.getsource(cls).lstrip())
    names = set()
    for node in ast.walk(tree):
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)) and node.name.startswith("_"):
            names.add(node.name)
        elif isinstance(node, ast.Attribute) and isinstance(node.ctx, ast.Store) and node.attr.startswith("_"):
            names.add(node.attr)
    return {n for n in names if not n.startswith("__")}


def _textual_classes_of_ours():
    for path in sorted(TUI.glob("*.py")):
        module = importlib.import_module(f"mspkpi_tui.tui.{path.stem}")
        for cls in vars(module).values():
            if inspect.isclass(cls) and cls.__module__ == module.__name__:
                textual = [b for b in cls.__mro__ if b.__module__.startswith("textual.")]
                if textual:
                    yield cls, textual


def test_no_class_of_ours_overrides_a_private_name_of_its_textual_bases():
    checked = 0
    clashes = []
    for cls, bases in _textual_classes_of_ours():
        checked += 1
        mine = _private_names_of(cls)
        for base in bases:
            source = inspect.getsource(base)
            for name in mine:
                # Textual's private handlers (_on_mount ...) are its own (ours are on_*): any
                # definition or assignment of the same name in the base is a clash.
                if f"{cls.__qualname__}.{name}" in PRIVATE_TEXTUAL_OVERRIDES:
                    continue
                if re.search(rf"(def {name}\b|self\.{name}\b\s*[:=])", source):
                    clashes.append(f"{cls.__qualname__}.{name} (also {base.__module__}.{base.__qualname__})")
    assert checked >= 20  # the app, the panes, the tables and the screens were looked at
    assert clashes == []


async def test_the_apps_driver_is_there_and_writes(tui_engine):
    app = make_app(tui_engine)
    assert app._driver is None  # before the app runs
    async with app.run_test(size=(80, 24)) as pilot:
        await loaded(pilot)
        driver = app._driver
        assert driver is not None and callable(driver.write) and callable(driver.flush)
        app.terminal_write("\a")  # headless: written nowhere, and no error


def test_what_the_quick_pane_switch_and_filter_rely_on_is_still_there():
    """tui/focus.py and TicketTable._set_length use public names whose behaviour they depend on:
    Screen.focused is a reactive (redefined without the full repaint), and a ScrollBar is told
    the scrollable length through `window_virtual_size`."""
    from textual.reactive import Reactive
    from textual.screen import Screen
    from textual.scrollbar import ScrollBar
    from textual.widget import Widget

    from mspkpi_tui.tui.focus import DashboardScreen

    assert isinstance(inspect.getattr_static(Screen, "focused"), Reactive)
    assert isinstance(inspect.getattr_static(DashboardScreen, "focused"), Reactive)
    assert isinstance(inspect.getattr_static(ScrollBar, "window_virtual_size"), Reactive)
    assert isinstance(inspect.getattr_static(Widget, "virtual_size"), Reactive)
    assert callable(Widget.validate_scroll_y)


def test_the_scroll_views_size_hook_is_still_what_the_quiet_scroll_view_overrides():
    from textual.screen import Screen
    from textual.scroll_view import ScrollView

    parameters = list(inspect.signature(ScrollView._size_updated).parameters)
    assert parameters == ["self", "size", "virtual_size", "container_size", "layout"]
    assert "._size_updated(" in inspect.getsource(Screen._refresh_layout)
