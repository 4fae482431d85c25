"""Benchmarks: a generated large MSP (generate.py) and the KPI refresh timing (kpi_bench.py)."""
