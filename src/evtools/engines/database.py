"""The SQL-database engine: the package's SQL run inside a database, where the data lives; only small results leave.

``[engine] kind = "sql"`` with ``url``, a SQLAlchemy URL (``postgresql://user@host:5432/db``; the password from the
variable ``password_env`` names, else the driver's own means: PGPASSWORD, ~/.pgpass). Sources are tables of that
database, ``table:SCHEMA.NAME``, mapped by ``[columns.<source>]`` into canonical temporary views exactly as files are
for DuckDB (``evtools.engines.sources.canonical_select``, generated in the database's dialect). The queries run transpiled by
``evtools.engines.dialects``, values bound through SQLAlchemy (``:name``; the driver quotes them), temporary tables in the
session; a session runs in UTC.

PostgreSQL is tested against a real server. Other databases with a SQLAlchemy dialect and a sqlglot dialect
(``DIALECTS``) take the same path, untested: their queries are generated, not executed, by the tests.

The password is never printed: URLs are shown with it masked, and it is cut out of every driver message.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import decimal
import logging
import os
import time
from collections.abc import Iterator
from typing import Any

import pyarrow as pa
from sqlglot import exp

from evtools.core.config import Config, Source
from evtools.core.errors import ConcurrentRun, ConfigError, DataError, EngineError, EvtoolsError
from evtools.core.redact import MASK, register
from evtools.engines import base as engines
from evtools.engines import dialects
from evtools.engines.sources import canonical_select, null_counts, present_columns, raise_on_nulls

log = logging.getLogger(__name__)

# SQLAlchemy backend -> sqlglot dialect
DIALECTS = {
    "postgresql": "postgres",
    "redshift": "redshift",
    "snowflake": "snowflake",
    "bigquery": "bigquery",
    "databricks": "databricks",
    "trino": "trino",
    "mssql": "tsql",
}
DEFAULT_DRIVERS = {"postgresql": "postgresql+psycopg"}  # when the URL names no driver


def url_of(config: Config):
    """The SQLAlchemy URL of ``[engine] url`` with the default driver and the password from ``password_env``."""
    from sqlalchemy.engine import make_url
    from sqlalchemy.exc import ArgumentError

    try:
        url = make_url(config.engine.url)
    except ArgumentError:
        raise ConfigError(
            f"{config.path}: engine.url: expected a URL such as postgresql://user@host:5432/db"
        ) from None
    if url.get_backend_name() not in DIALECTS:
        raise ConfigError(
            f"{config.path}: engine.url: expected a database of {', '.join(sorted(DIALECTS))}, "
            f"found '{url.get_backend_name()}'"
        )
    if url.drivername in DEFAULT_DRIVERS:
        url = url.set(drivername=DEFAULT_DRIVERS[url.drivername])
    if config.engine.password_env:
        password = os.environ.get(config.engine.password_env)
        if not password:
            raise ConfigError(
                f"{config.path}: engine.password_env: the variable {config.engine.password_env} is not set"
            )
        url = url.set(password=password)
    return url


def shown(url) -> str:
    """The URL as evtools shows it: the password masked, the default driver left out as the user left it."""
    if url.drivername in DEFAULT_DRIVERS.values():
        url = url.set(drivername=url.get_backend_name())
    return url.render_as_string(hide_password=True)


class DatabaseEngine(engines.TranspiledEngine):
    """A session on a SQL database: named queries transpiled to its dialect, temporary tables, small results.

    Subclasses per database declare what differs: ``SESSION`` (statements that open a session) and how a
    temporary table is found (``_temp_kind``)."""

    name = "sql"
    SESSION: tuple[str, ...] = ()

    def __init__(self, connection, dialect: str, where: str, secret: str | None = None):
        self.connection = connection  # a SQLAlchemy Connection in autocommit mode
        self.dialect = dialect
        self.where = where  # the URL as shown (password masked)
        self._secret = secret
        self.columns_of: dict[str, set[str]] = {}
        self.schemas: dict[str, str] = {}  # schema names in the package's SQL (agg, live) -> the database's
        for statement in self.SESSION:
            self._sql(statement)

    # -- execution -----------------------------------------------------------------------------------------------
    def _sql(self, sql: str, values: dict[str, Any] | None = None, what: str = ""):
        from sqlalchemy import text
        from sqlalchemy.exc import SQLAlchemyError

        try:
            return self.connection.execute(text(sql), values or {})
        except SQLAlchemyError as e:
            raise EngineError(f"{self.where}: {what or 'a statement'} failed: {self._message(e)}") from None

    def _message(self, e: Exception) -> str:
        orig = getattr(e, "orig", None) or e
        lines = [line.strip() for line in str(orig).strip().splitlines() if line.strip()]
        text = lines[0] if lines else type(orig).__name__
        return text.replace(self._secret, MASK) if self._secret else text

    def text_of(self, statement: exp.Expression) -> str:
        """A rewritten statement as text for SQLAlchemy: the dialect's SQL with parameters as ``:name``."""
        bound = statement.transform(self._bind_and_place, copy=True)
        return dialects.generate(bound, self.dialect)

    def _bind_and_place(self, node: exp.Expression) -> exp.Expression:
        """A parameter as ``:name``; a table of the schema ``agg`` or ``live`` in the database's schema for it."""
        if isinstance(node, exp.Placeholder):
            return exp.Var(this=f":{node.name}")
        if isinstance(node, exp.Table) and node.db in self.schemas:
            node.set("db", exp.to_identifier(self.schemas[node.db], quoted=True))
        return node

    def _run_statements(self, name: str, params: dict[str, Any] | None):
        last = None
        for statement, values in self._statements(name, params):
            if isinstance(statement, exp.Drop) and not dialects.dropped(statement).db:
                self.drop(dialects.dropped(statement).name)  # a temporary table or view, whichever it is
                continue
            last = self._sql(self.text_of(statement), values, f"sql/{name}.sql")
        return last

    def arrow(self, name: str, params: dict[str, Any] | None = None) -> pa.Table:
        return self._arrow(self._run_statements(name, params))

    def execute(self, name: str, params: dict[str, Any] | None = None) -> None:
        self._run_statements(name, params)

    def _arrow(self, result) -> pa.Table:
        names = list(result.keys())
        rows = result.fetchall()
        columns = [_array([row[i] for row in rows]) for i in range(len(names))]
        return pa.table(columns, names=names) if names else pa.table({})

    def run_sql(self, statement: exp.Expression, values: dict[str, Any] | None = None) -> pa.Table:
        """A query built with sqlglot (DuckDB's dialect), run here; its result as Arrow."""
        return self._arrow(self._sql(self.text_of(dialects.rewrite(statement, self.dialect)), values))

    # -- temporary tables ----------------------------------------------------------------------------------------
    def quote(self, name: str) -> str:
        return exp.to_identifier(name, quoted=True).sql(dialect=self.dialect)

    def _temp_kind(self, name: str) -> str | None:
        raise NotImplementedError

    def exists(self, name: str) -> bool:
        return self._temp_kind(name) is not None

    def drop(self, name: str) -> None:
        kind = self._temp_kind(name)
        if kind:
            self._sql(f"DROP {kind} {self.quote(name)} CASCADE", what=f"dropping {name}")

    def register(self, name: str, table: pa.Table) -> None:
        self.drop(name)
        columns = [
            exp.ColumnDef(this=exp.to_identifier(f.name, quoted=True), kind=exp.DataType.build(_sql_type(f.type)))
            for f in table.schema
        ]
        create = exp.Create(
            this=exp.Schema(this=exp.table_(name, quoted=True), expressions=columns),
            kind="TABLE",
            properties=exp.Properties(expressions=[exp.TemporaryProperty()]),
        )
        self._sql(create.sql(dialect=self.dialect), what=f"creating {name}")
        if table.num_rows:
            marks = ", ".join(f":p{i}" for i in range(table.num_columns))
            rows = [{f"p{i}": v for i, v in enumerate(row.values())} for row in table.to_pylist()]
            self._sql(f"INSERT INTO {self.quote(name)} VALUES ({marks})", rows, f"filling {name}")

    def columns(self, source: str) -> set[str] | None:
        return self.columns_of.get(source)

    @contextlib.contextmanager
    def transaction(self) -> Iterator[None]:
        self._sql("BEGIN")
        try:
            yield
        except BaseException:
            with contextlib.suppress(EngineError):
                self._sql("ROLLBACK")
            raise
        self._sql("COMMIT")

    def close(self) -> None:
        self.connection.close()

    # -- the refreshed aggregate ---------------------------------------------------------------------------------
    @contextlib.contextmanager
    def aggregate(self, config, where=None, wait=0.0, read_only=False):
        """The schema ``where`` (default ``[engine] schema``) as ``agg``: created with the state tables when missing;
        a refresh holds the database's lock on it (``locked``)."""
        schema = str(where) if where else config.engine.schema
        shown = f"{self.where} schema {schema}"
        with contextlib.nullcontext() if read_only else self.locked(schema, wait):
            if read_only and not self._has_state(schema):
                raise EvtoolsError(f"{shown}: no aggregate there yet; run evtools refresh first")
            if not read_only:
                create = exp.Create(this=exp.to_identifier(schema, quoted=True), kind="SCHEMA", exists=True)
                self._sql(create.sql(dialect=self.dialect), what=f"creating the schema {schema}")
            self.schemas["agg"] = schema
            try:
                if not read_only:
                    self.execute("refresh_state")
                yield shown
            finally:
                self.schemas.pop("agg", None)

    @contextlib.contextmanager
    def scratch(self, config, where=None):
        """The scratch aggregate is the schema ``<schema>_verify`` made inside a transaction that is rolled back."""
        schema = str(where) if where else config.engine.schema
        scratch = f"{schema}_verify"
        self._sql("BEGIN")
        try:
            create = exp.Create(this=exp.to_identifier(scratch, quoted=True), kind="SCHEMA")
            self._sql(create.sql(dialect=self.dialect), what=f"creating the schema {scratch}")
            self.schemas.update(agg=scratch, live=schema)
            yield
        finally:
            self.schemas.pop("agg", None)
            self.schemas.pop("live", None)
            with contextlib.suppress(EngineError):
                self._sql("ROLLBACK")

    def _has_state(self, schema: str) -> bool:
        from sqlalchemy import inspect

        return inspect(self.connection).has_table("evtools_state", schema=schema)

    @contextlib.contextmanager
    def locked(self, name: str, wait: float) -> Iterator[None]:
        """Hold the database's lock on the aggregate ``name`` for a run. Without one (a database evtools has no lock
        for), a run relies on its transaction alone."""
        log.warning("%s: no lock against a concurrent refresh on this database; run one refresh at a time", self.where)
        yield

    # -- sources -------------------------------------------------------------------------------------------------
    def register_source(self, source: Source, company_type: str | None = None) -> dict[str, str]:
        """The canonical temporary view ``<name>`` over the table ``source`` names; the user's column types."""
        from sqlalchemy import inspect
        from sqlalchemy.exc import NoSuchTableError, SQLAlchemyError

        schema, _, table = source.catalog.rpartition(".")
        try:
            found = inspect(self.connection).get_columns(table, schema=schema or None)
        except NoSuchTableError:
            found = []
        except SQLAlchemyError as e:
            raise EngineError(f"{self.where}: reading the columns of {source.catalog} failed: {self._message(e)}") from None
        if not found:
            raise DataError(f"{source.location}: table '{source.catalog}' not found in {self.where}")
        types = {c["name"]: type_name(c["type"]) for c in found}
        relation = exp.table_(table, db=schema or None, quoted=True)
        query = canonical_select(source, relation, types, company_type)
        self.drop(source.name)
        view = f"CREATE TEMPORARY VIEW {self.quote(source.name)} AS {query.sql(dialect=self.dialect)}"
        self._sql(view, what=f"defining the view {source.name} over {source.catalog}")
        self.columns_of[source.name] = {c.name for c in present_columns(source, types)}
        return types


class PostgresEngine(DatabaseEngine):
    """PostgreSQL: sessions in UTC; temporary tables found in the session's own temporary schema; a refresh holds a
    session advisory lock keyed by the aggregate's schema."""

    SESSION = ("SET TIME ZONE 'UTC'",)

    @contextlib.contextmanager
    def locked(self, name: str, wait: float) -> Iterator[None]:
        """The advisory lock ``hashtext('evtools refresh <schema>')``, held by this session until the run ends (a
        session that dies releases it); wait up to ``wait`` seconds for it, else ConcurrentRun."""
        key = {"k": f"evtools refresh {name}"}
        deadline = time.monotonic() + wait
        while not self._sql("SELECT pg_try_advisory_lock(hashtext(:k))", key, "taking the refresh lock").scalar():
            if time.monotonic() >= deadline:
                raise ConcurrentRun(
                    f"{self.where} schema {name}: another refresh is running (it holds the advisory lock "
                    f"'{key['k']}'); wait for it or pass --wait SECONDS"
                )
            time.sleep(0.2)
        try:
            yield
        finally:
            with contextlib.suppress(EngineError):
                self._sql("SELECT pg_advisory_unlock(hashtext(:k))", key, "releasing the refresh lock")

    def _temp_kind(self, name: str) -> str | None:
        rows = self._sql(
            "SELECT c.relkind FROM pg_catalog.pg_class AS c "
            "WHERE c.relname = :n AND c.relnamespace = pg_catalog.pg_my_temp_schema()",
            {"n": name},
            f"looking up {name}",
        ).fetchall()
        return {"r": "TABLE", "v": "VIEW"}.get(rows[0][0]) if rows else None


ENGINES = {"postgres": PostgresEngine}


def connect(config: Config, names: tuple[str, ...] | None = None, check: bool = True) -> DatabaseEngine:
    """A session on ``[engine] url`` with the configured sources (or ``names`` of them) as canonical views."""
    try:
        from sqlalchemy import create_engine
        from sqlalchemy.exc import SQLAlchemyError
    except ImportError:
        raise EngineError(
            "[engine] kind = \"sql\" needs SQLAlchemy and the database's driver: pip install 'evtools[sql]'"
        ) from None
    url = url_of(config)
    dialect = DIALECTS[url.get_backend_name()]
    secret = url.password or os.environ.get("PGPASSWORD") or None
    register(secret)  # every line, log record and run-log record masks it too (evtools.redact)
    kwargs = {}
    if url.drivername == "postgresql+psycopg":
        import psycopg

        kwargs["connect_args"] = {"cursor_factory": psycopg.ClientCursor}
    try:
        engine = create_engine(url, isolation_level="AUTOCOMMIT", poolclass=_null_pool(), **kwargs)
        connection = engine.connect()
    except ImportError as e:
        raise EngineError(f"{shown(url)}: the database driver is missing ({e.name}); pip install 'evtools[sql]'") from None
    except SQLAlchemyError as e:
        text = str(getattr(e, "orig", None) or e).strip().splitlines()
        text = (text[0] if text else type(e).__name__).replace(secret, MASK) if secret else (text[0] if text else "")
        raise EngineError(f"cannot connect to {shown(url)}: {text}") from None
    cls = ENGINES.get(dialect, DatabaseEngine)
    con = cls(connection, dialect, shown(url), secret)
    wanted = names or tuple(config.sources)
    company_type = None
    for name in sorted(wanted, key=lambda n: n != "fact_events"):
        source = config.source(name)
        types = con.register_source(source, company_type)
        if name == "fact_events":
            company_type = types[source.column("company_id")]
        if check:
            raise_on_nulls(source, tuple(column[0].as_py() for column in con.run_sql(null_counts(source)).columns))
    return con


def _null_pool():
    from sqlalchemy.pool import NullPool

    return NullPool


def type_name(sqltype) -> str:
    """A SQLAlchemy column type as the DuckDB type name ``evtools.engines.sources`` checks columns against."""
    from sqlalchemy import types as t

    checks = (
        (t.BigInteger, "BIGINT"),
        (t.SmallInteger, "SMALLINT"),
        (t.Integer, "INTEGER"),
        (t.Boolean, "BOOLEAN"),
        (t.Float, "DOUBLE"),
        (t.Numeric, "DECIMAL"),
        (t.String, "VARCHAR"),
        (t.Interval, "INTERVAL"),
    )
    if isinstance(sqltype, t.DateTime):
        return "TIMESTAMPTZ" if getattr(sqltype, "timezone", False) else "TIMESTAMP"
    if isinstance(sqltype, t.Date):
        return "DATE"
    for cls, name in checks:
        if isinstance(sqltype, cls):
            return name
    return str(sqltype).upper()


def _sql_type(arrow_type: pa.DataType) -> str:
    if pa.types.is_integer(arrow_type):
        return "BIGINT"
    if pa.types.is_floating(arrow_type):
        return "DOUBLE"
    if pa.types.is_boolean(arrow_type):
        return "BOOLEAN"
    if pa.types.is_date(arrow_type):
        return "DATE"
    if pa.types.is_timestamp(arrow_type):
        return "TIMESTAMP"
    return "VARCHAR"


def _array(values: list) -> pa.Array:
    """A result column as Arrow: integral decimals (sums of integers) as int64, other decimals as float64."""
    sample = next((v for v in values if v is not None), None)
    if isinstance(sample, decimal.Decimal):
        if all(v is None or v == v.to_integral_value() for v in values):
            return pa.array([None if v is None else int(v) for v in values], pa.int64())
        return pa.array([None if v is None else float(v) for v in values], pa.float64())
    if isinstance(sample, dt.timedelta):
        return pa.array(values, pa.duration("us"))
    if sample is None:
        return pa.array(values, pa.null())
    return pa.array(values)
