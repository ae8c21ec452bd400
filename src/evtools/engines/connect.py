"""The one place that picks an engine from the config: DuckDB over the sources in place, Spark or a SQL database.

Spark and the SQL database's drivers are optional: their modules import pyspark and SQLAlchemy only when a session
is opened.
"""

from __future__ import annotations

from evtools.engines import database, spark
from evtools.engines.sources import open_sources


def open_engine(config, names: tuple[str, ...] | None = None, check: bool = True):
    """The configured sources on the configured engine (``[engine] kind``): a DuckDB connection (duckdb), a
    ``SparkConnection`` (spark) or a ``DatabaseEngine`` (sql). The analyses take any of them."""
    if config.engine.kind == "spark":
        return spark.connect(config, names, check)
    if config.engine.kind == "sql":
        return database.connect(config, names, check)
    return open_sources(config, names=names, check=check)
