"""mspkpi: a terminal dashboard of service desk KPIs for managed service providers."""

__version__ = "0.1.0"
