"""The rule lines (`rules` in `mspkpi kpi`, one per section) read as sentences whatever the config
holds: no doubled word (a Pipeline line once said "at at"), no empty list leaving "unless ;" or
"at  days" behind."""

from __future__ import annotations

import re

import pytest

from mspkpi_tui.config import config_from_dict
from mspkpi_tui.kpi.report import rules_in_force

CONFIGS = {
    "defaults": {},
    "lists set": {
        "pipeline": {"target": 500000, "checkin_days": [7, 14]},
        "timesheet": {"time_off_categories": ["Holiday"]},
        "escalation": {"queues": ["Level 2"]},
    },
    "lists empty": {
        "pipeline": {"checkin_days": []},
        "timesheet": {"done_statuses": []},
        "escalation": {"statuses": [], "queues": []},
    },
}
DOUBLED_WORD = re.compile(r"\b([a-z]+) \1\b", re.IGNORECASE)
EMPTY_CLAUSE = re.compile(r"  |\w ;| ,|\( |\(\)| ;|;;")


@pytest.mark.parametrize("settings", CONFIGS.values(), ids=CONFIGS.keys())
def test_every_rule_line_reads_without_doubled_words_or_empty_clauses(settings):
    for section, line in rules_in_force(config_from_dict(settings)).items():
        assert not DOUBLED_WORD.search(line), (section, line)
        assert not EMPTY_CLAUSE.search(line.replace(" x ", " ")), (section, line)
        assert line == line.strip() and line[-1] != ";", (section, line)


def test_the_pipeline_rule_names_its_check_ins_once():
    assert "check-ins at 15/30/45 days;" in rules_in_force(config_from_dict({}))["pipeline"]
    assert "no check-ins set;" in rules_in_force(config_from_dict({"pipeline": {"checkin_days": []}}))["pipeline"]


def test_an_empty_done_status_list_drops_the_unless_clause():
    team = rules_in_force(config_from_dict({"timesheet": {"done_statuses": []}}))["team"]
    assert "+ 1 day(s); no timesheet records" in team
