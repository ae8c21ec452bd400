"""The Apache Spark engine: the package's SQL, transpiled to Spark SQL, run where the data lives.

``connect(config)`` starts (or joins) a SparkSession from ``[engine]`` and registers the sources as temp views with
the canonical schema, read by Spark: parquet, csv or json lines (a file, a glob, a folder; any path Spark reads,
``s3a://`` and ``abfss://`` included) or a catalog table (``table:NAME``). The analyses then run unchanged:
``evtools.engines.queries`` hands each named query to ``SparkConnection`` (an ``evtools.engines.base.Engine``), which runs its
statements translated by
``evtools.engines.dialects``, with values bound as Spark named parameters. A ``CREATE TEMP TABLE x AS q`` becomes the result
of ``q``, checkpointed and registered as the temp view ``x``; only final, small results come back to the driver
(Arrow batches, then pandas).

Spark needs Java 17 or later and pyspark (``pip install 'evtools[spark]'``).
"""

from __future__ import annotations

import warnings
from importlib import resources
from typing import TYPE_CHECKING, Any

import pandas as pd
import pyarrow as pa
from sqlglot import exp

from evtools.core.config import Config, Source
from evtools.core.errors import DataError, EvtoolsError
from evtools.core.schema import SCHEMA, Column
from evtools.engines import base as engines
from evtools.engines import dialects
from evtools.engines.sources import (
    ABSENT_TYPES,
    FORMATS,
    data_files,
    null_counts,
    raise_on_nulls,
    register_all,
    user_column,
)

if TYPE_CHECKING:
    from pyspark.sql import DataFrame, SparkSession

DIALECT = "spark"
DEFAULT_CONF = {
    "spark.sql.session.timeZone": "UTC",
    "spark.sql.execution.arrow.pyspark.enabled": "true",
    "spark.sql.shuffle.partitions": "8",
    "spark.ui.enabled": "false",
    "spark.ui.showConsoleProgress": "false",
    # parquet written by pandas stores timestamps as INT64 TIMESTAMP(NANOS), which Spark refuses as a timestamp;
    # read as the raw nanoseconds, such columns are turned into timestamps by _nanos_as_timestamps
    "spark.sql.legacy.parquet.nanosAsLong": "true",
}
_INTEGER = {"tinyint", "smallint", "int", "bigint"}
_TIMESTAMP = {"timestamp", "timestamp_ntz"}


def session(config: Config) -> SparkSession:
    """The SparkSession for ``[engine]``: master and conf from the config over evtools' defaults (UTC, Arrow)."""
    try:
        from pyspark.sql import SparkSession
    except ImportError:
        raise EvtoolsError(
            "[engine] kind = \"spark\" needs pyspark: pip install 'evtools[spark]' (and Java 17 or later)"
        ) from None
    warnings.filterwarnings(
        "ignore", message="PySpark does not yet fully support pandas", category=FutureWarning
    )
    builder = SparkSession.builder.appName("evtools")
    if config.engine.master:
        builder = builder.master(config.engine.master)
    quiet = resources.files("evtools").joinpath("conf", "log4j2.properties")
    defaults = {**DEFAULT_CONF, "spark.driver.extraJavaOptions": f"-Dlog4j2.configurationFile=file:{quiet}"}
    for key, value in {**defaults, **config.engine.conf}.items():
        builder = builder.config(key, value)
    try:
        spark = builder.getOrCreate()
    except Exception as e:  # the JVM did not start: no Java, wrong master, bad conf
        raise EvtoolsError(f"cannot start Spark (master '{config.engine.master}'): {_first_line(e)}") from e
    spark.sparkContext.setLogLevel("ERROR")
    return spark


class SparkConnection(engines.TranspiledEngine):
    """The engine on a SparkSession: named queries, temp tables (temp views of checkpointed results), small results.
    No transactions: the Spark refresh commits by writing a marker (``evtools.engines.lake``)."""

    name = "spark"
    dialect = DIALECT
    TRANSACTIONS = False
    LAKE = True  # the refresh's aggregate is parquet on a lake (evtools.engines.lake), not tables
    TEMP_TABLES = False

    def __init__(self, spark: SparkSession):
        self.spark = spark
        self.columns_of: dict[str, set[str]] = {}  # per registered source, the canonical columns it really has
        # qualified names in the SQL (agg.x) -> the temp views standing for them
        self.tables: dict[str, str] = {}

    # -- named queries -------------------------------------------------------------------------------------------
    def _run_statements(self, name: str, params: dict[str, Any] | None) -> DataFrame | None:
        last = None
        for statement, values in self._statements(name, params):
            last = self._statement(statement, {k: _value(v) for k, v in values.items()})
        return last

    def _rename(self, node: exp.Expression) -> exp.Expression:
        if isinstance(node, exp.Table) and node.db:
            view = self.tables.get(f"{node.db}.{node.name}")
            if view:
                return exp.Table(this=exp.to_identifier(view), alias=node.args.get("alias"))
        return node

    def _statement(self, statement: exp.Expression, args: dict[str, Any]) -> DataFrame | None:
        if self.tables:
            statement = statement.transform(self._rename)
        if isinstance(statement, exp.Create) and statement.expression is not None:
            target = statement.this.this if isinstance(statement.this, exp.Schema) else statement.this
            query = dialects.generate(statement.expression, DIALECT)
            frame = self.spark.sql(query, args=args or None)
            if statement.kind == "TABLE":
                frame = frame.localCheckpoint(eager=True)
            frame.createOrReplaceTempView(target.name)
            return None
        if isinstance(statement, exp.Drop):
            self.drop(dialects.dropped(statement).name)
            return None
        return self.spark.sql(dialects.generate(statement, DIALECT), args=args or None)

    def run(self, name: str, params: dict[str, Any] | None = None) -> pd.DataFrame:
        return to_pandas(self._run_statements(name, params))

    def arrow(self, name: str, params: dict[str, Any] | None = None) -> pa.Table:
        return to_arrow(self._run_statements(name, params))

    def execute(self, name: str, params: dict[str, Any] | None = None) -> None:
        """Run a named script for its effect (temp tables); Spark runs commands as they are submitted."""
        self._run_statements(name, params)

    def frame(self, name: str, params: dict[str, Any] | None = None) -> DataFrame:
        """The Spark DataFrame of a named query's last statement (lazy; for writing where the data lives)."""
        return self._run_statements(name, params)

    # -- temp tables ---------------------------------------------------------------------------------------------
    def exists(self, name: str) -> bool:
        return self.spark.catalog.tableExists(name)

    def drop(self, name: str) -> None:
        self.spark.catalog.dropTempView(name)

    def register(self, name: str, table: pa.Table) -> None:
        """A small Arrow table (a result on the driver) as the temp view ``name``."""
        self.spark.createDataFrame(table).createOrReplaceTempView(name)

    def first_row(self, name: str, params: dict[str, Any] | None = None) -> tuple:
        rows = self._run_statements(name, params).take(1)
        return tuple(rows[0]) if rows else ()

    def columns(self, source: str) -> set[str] | None:
        return self.columns_of.get(source)


def _value(value: Any) -> Any:
    """A bound value as Spark's named parameters take it (tuples as lists: arrays)."""
    return list(value) if isinstance(value, tuple) else value


def to_arrow(frame: DataFrame) -> pa.Table:
    """A small Spark result as Arrow, timestamps as naive UTC (as DuckDB gives them)."""
    table = frame.toArrow()
    for i, f in enumerate(table.schema):
        if pa.types.is_timestamp(f.type) and f.type.tz is not None:
            table = table.set_column(i, f.name, table.column(i).cast(pa.timestamp(f.type.unit)))
    return table


def to_pandas(frame: DataFrame) -> pd.DataFrame:
    """A small Spark result as pandas, with DuckDB's dtypes for the same values (int64 counts, datetime64 dates)."""
    return engines.to_pandas(to_arrow(frame))


def connect(config: Config, names: tuple[str, ...] | None = None, check: bool = True) -> SparkConnection:
    """A SparkConnection with the configured sources (or ``names`` of them) registered as canonical views."""
    con = SparkConnection(session(config))
    register_all(
        config,
        names,
        lambda source, company_type: register(con, source, company_type),
        lambda frame: frame.schema["company_id"].dataType,
        (lambda source, _: check_nulls(con, source)) if check else None,
    )
    return con


def _read(con: SparkConnection, source: Source) -> DataFrame:
    spark = con.spark
    if source.catalog:
        try:
            return spark.table(source.catalog)
        except Exception as e:
            raise DataError(
                f"{source.location}: table '{source.catalog}' not found in the Spark catalog"
            ) from e
    if source.is_duckdb:
        raise DataError(
            f"{source.location}: a DuckDB file is read by the duckdb engine only; use --engine duckdb"
        )
    location = str(source.path)
    found: list[str] = []
    if "://" in source.location:
        files, fmt = [source.location], _format_of(source)
    else:
        found, fmt, hive = data_files(source)
        files = [location] if hive else found
    try:
        reader = spark.read
        if fmt == "parquet":
            return _nanos_as_timestamps(reader.option("mergeSchema", "true").parquet(*files), found)
        if fmt == "csv":
            # RFC 4180, as DuckDB reads and writes csv: a quote inside a quoted value is doubled ("QA ""test"""), a
            # backslash is an ordinary character. Spark's default escape (a backslash) kept the doubled quotes in the
            # value, took a backslash before a quote for an escape and could split a quoted value at a comma inside it:
            # ids no longer matched fact_events' and the waterfalls of their keys were wrong
            return reader.options(header=True, inferSchema=True, quote='"', escape='"').csv(files)
        return reader.json(files)
    except Exception as e:
        raise DataError(f"{source.location}: cannot read as {fmt}: {_first_line(e)}") from e


def nanosecond_columns(files: list[str]) -> set[str]:
    """The columns stored as INT64 TIMESTAMP(NANOS) in a local parquet file's footer (the first file's: a table's
    files share a writer); none for remote paths, whose footers Spark alone reads."""
    import pyarrow.parquet as pq

    if not files:
        return set()
    schema = pq.read_schema(files[0])
    return {f.name for f in schema if pa.types.is_timestamp(f.type) and f.type.unit == "ns"}


def _nanos_as_timestamps(frame: DataFrame, files: list[str]) -> DataFrame:
    """``frame`` with its nanosecond timestamp columns (read as the raw INT64 nanoseconds since the epoch, see
    DEFAULT_CONF) turned into timestamps, truncated to microseconds as DuckDB casts TIMESTAMP_NS to TIMESTAMP."""
    from pyspark.sql import functions as F

    nanos = nanosecond_columns(files) & set(frame.columns)
    for name in sorted(nanos):
        raw = F.col(f"`{name.replace('`', '``')}`")
        frame = frame.withColumn(name, F.timestamp_micros(F.floor(raw / 1000)))
    return frame


def _format_of(source: Source) -> str:
    for suffix, fmt in FORMATS.items():
        if source.location.lower().rstrip("/*").endswith(suffix):
            return fmt
    return "parquet"


def register(con: SparkConnection, source: Source, company_type=None) -> DataFrame:
    """Define the canonical temp view ``<name>`` over the source as Spark reads it; return its DataFrame."""
    from pyspark.sql import functions as F

    raw = _read(con, source)
    types = {f.name: f.dataType for f in raw.schema.fields}
    present = [c for c in SCHEMA[source.name] if c.required or source.column(c.name) in types]
    select = []
    for col in SCHEMA[source.name]:
        if col in present:
            expression = _expression(source, col, types, F)
        else:
            expression = F.lit(None).cast(ABSENT_TYPES[col.kind])
        if (
            col.name == "company_id"
            and company_type is not None
            and types[source.column(col.name)] != company_type
        ):
            expression = expression.cast(company_type)
        select.append(expression.alias(col.name))
    frame = raw.select(*select)
    frame.createOrReplaceTempView(source.name)
    con.columns_of[source.name] = {c.name for c in present}
    return frame


def _expression(source: Source, col: Column, types: dict, F):
    user, wrong = user_column(source, col, types)
    found = types[user].simpleString()
    ref = F.col(f"`{user.replace('`', '``')}`")

    if col.kind == "id":
        if found.startswith(("struct", "map", "array")):
            raise wrong("an integer or string id")
        return ref
    if col.kind == "count":
        if found not in _INTEGER:
            raise wrong("an integer type")
        return ref.cast("bigint")
    if col.kind == "version":
        if found in _INTEGER or found.startswith(("decimal", "double", "float", "string")):
            return ref
        if found == "date" or found in _TIMESTAMP:
            return ref.cast("timestamp")
        raise wrong("a number, a string, a date or a timestamp")
    # text (csv inference leaves some timestamp spellings as strings) is cast; a value that does not parse fails
    if col.kind == "date":
        if found in ("date", "string") or found in _TIMESTAMP:
            return ref.cast("date") if found != "string" else ref.cast("timestamp").cast("date")
        raise wrong("a DATE or a timestamp")
    if found in _TIMESTAMP or found == "string":
        return ref.cast("timestamp")
    raise wrong("a timestamp")


def check_nulls(con: SparkConnection, source: Source) -> None:
    """Raise DataError naming the column when a key column holds nulls (one aggregate over the source)."""
    raise_on_nulls(source, tuple(con.spark.sql(null_counts(source).sql(dialect=DIALECT)).first()))


def _first_line(e: Exception) -> str:
    return (str(e).strip().splitlines() or [type(e).__name__])[0]
