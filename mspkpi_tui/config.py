"""The config file (TOML, in the user config dir) and the rules it sets.

Every key is declared once here, typed, ranged and described (pydantic-settings), so a wrong
value is refused with one line naming the key, the value and what is expected, and the
engine, the report and the TUI's help all show the rule in force. Environment variables
override the file: ``MSPKPI_DB_URL``, ``MSPKPI_TIMEZONE``, ``MSPKPI_TUI__THEME`` ...
(``__`` steps into a table).
"""

from __future__ import annotations

import difflib
import os
import stat
import tomllib
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator
from pydantic_settings import BaseSettings, PydanticBaseSettingsSource, SettingsConfigDict

from mspkpi_tui.errors import ConfigError

CONFIG_ENV = "MSPKPI_CONFIG"
SECRET_KEYS = {"secret", "private_key", "password", "client_secret"}
WEEKDAYS = ["monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday"]
# The aliases the TUI accepts besides Textual's own theme names (see tui/app.py).
THEME_ALIASES = {"ansi": "ansi-dark", "textual-ansi": "ansi-dark", "light": "textual-light", "dark": "textual-dark"}


class _Table(BaseModel):
    # A typo in a key is an error, not a silently ignored setting.
    model_config = ConfigDict(extra="forbid", validate_assignment=True)


class EscalationRules(_Table):
    statuses: list[str] = Field(default_factory=lambda: ["Escalate"], description="ticket statuses that escalate")
    queues: list[str] = Field(default_factory=list, description="queues whose tickets are escalated")
    udf: str | None = Field(None, description="a user-defined field that marks escalation")
    period_days: int = Field(30, ge=1, le=3650, description="days the escalation counts look back")


class TimesheetRules(_Table):
    grace_days: float = Field(1.0, ge=0, le=60, description="days after a week ends before its timesheet is overdue")
    # share of expected hours below which a week without timesheets is overdue
    threshold: float = Field(0.9, ge=0, le=1, description="a share of expected hours, 0 to 1")
    done_statuses: list[str] = Field(default_factory=lambda: ["Submitted", "Approved"])  # not overdue (any case)
    # how many ended weeks the "Under hours" rule looks at (sources without timesheets)
    lookback_weeks: int = Field(2, ge=1, le=52, description="ended weeks the under-hours rule looks at")
    time_off_categories: list[str] = Field(default_factory=list)  # time codes that are time off, not work


class PipelineRules(_Table):
    # the amount coverage is measured against (e.g. the quarter's quota)
    target: float | None = Field(None, gt=0, le=1e15, description="the amount coverage is measured against")
    coverage_multiple: float = Field(4.0, gt=0, le=100, description="the coverage rule of thumb")  # the seed's
    checkin_days: list[int] = Field(default_factory=lambda: [15, 30, 45], description="whole days, 1 to 3650")

    @field_validator("checkin_days")
    @classmethod
    def _days_in_range(cls, days: list[int]) -> list[int]:
        if any(not 1 <= d <= 3650 for d in days):
            raise ValueError("every day must be between 1 and 3650")
        return days


class ServiceRules(_Table):
    fcr_period: Literal["ytd", "30d"] = Field("ytd", description="first-contact resolution period: ytd or 30d")
    # Status labels that are closed, to spot a reopen (closed -> open) in the status history.
    closed_statuses: list[str] = Field(
        default_factory=lambda: ["Complete", "Completed", "Closed", "Resolved", "Cancelled"]
    )


class ClientRules(_Table):
    """The Clients pane, `mspkpi kpi --section clients` and `mspkpi review` (docs/kpi.md)."""

    margin_threshold_pct: float = Field(20.0, ge=-1000, le=100, description="a margin % below which a client is needy")
    # hours per ticket or reactive tickets per seat above this multiple of the MSP's median: needy
    needy_multiple: float = Field(1.5, gt=1, le=100, description="a multiple of the MSP median, above 1")
    # issue types that are not reactive (planned work): left out of reactive tickets per seat
    non_reactive_issue_types: list[str] = Field(default_factory=lambda: ["Project", "Maintenance", "Recurring"])
    # time entry categories (work types) that are training, per technician in the Team pane
    training_categories: list[str] = Field(default_factory=lambda: ["Training"])
    # the survey question recommend_score answers (shown beside NPS)
    nps_question: str = Field("How likely are you to recommend us? (0-10)", min_length=1)


class TuiSettings(_Table):
    refresh_seconds: float = Field(15.0, ge=0, le=86400, description="seconds between refreshes, 0 for off")
    stale_after_minutes: float = Field(60.0, gt=0, le=525600, description="minutes after which data is stale")
    theme: str | None = Field(None, description="a Textual theme name")
    keymap: dict[str, str] = Field(default_factory=dict, description="a table of binding id = key")
    readonly: bool = Field(False, description="true: no triage action is sent or queued (as --readonly)")

    @field_validator("theme")
    @classmethod
    def _known_theme(cls, theme: str | None) -> str | None:
        if theme is None:
            return None
        from textual.theme import BUILTIN_THEMES  # only when a theme is set: Textual is slow to import

        known = sorted([*BUILTIN_THEMES, *THEME_ALIASES])
        if THEME_ALIASES.get(theme, theme) not in BUILTIN_THEMES:
            hint = difflib.get_close_matches(theme, known, n=1)
            raise ValueError(f"a known theme{f' (did you mean {hint[0]!r}?)' if hint else ''}: {', '.join(known)}")
        return theme


# Keys the dashboard binds (or reserves for panes being built): a custom view may not take one.
# tests/test_kpi_views.py checks this list against every binding of the app.
RESERVED_KEYS = frozenset(
    "1 2 3 4 5 6 7 8 9 0 q r c y ? / s f x j k g G b w p R N Z W A ! space M Q a t S P e n u v m".split()
)
Delivery = Literal["off", "bell", "notify", "both"]


class CustomView(_Table):
    """A saved filter: the same fields as the queue's filter (text and one value per facet)."""

    name: str = Field(min_length=1, max_length=40, description="the view's name in the queue and the palette")
    key: str = Field(description="one character that shows the view in the Queue pane")
    text: str = Field("", description="filter text, as typed after /")
    queue: str | None = None
    assignee: str | None = None
    priority: str | None = None
    status: str | None = None
    sort: Literal["due", "priority", "age", "activity", "company", "assignee"] = "due"

    @field_validator("key")
    @classmethod
    def _free_key(cls, key: str) -> str:
        if len(key) != 1 or not key.isprintable() or key.isspace():
            raise ValueError("one printable character")
        if key in RESERVED_KEYS:
            raise ValueError(f"a key the dashboard does not already use ({key!r} is taken)")
        return key


class ViewSettings(_Table):
    at_risk_hours: float = Field(1.0, gt=0, le=720, description="hours before a due time a ticket is at risk")
    stale_business_hours: float = Field(16.0, gt=0, le=10000, description="business hours without activity: stale")
    waiting_days: float = Field(5.0, gt=0, le=3650, description="days in a waiting status before it is listed")
    waiting_statuses: list[str] = Field(
        default_factory=lambda: ["Waiting Customer", "Waiting on Customer", "Waiting Client Response"],
        description="statuses that wait on the customer (names differ per PSA)",
    )
    business_days: list[int] = Field(default_factory=lambda: [0, 1, 2, 3, 4], description="weekdays, 0 = Monday")
    business_start_hour: float = Field(8.0, ge=0, lt=24, description="local hour the business day starts")
    business_end_hour: float = Field(18.0, gt=0, le=24, description="local hour the business day ends")
    triage_days: int = Field(30, ge=1, le=3650, description="days the median triage time looks back")
    custom: list[CustomView] = Field(default_factory=list, description="saved filters ([[views.custom]])")

    @field_validator("business_days")
    @classmethod
    def _weekdays(cls, days: list[int]) -> list[int]:
        if not days or any(not 0 <= d <= 6 for d in days):
            raise ValueError("weekday numbers 0 (Monday) to 6, at least one")
        return days

    @field_validator("custom")
    @classmethod
    def _unique_keys(cls, views: list[CustomView]) -> list[CustomView]:
        keys = [v.key for v in views]
        twice = sorted({k for k in keys if keys.count(k) > 1})
        if twice:
            raise ValueError(f"one view per key ({twice[0]!r} is used twice)")
        return views


class AlertSettings(_Table):
    enabled: bool = Field(True, description="false: the dashboard raises no alert")
    at_risk: Delivery = Field("bell", description="a ticket enters at risk: off, bell, notify or both")
    breach: Delivery = Field("bell", description="a ticket breaches its SLA: off, bell, notify or both")
    critical_unassigned: Delivery = Field(
        "bell", description="a Critical ticket is unassigned: off, bell, notify or both"
    )
    new_queue: Delivery = Field("bell", description="too many new unassigned tickets: off, bell, notify or both")
    sync: Delivery = Field("bell", description="the last sync failed or is stale: off, bell, notify or both")
    new_queue_max: int = Field(10, ge=0, le=1000000, description="unassigned tickets above which new_queue fires")
    critical_rank: int = Field(1, ge=1, le=99, description="priority ranks up to this one are Critical")
    repeat_minutes: float = Field(60.0, gt=0, le=10080, description="minutes before a still-firing alert repeats")
    group_over: int = Field(3, ge=1, le=1000, description="more tickets than this at once are announced as one")


# Connector tables are read by the connectors themselves (keys and environment variables there).
SOURCE_TABLES = ("autotask", "connectwise", "halo")
SourceTable = dict[str, str | int | float | bool | list[str]]


class Config(BaseSettings):
    model_config = SettingsConfigDict(
        env_prefix="MSPKPI_", env_nested_delimiter="__", extra="forbid", validate_assignment=True
    )

    db_url: str | None = Field(None, min_length=1, description="a SQLAlchemy database URL")
    timezone: str | None = Field(None, description="an IANA time zone name; unset = the machine's")
    me: str | None = Field(None, min_length=1, description='the lead\'s e-mail or name: "me" in Take and --assign me')
    week_start: int = Field(0, description="the weekday a week starts on (0 = Monday)")
    escalation: EscalationRules = Field(default_factory=EscalationRules)
    timesheet: TimesheetRules = Field(default_factory=TimesheetRules)
    pipeline: PipelineRules = Field(default_factory=PipelineRules)
    service: ServiceRules = Field(default_factory=ServiceRules)
    clients: ClientRules = Field(default_factory=ClientRules)
    tui: TuiSettings = Field(default_factory=TuiSettings)
    views: ViewSettings = Field(default_factory=ViewSettings)
    alerts: AlertSettings = Field(default_factory=AlertSettings)
    autotask: SourceTable = Field(default_factory=dict)
    connectwise: SourceTable = Field(default_factory=dict)
    halo: SourceTable = Field(default_factory=dict)
    path: Path | None = Field(None, exclude=True)

    @classmethod
    def settings_customise_sources(
        cls, settings_cls, init_settings, env_settings, dotenv_settings, file_secret_settings
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        # The environment overrides the file (the file's values arrive as init arguments).
        return env_settings, init_settings

    @field_validator("week_start", mode="before")
    @classmethod
    def _weekday(cls, value: Any) -> int:
        if isinstance(value, int) and not isinstance(value, bool) and 0 <= value <= 6:
            return value
        if isinstance(value, str) and value.lower() in WEEKDAYS:
            return WEEKDAYS.index(value.lower())
        raise ValueError("a weekday name such as monday")

    @field_validator("timezone")
    @classmethod
    def _zone_exists(cls, value: str | None) -> str | None:
        from mspkpi_tui.clock import get_zone

        get_zone(value)  # ConfigError names the zone
        return value

    @property
    def sources(self) -> dict[str, dict[str, Any]]:
        return {"autotask": dict(self.autotask), "connectwise": dict(self.connectwise), "halo": dict(self.halo)}

    @property
    def zone(self):
        from mspkpi_tui.clock import get_zone

        return get_zone(self.timezone)


def default_config_path() -> Path:
    from platformdirs import user_config_path

    return user_config_path("mspkpi", appauthor=False) / "config.toml"


def load_config(path: str | Path | None = None) -> Config:
    """Read the config; a missing default file means all defaults, a missing named file is an error."""
    explicit = path or os.environ.get(CONFIG_ENV)
    if path == "":
        raise ConfigError("--config needs a file path, not an empty value")
    config_path = Path(explicit).expanduser() if explicit else default_config_path()
    if not config_path.exists():
        if explicit:
            raise ConfigError(f"config file {config_path} does not exist")
        return config_from_dict({})
    _refuse_writable_by_others(config_path)
    try:
        data = tomllib.loads(config_path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(f"cannot read config file {config_path}: {exc}") from None
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"config file {config_path} is not valid TOML: {exc}") from None
    _refuse_readable_secrets(config_path, data)
    return config_from_dict(data, config_path)


def config_from_dict(data: dict[str, Any], path: Path | None = None) -> Config:
    where = str(path or "config")
    if "path" in data:  # not a setting: where the file was read from
        raise ConfigError(f"{where}: unknown setting path{_did_you_mean(['path'])}")
    try:
        return Config(**data, path=path)
    except ValidationError as exc:
        raise ConfigError(f"{where}: {_describe(exc, data)}") from None
    except TypeError as exc:  # a non-string key, only possible from code
        raise ConfigError(f"{where}: {exc}") from None


def _describe(exc: ValidationError, data: dict[str, Any]) -> str:
    """The first problem as one line: the key, the value, what is expected."""
    error = exc.errors(include_url=False)[0]
    loc = [str(part) for part in error["loc"]]
    value = error.get("input")
    if loc and loc[0] in SOURCE_TABLES:  # a union: name the key, not the union's member
        loc = loc[:2]
        message = "a string, a number, true/false or a list of strings"
        value = data.get(loc[0], {}).get(loc[1]) if len(loc) > 1 and isinstance(data.get(loc[0]), dict) else value
    else:
        message = error["msg"].removeprefix("Value error, ").removeprefix("Input should be ")
    if error["type"] == "extra_forbidden":
        key = f"[{loc[0]}]" if len(loc) == 1 and isinstance(data.get(loc[0]), dict) else _key_name(loc)
        return f"unknown setting {key}{_did_you_mean(loc)}"
    if isinstance(value, dict | list) and len(repr(value)) > 60:
        shown = f"{repr(value)[:57]}..."
    else:
        shown = "<hidden>" if loc and loc[-1] in SECRET_KEYS | {"db_url"} else repr(value)
    about = _description(loc)
    return f"{_key_name(loc)} = {shown}: expected {message}{f' ({about})' if about else ''}"


def _description(loc: list[str]) -> str | None:
    """The key's documentation, from its declaration."""
    model: Any = Config
    field = None
    for part in loc:
        fields = getattr(model, "model_fields", None)
        if not fields or part not in fields:
            break
        field = fields[part]
        model = field.annotation
    return field.description if field is not None else None


def _key_name(loc: list[str]) -> str:
    if not loc:
        return "the config"
    if len(loc) == 1:
        return f"[{loc[0]}]" if loc[0] in Config.model_fields and _is_table(loc[0]) else loc[0]
    return f"[{loc[0]}] {'.'.join(loc[1:])}"


def _is_table(name: str) -> bool:
    annotation = Config.model_fields[name].annotation
    return isinstance(annotation, type) and issubclass(annotation, BaseModel) or name in SOURCE_TABLES


def _did_you_mean(loc: list[str]) -> str:
    if len(loc) == 1:
        known = [name for name in Config.model_fields if name != "path"]
    else:
        table = Config.model_fields.get(loc[0])
        model = table.annotation if table else None
        known = list(model.model_fields) if isinstance(model, type) and issubclass(model, BaseModel) else []
    hint = difflib.get_close_matches(loc[-1], known, n=1)
    return f" (did you mean {hint[0]}?)" if hint else f" (known: {', '.join(known)})"


def _refuse_writable_by_others(path: Path) -> None:
    """The config can point the app at any database or PSA: only its owner may change it."""
    info = path.stat()
    if info.st_mode & (stat.S_IWGRP | stat.S_IWOTH):
        raise ConfigError(f"config file {path} can be changed by other users; run: chmod go-w {path}")
    if info.st_uid not in (os.getuid(), 0):
        raise ConfigError(f"config file {path} belongs to another user (uid {info.st_uid}); refusing to use it")


def _refuse_readable_secrets(path: Path, data: dict) -> None:
    """Like ssh with keys: a file holding secrets (a PSA secret, a password in db_url) must not be readable by others."""
    from mspkpi_tui.redact import url_has_password

    has_secret = any(isinstance(t, dict) and SECRET_KEYS & set(t) for t in data.values())
    db_url = data.get("db_url")
    has_secret = has_secret or (isinstance(db_url, str) and url_has_password(db_url))
    if has_secret and path.stat().st_mode & (stat.S_IRWXG | stat.S_IRWXO):
        raise ConfigError(f"config file {path} holds secrets but other users can read it; run: chmod 600 {path}")
