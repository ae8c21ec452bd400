"""The engines evtools runs its SQL on, behind one interface.

An engine runs the package's named queries (``sql/<name>.sql``, DuckDB's dialect) with bound parameters, keeps the
temporary tables they make, and hands back only small results (pandas or Arrow). The analyses (quality,
reconciliation, explain) call ``evtools.engines.queries``, which hands every call to the connection's engine (``of``); they
never ask which engine they run on.

- ``DuckDBEngine``: a DuckDB connection in this process (the default; the sources are views over files in place).
- ``evtools.engines.spark.SparkConnection``: a SparkSession; the queries transpiled to Spark SQL (``[engine] kind = "spark"``).
- ``evtools.engines.database.DatabaseEngine``: a SQL database reached through SQLAlchemy (PostgreSQL tested; others through
  their SQLAlchemy dialects), the queries transpiled to its dialect (``[engine] kind = "sql"``).

What differs between engines is declared as capability flags and a few overridden methods, never as a branch in the
code that calls them. ``evtools.engines.connect.open_engine(config)`` is the one place that picks an engine from the config.
"""

from __future__ import annotations

import contextlib
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import duckdb
import pandas as pd
import pyarrow as pa
from sqlglot import exp

from evtools.core.errors import ConcurrentRun, EvtoolsError
from evtools.engines import aggfile, dialects, steplog
from evtools.engines.sqlfiles import load_sql, quote_ident


class Engine:
    """What the analyses need of an engine. Subclasses override the methods; the flags say what differs."""

    name = "engine"
    dialect = "duckdb"  # the sqlglot dialect of the SQL the engine runs
    TRANSACTIONS = True  # statements can run in one transaction (``transaction``)
    LAKE = False  # the refresh's aggregate: tables of the engine's database (else parquet on a lake, Spark)
    TEMP_TABLES = True  # CREATE TEMP TABLE makes a session-private table (else a temporary view stands for it)

    # -- named queries -------------------------------------------------------------------------------------------
    def run(self, name: str, params: dict[str, Any] | None = None) -> pd.DataFrame:
        """The (small) result of the query's last statement as pandas."""
        return to_pandas(self.arrow(name, params))

    def arrow(self, name: str, params: dict[str, Any] | None = None) -> pa.Table:
        """The (small) result of the query's last statement as Arrow."""
        raise NotImplementedError

    def execute(self, name: str, params: dict[str, Any] | None = None) -> None:
        """Run the query's statements for their effect (temporary tables, writes)."""
        raise NotImplementedError

    def first_row(self, name: str, params: dict[str, Any] | None = None) -> tuple:
        """The first row of the query's last statement (empty when it has none)."""
        table = self.arrow(name, params)
        return tuple(column[0].as_py() for column in table.columns) if table.num_rows else ()

    # -- temporary tables ----------------------------------------------------------------------------------------
    def exists(self, name: str) -> bool:
        raise NotImplementedError

    def drop(self, name: str) -> None:
        """Drop the temporary table or view ``name`` if there is one."""
        raise NotImplementedError

    def register(self, name: str, table: pa.Table) -> None:
        """A small Arrow table from the client as the temporary table ``name``."""
        raise NotImplementedError

    # -- sources and transactions --------------------------------------------------------------------------------
    def columns(self, source: str) -> set[str] | None:
        """The canonical columns the registered source really has (None: no such source is registered)."""
        raise NotImplementedError

    @contextlib.contextmanager
    def transaction(self) -> Iterator[None]:
        """Run the statements of the block in one transaction: all of them or none."""
        raise NotImplementedError
        yield

    # -- the refreshed aggregate (evtools.refresh) ---------------------------------------------------------------
    @contextlib.contextmanager
    def aggregate(self, config, where: str | Path | None = None, wait: float = 0.0, read_only: bool = False):
        """The aggregate's home as the schema ``agg`` of the package's SQL, its state tables made; unless
        ``read_only``, held against a concurrent refresh (waiting up to ``wait`` seconds, else ConcurrentRun).
        ``where``: the engine's own place for it, default the config's. Yields that place as shown to users."""
        raise NotImplementedError
        yield

    @contextlib.contextmanager
    def reading(self, config, where: str | Path | None = None, hold: bool = False):
        """The place a reader of the aggregate opens (``aggregate(..., read_only=True)``), for the block: ``where``
        itself where readers and a refresh never block each other. ``hold``: the reader needs the place unchanged for
        the whole block (``refresh --verify``)."""
        yield where

    @contextlib.contextmanager
    def scratch(self, config, where: str | Path | None = None):
        """The aggregate (read only) as ``live`` and an empty scratch place as ``agg``, gone after the block: where
        ``refresh --verify`` rebuilds the aggregate in full to compare."""
        raise NotImplementedError
        yield

    def close(self) -> None:
        """End the session."""


def missing_parameters(name: str, needed: set[str], params: dict[str, Any]) -> None:
    """KeyError when a statement of ``sql/<name>.sql`` names a parameter that was not given."""
    missing = needed - params.keys()
    if missing:
        raise KeyError(f"sql/{name}.sql needs parameters {sorted(missing)}")


class DuckDBEngine(Engine):
    """A DuckDB connection: the queries run as written, values bound as DuckDB parameters."""

    name = "duckdb"

    def __init__(self, con: duckdb.DuckDBPyConnection):
        self.con = con

    def _statements(self, name: str, params: dict[str, Any] | None):
        params = params or {}
        for statement in duckdb.extract_statements(load_sql(name)):
            needed = statement.named_parameters
            missing_parameters(name, needed, params)
            steplog.statement(self.con)
            yield statement, {k: params[k] for k in needed}

    def run(self, name: str, params: dict[str, Any] | None = None) -> pd.DataFrame:
        result = None
        with steplog.step(self.con, name):
            for statement, values in self._statements(name, params):
                result = self.con.execute(statement, values)
            return result.df()

    def arrow(self, name: str, params: dict[str, Any] | None = None) -> pa.Table:
        result = None
        with steplog.step(self.con, name):
            for statement, values in self._statements(name, params):
                result = self.con.sql(statement.query, params=values) if values else self.con.sql(statement.query)
            return result.to_arrow_table()

    def execute(self, name: str, params: dict[str, Any] | None = None) -> None:
        with steplog.step(self.con, name):
            for statement, values in self._statements(name, params):
                self.con.execute(statement, values).fetchall()

    def first_row(self, name: str, params: dict[str, Any] | None = None) -> tuple:
        rows = None
        with steplog.step(self.con, name):
            for statement, values in self._statements(name, params):
                rows = self.con.execute(statement, values).fetchall()
        return rows[0] if rows else ()

    def exists(self, name: str) -> bool:
        return self._temp_kind(name) is not None

    def drop(self, name: str) -> None:
        kind = self._temp_kind(name)
        if kind:
            self.con.execute(f"DROP {kind} {quote_ident(name)}")

    def _temp_kind(self, name: str) -> str | None:
        rows = self.con.execute(
            "SELECT 'TABLE' FROM duckdb_tables() WHERE table_name = $n AND temporary "
            "UNION ALL SELECT 'VIEW' FROM duckdb_views() WHERE view_name = $n AND temporary",
            {"n": name},
        ).fetchall()
        return rows[0][0] if rows else None

    def register(self, name: str, table: pa.Table) -> None:
        self.con.register("_evtools_client", table)
        try:
            self.con.execute(f"CREATE OR REPLACE TEMP TABLE {quote_ident(name)} AS SELECT * FROM _evtools_client")
        finally:
            self.con.unregister("_evtools_client")

    def columns(self, source: str) -> set[str] | None:
        if not self.con.execute("SELECT 1 FROM duckdb_tables() WHERE table_name = 'evtools_columns'").fetchall():
            return None
        rows = self.con.execute(
            "SELECT column_name FROM evtools_columns WHERE source = $s", {"s": source}
        ).fetchall()
        return {r[0] for r in rows} or None

    @contextlib.contextmanager
    def transaction(self) -> Iterator[None]:
        self.con.execute("BEGIN TRANSACTION")
        try:
            yield
        except BaseException:
            self.con.execute("ROLLBACK")
            raise
        self.con.execute("COMMIT")

    @contextlib.contextmanager
    def aggregate(self, config, where=None, wait=0.0, read_only=False):
        """The aggregate's DuckDB file (``where``, default settings.aggregate_db; symlinks followed) attached as
        ``agg``. A refresh holds ``<file>.lock``, waits for a process holding the file open, runs within
        memory_limit (``aggfile.spill_within``) and, when its block succeeds, publishes the read-only snapshot
        readers open (``aggfile.publish_snapshot``)."""
        db = aggfile.db_path(where or config.aggregate_db)
        if read_only:
            if not db.is_file():
                raise EvtoolsError(f"{db}: no aggregate database yet; run evtools refresh first")
            self.con.execute("ATTACH $p AS agg (READ_ONLY)", {"p": str(db)})
            try:
                yield str(db)
            finally:
                self.con.execute("DETACH agg")
            return
        with aggfile.locked(db, wait):
            aggfile.spill_within(self.con, config.settings.memory_limit)
            aggfile.attach(self.con, db, wait)
            self.execute("refresh_state")
            self._refuse_old_rule(db)
            try:
                yield str(db)
                self.con.execute("CHECKPOINT agg")
            finally:
                self.con.execute("DETACH agg")
            aggfile.publish_snapshot(db)

    @contextlib.contextmanager
    def reading(self, config, where=None, hold=False):
        """The snapshot of the aggregate's file (``aggfile.readable``), which no refresh locks. ``hold``: the file
        itself, held against a refresh for the block, when none runs; else the snapshot a refresh left."""
        db = aggfile.db_path(where or config.aggregate_db)
        if not hold:
            yield aggfile.readable(db)
            return
        with contextlib.ExitStack() as stack:
            try:
                stack.enter_context(aggfile.locked(db))
                place = db
            except ConcurrentRun:
                place = aggfile.readable(db)
            yield place

    def _refuse_old_rule(self, db: Path) -> None:
        if self.con.execute(
            "SELECT 1 FROM duckdb_tables() WHERE database_name = 'agg' AND table_name = 'evtools_latest'"
        ).fetchall():
            raise EvtoolsError(
                f"{db}: built by an earlier evtools under another latest-version rule; rebuild it with refresh "
                "--full into a new --db"
            )

    @contextlib.contextmanager
    def scratch(self, config, where=None):
        db = Path(where) if where else config.aggregate_db
        aggfile.spill_within(self.con, config.settings.memory_limit)
        with tempfile.TemporaryDirectory(prefix="evtools-verify-") as folder:
            self.con.execute("ATTACH $p AS live (READ_ONLY)", {"p": str(db)})
            self.con.execute("ATTACH $p AS agg", {"p": str(Path(folder) / "full.duckdb")})
            try:
                yield
            finally:
                self.con.execute("DETACH agg")
                self.con.execute("DETACH live")

    def close(self) -> None:
        self.con.close()


class TranspiledEngine(Engine):
    """An engine that runs the queries transpiled to its ``dialect`` by ``evtools.engines.dialects`` (Spark, databases)."""

    def _statements(self, name: str, params: dict[str, Any] | None):
        """Each rewritten statement of ``sql/<name>.sql`` with the values of the parameters it names."""
        params = params or {}
        for statement in dialects.statements(name, self.dialect):
            needed = {p.name for p in statement.find_all(exp.Placeholder)}
            missing_parameters(name, needed, params)
            yield statement, {k: params[k] for k in needed}


def of(con: Any) -> Engine:
    """The engine behind ``con``: an Engine as it is, a DuckDB connection wrapped."""
    if isinstance(con, Engine):
        return con
    if isinstance(con, duckdb.DuckDBPyConnection):
        return DuckDBEngine(con)
    raise TypeError(f"not an evtools engine or DuckDB connection: {type(con).__name__}")


def to_pandas(table: pa.Table) -> pd.DataFrame:
    """A small result as pandas with DuckDB's dtypes for the same values: int64 counts (also where the engine's
    sums are decimals), float64 decimals, datetime64 dates."""
    out = table.to_pandas(date_as_object=False)
    for field in table.schema:
        column = out[field.name]
        if pa.types.is_integer(field.type) and column.dtype != "int64" and not column.isna().any():
            out[field.name] = column.astype("int64")
        elif pa.types.is_decimal(field.type):
            out[field.name] = column.astype("float64")
    return out
