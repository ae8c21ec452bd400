"""The engine layer: the package's SQL and the engines that run it (DuckDB, Spark, SQL databases) behind one
interface (``base.Engine``); sources become views with canonical names here.

Imports ``evtools.core`` only. The analyses call ``queries``, ``pipeline`` and the interface, never one engine.
"""

from importlib import import_module

_HOME = {
    "open_engine": "connect",
    **dict.fromkeys(("of", "Engine", "DuckDBEngine", "TranspiledEngine", "missing_parameters", "to_pandas"), "base"),
}


def __getattr__(name: str):
    """``evtools.engines.open_engine`` and the interface's names, loaded on first use."""
    if name in _HOME:
        return getattr(import_module(f"evtools.engines.{_HOME[name]}"), name)
    raise AttributeError(f"module 'evtools.engines' has no attribute {name!r}")
