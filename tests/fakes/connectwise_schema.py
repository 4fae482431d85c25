"""What real ConnectWise records always carry, and how it serves them.

ConnectWise's schema makes some fields required (a member has an ``identifier``,
``firstName``, ``licenseClass`` ...; a project a ``billingMethod``), so a record the
tests put without them is filled with the values a new record gets there. Real
clients (pyconnectwise's models) refuse records that lack them. Keys whose value is
null are never sent: an unassigned ticket has no ``owner`` key at all.
"""

from __future__ import annotations

from typing import Any

# endpoint -> defaults for the required fields a test record may leave out; callables get the record.
REQUIRED: dict[str, dict[str, Any]] = {
    "system/members": {
        "identifier": lambda r: f"member{r['id']}",
        "firstName": lambda r: f"Member{r['id']}",
        "lastName": "",
        "inactiveFlag": False,
        "dailyCapacity": 8.0,
        "licenseClass": "F",  # full member
        "defaultEmail": "Office",
        "defaultPhone": "Office",
        "agreementInvoicingDisplayOptions": "RemainOnInvoicingScreen",
        "invoiceScreenDefaultTabFormat": "ShowInvoicingTab",
        "invoicingDisplayOptions": "RemainOnInvoicingScreen",
        "requireTimeSheetEntryFlag": True,
        "timeZone": {"id": 1, "name": "GMT-5/Eastern Time: US & Canada"},
    },
    "project/projects": {
        "billingMethod": "ActualRates",
        "board": {"id": 50, "name": "Professional Services"},
        "estimatedStart": "2026-01-01T00:00:00Z",
        "estimatedEnd": "2026-12-31T00:00:00Z",
        "closedFlag": False,
    },
    "service/priorities": {"color": "Gray"},
}


def fill_required(endpoint: str, record: dict) -> dict:
    """Give a record the required fields it lacks (an explicit value, even null, is kept)."""
    for name, default in REQUIRED.get(endpoint, {}).items():
        if name not in record:
            record[name] = default(record) if callable(default) else default
    return record


def without_nulls(value: Any) -> Any:
    """The record as ConnectWise serialises it: keys with a null value are left out, at every depth."""
    if isinstance(value, dict):
        return {k: without_nulls(v) for k, v in value.items() if v is not None}
    if isinstance(value, list):
        return [without_nulls(v) for v in value]
    return value


def only_fields(record: dict, fields: list[str]) -> dict:
    """The ``fields=`` projection: only the named paths (``id,board/name``), nesting kept."""
    result: dict = {}
    for path in fields:
        parts = [p for p in path.strip().split("/") if p]
        source: Any = record
        for part in parts:
            source = source.get(part) if isinstance(source, dict) else None
        if source is None or not parts:
            continue
        target = result
        for part in parts[:-1]:
            target = target.setdefault(part, {})
        target[parts[-1]] = source
    return result
