"""The KPI engine: pure functions of (engine, now, config) returning plain dataclasses; no UI."""
