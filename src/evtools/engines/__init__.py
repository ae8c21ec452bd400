"""The engine layer: the package's SQL and the engines that run it (DuckDB, Spark, SQL databases) behind one
interface (``base.Engine``); sources become views with canonical names here.

Imports ``evtools.core`` only. The analyses call ``queries``, ``pipeline`` and the interface, never one engine.
"""
