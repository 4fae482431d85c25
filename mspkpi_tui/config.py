"""The config file (TOML, in the user config dir) and the rules it sets.

Every rule the KPI definitions leave open is here, with its default, so the
engine, the report and the TUI's help all show the rule in force.
"""

from __future__ import annotations

import os
import stat
import tomllib
from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import Any

from mspkpi_tui.errors import ConfigError

CONFIG_ENV = "MSPKPI_CONFIG"
SECRET_KEYS = {"secret", "private_key", "password", "client_secret"}
WEEKDAYS = ["monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday"]


@dataclass
class EscalationRules:
    statuses: list[str] = field(default_factory=lambda: ["Escalate"])
    queues: list[str] = field(default_factory=list)
    udf: str | None = None
    period_days: int = 30


@dataclass
class TimesheetRules:
    grace_days: float = 1.0
    threshold: float = 0.9  # share of expected hours below which a week without timesheets is overdue
    done_statuses: list[str] = field(default_factory=lambda: ["Submitted", "Approved"])  # not overdue (any case)
    lookback_weeks: int = 2  # how many ended weeks the "Under hours" rule looks at (sources without timesheets)
    time_off_categories: list[str] = field(default_factory=list)  # time codes that are time off, not work


@dataclass
class PipelineRules:
    target: float | None = None  # the amount coverage is measured against (e.g. the quarter's quota)
    coverage_multiple: float = 4.0  # the seed's rule of thumb
    checkin_days: list[int] = field(default_factory=lambda: [15, 30, 45])


@dataclass
class ServiceRules:
    fcr_period: str = "ytd"  # ytd | 30d
    # Status labels that are closed, to spot a reopen (closed -> open) in the status history.
    closed_statuses: list[str] = field(
        default_factory=lambda: ["Complete", "Completed", "Closed", "Resolved", "Cancelled"]
    )


@dataclass
class TuiSettings:
    refresh_seconds: float = 15.0  # 0 turns automatic refresh off
    stale_after_minutes: float = 60.0
    theme: str | None = None
    keymap: dict[str, str] = field(default_factory=dict)
    readonly: bool = False  # true: no triage action is sent or queued (as --readonly)


@dataclass
class Config:
    path: Path | None = None
    db_url: str | None = None
    timezone: str | None = None  # IANA name; None = the machine's
    me: str | None = None  # the lead's e-mail or name: "me" in Take / --assign me
    week_start: int = 0  # 0 = Monday
    escalation: EscalationRules = field(default_factory=EscalationRules)
    timesheet: TimesheetRules = field(default_factory=TimesheetRules)
    pipeline: PipelineRules = field(default_factory=PipelineRules)
    service: ServiceRules = field(default_factory=ServiceRules)
    tui: TuiSettings = field(default_factory=TuiSettings)
    # Connector tables ([autotask], [connectwise]) are read by the connectors themselves.
    sources: dict[str, dict[str, Any]] = field(default_factory=dict)

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
    config_path = Path(explicit).expanduser() if explicit else default_config_path()
    if not config_path.exists():
        if explicit:
            raise ConfigError(f"config file {config_path} does not exist")
        return Config()
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
    config = Config(path=path)
    config.db_url = _typed(data, "db_url", str, where, None)
    config.timezone = _typed(data, "timezone", str, where, None)
    config.me = _typed(data, "me", str, where, None)
    week_start = _typed(data, "week_start", str, where, "monday").lower()
    if week_start not in WEEKDAYS:
        raise ConfigError(f"{where}: week_start must be a weekday name, not {week_start!r}")
    config.week_start = WEEKDAYS.index(week_start)
    config.escalation = _section(data, "escalation", EscalationRules, where)
    config.timesheet = _section(data, "timesheet", TimesheetRules, where)
    config.pipeline = _section(data, "pipeline", PipelineRules, where)
    config.service = _section(data, "service", ServiceRules, where)
    config.tui = _section(data, "tui", TuiSettings, where)
    config.sources = {
        name: dict(data[name]) for name in ("autotask", "connectwise") if isinstance(data.get(name), dict)
    }
    _ = config.zone  # fail now, with a clear message, on an unknown time zone
    return config


def _typed(data: dict, key: str, kind: type, where: str, default):
    value = data.get(key, default)
    if value is not None and not isinstance(value, kind):
        raise ConfigError(f"{where}: {key} must be a {kind.__name__}, not {value!r}")
    return value


def _section(data: dict, name: str, cls, where: str):
    raw = data.get(name, {})
    if not isinstance(raw, dict):
        raise ConfigError(f"{where}: [{name}] must be a table")
    known = {f.name: f for f in fields(cls)}
    unknown = set(raw) - set(known)
    if unknown:
        raise ConfigError(f"{where}: unknown setting(s) in [{name}]: {', '.join(sorted(unknown))}")
    section = cls()
    for key, value in raw.items():
        default = getattr(section, key)
        if isinstance(default, bool):
            if not isinstance(value, bool):
                raise ConfigError(f"{where}: [{name}] {key} must be true or false, not {value!r}")
        elif default is not None and isinstance(default, (int, float)) and not isinstance(value, (int, float)):
            raise ConfigError(f"{where}: [{name}] {key} must be a number, not {value!r}")
        setattr(section, key, value)
    return section


def _refuse_readable_secrets(path: Path, data: dict) -> None:
    """Like ssh with keys: a file holding secrets must not be readable by others."""
    has_secret = any(isinstance(t, dict) and SECRET_KEYS & set(t) for t in data.values())
    if has_secret and path.stat().st_mode & (stat.S_IRWXG | stat.S_IRWXO):
        raise ConfigError(f"config file {path} holds secrets but other users can read it; run: chmod 600 {path}")
