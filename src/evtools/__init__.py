"""evtools: measure, explain and fix a slow daily events aggregation whose dashboard disagrees with its source.

The names below load on first use, so ``evtools`` starts (and installs its signal handlers) before DuckDB is imported.
"""

from importlib import import_module

__all__ = [
    "CheckFailed",
    "Config",
    "ConfigError",
    "DataError",
    "EvtoolsError",
    "load_config",
    "open_sources",
]
__version__ = "0.1.0"
_HOME = {
    "Config": "evtools.config",
    "load_config": "evtools.config",
    "CheckFailed": "evtools.errors",
    "ConfigError": "evtools.errors",
    "DataError": "evtools.errors",
    "EvtoolsError": "evtools.errors",
    "open_sources": "evtools.sources",
}


def __getattr__(name: str):
    if name in _HOME:
        return getattr(import_module(_HOME[name]), name)
    raise AttributeError(f"module 'evtools' has no attribute {name!r}")
