"""The registry the app builds its tabs from: one line per pane, in tab order (keys 1..n).

A new pane (Trends, Clients) is one module with a `Pane` subclass plus one line here.
The first pane is shown and read first; the others are built after the first paint.
"""

from __future__ import annotations

from mspkpi_tui.tui.clients_pane import ClientsPane
from mspkpi_tui.tui.escalations_pane import EscalationsPane
from mspkpi_tui.tui.pane import Pane
from mspkpi_tui.tui.pipeline_pane import PipelinePane
from mspkpi_tui.tui.queue_pane import QueuePane
from mspkpi_tui.tui.service_pane import ServicePane
from mspkpi_tui.tui.sla_pane import SlaPane
from mspkpi_tui.tui.team_pane import TeamPane
from mspkpi_tui.tui.trends_pane import TrendsPane

PANES: list[type[Pane]] = [
    QueuePane,
    SlaPane,
    EscalationsPane,
    TeamPane,
    PipelinePane,
    ServicePane,
    TrendsPane,
    ClientsPane,
]
