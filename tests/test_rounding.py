"""One rounding for every figure: half up at the shown precision, the same on SQLite and
PostgreSQL, in the report and on screen."""

from __future__ import annotations

from datetime import timedelta
from decimal import ROUND_HALF_UP, Context, Decimal

import pytest
from test_kpi_builder import NOW, Data, config

from mspkpi_tui.kpi.common import half_up, hours, maybe, pct
from mspkpi_tui.kpi.pipeline import pipeline_figures
from mspkpi_tui.output.values import display
from mspkpi_tui.tui import text as fmt


@pytest.mark.parametrize(
    "value, digits, expected",
    [(0.125, 2, 0.13), (0.375, 2, 0.38), (2.5, 0, 3.0), (0.25, 1, 0.3), (0.35, 1, 0.4), (-0.125, 2, -0.13)],
)
def test_half_up_where_pythons_round_goes_to_even(value, digits, expected):
    assert half_up(value, digits) == expected


def test_every_writer_rounds_the_same_way():
    assert hours(0.125) == 0.13 and hours(0.375) == 0.38  # the report's hours
    assert maybe(76.74999999999, 1) == 76.8 == maybe(76.75000000001, 1)  # float noise from a database
    assert pct(1, 8) == 12.5 and fmt.pct(12.5) == "13%"
    assert fmt.hours(0.25) == "0.3" and fmt.hours(0.35) == "0.4" and fmt.hours(0.125) == "0.1"
    assert display(0.125) == "0.13" and display(0.375) == "0.38"


def test_days_in_stage_print_the_same_on_both_databases(engine):
    """76.75 days in stage: SQLite's and PostgreSQL's epoch arithmetic differ in the last bits;
    both print 76.8 (half up), not 76.7 on one of them."""
    d = Data()
    entered = NOW - timedelta(days=76, hours=18)
    d.add(
        "opportunities",
        id="O1",
        title="a",
        stage="Qualify",
        stage_rank=1,
        amount=1000,
        stage_entered_at=entered.isoformat().replace("+00:00", "Z"),
    )
    d.store(engine)
    stage = pipeline_figures(engine, NOW, config("UTC")).stages[0]
    assert stage.max_days_in_stage == 76.8 and stage.avg_days_in_stage == 76.8


@pytest.mark.parametrize("value", [1e26, -1.7e308, float("inf"), float("nan")])
def test_half_up_takes_any_float(value):
    """Found by the report property: 1e26 at two decimals needs more than Decimal's 28 digits."""
    got = half_up(value, 2)
    assert got == value or (got != got and value != value)


def _half_up_by_decimal(value: float, digits: int) -> float:
    """The rule written out: cut to 9 decimals, then half up on the decimal text."""
    exact = Decimal(repr(round(value, 9)))
    return float(exact.quantize(Decimal(1).scaleb(-digits), rounding=ROUND_HALF_UP, context=Context(prec=400)))


def test_half_up_agrees_with_the_decimal_rule_near_and_away_from_ties():
    """half_up skips Decimal (and at up to 2 digits round()) away from a tie (the Clients pane rounds ~40,000 figures a read):
    the same float for ties, the float noise around them, negatives, and values where
    Python's round() and half up part (2.675 is stored below the tie, 1.0000000005 at 9 decimals)."""
    values = [2.675, 1.005, 0.285, 1.0000000005, -2.675, -0.0, -0.004, 0.0049999999999, 99999999.995, 123456789.125]
    for k in range(-2000, 2000):
        for digits in (0, 1, 2, 3):
            tie = (k + 0.5) / 10**digits
            values += [tie, tie + 1e-12, tie - 1e-12, tie * (1 + 1e-15), k / 3 / 10**digits, k * 0.1 + 0.05]
            # at the edges of the fast path's "away from a tie" (1e-6 of a unit) and of the cut to 9 decimals
            values += [tie + 1.1e-6 / 10**digits, tie - 1.1e-6 / 10**digits, tie + 4.9e-10, tie - 5.1e-10]
    for value in values:
        for digits in (0, 1, 2, 3):
            assert repr(half_up(value, digits)) == repr(_half_up_by_decimal(value, digits)), (value, digits)
