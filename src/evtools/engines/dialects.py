"""The package's SQL in other dialects: DuckDB's text, rewritten where dialects differ, generated with sqlglot; and
the corrected job query for the user's warehouse (``latest_job``), generated from ``sql/versions.sql``.

The queries are written in forms every target runs (ranking with ROW_NUMBER, explicit GROUP BY columns, interval
arithmetic as number * INTERVAL, aliases on derived tables). The rewrites (on the parsed DuckDB tree, before
generation) cover what has no common form, each a construct DuckDB has and a target lacks:

- a call of one of the package's macros (``sql/macros.sql``) becomes the macro's body;
- (Spark) ``timezone(zone, timezone('UTC', ts))``, the local wall time of a UTC timestamp, becomes
  ``from_utc_timestamp(ts, zone)``;
- (PostgreSQL, Redshift, T-SQL, Trino: no CREATE OR REPLACE for tables) ``CREATE OR REPLACE [TEMP] TABLE|VIEW x AS q``
  becomes ``DROP TABLE|VIEW IF EXISTS x CASCADE`` and ``CREATE [TEMP] TABLE|VIEW x AS q``.

Which dialects are executed by the tests (DuckDB, Spark, PostgreSQL) and which are only generated is ``EXECUTED``.

Bound parameters (``$name`` in DuckDB) come out as each dialect writes them (``:name`` for Spark, ``@name`` for
BigQuery and T-SQL, ...). A construct sqlglot cannot express in the target raises ``UnsupportedSQL``.
"""

from __future__ import annotations

from functools import cache
from importlib import resources

import sqlglot
from sqlglot import exp
from sqlglot.errors import ErrorLevel, SqlglotError

from evtools.core.errors import EvtoolsError
from evtools.engines.sqlfiles import load_sql

DIALECTS = ("spark", "databricks", "snowflake", "bigquery", "tsql", "postgres", "duckdb")
EXECUTED = ("duckdb", "spark", "postgres")  # the tests run every query on these and compare the figures
REPLACE_BY_DROP = ("postgres", "redshift", "tsql", "trino")


class UnsupportedSQL(EvtoolsError):
    """A query uses a construct the target dialect cannot express."""


def parse(sql: str) -> list[exp.Expression]:
    """The statements of a DuckDB script (comments kept on the statements)."""
    return [s for s in sqlglot.parse(sql, read="duckdb") if s is not None]


def _spark(node: exp.Expression) -> exp.Expression:
    if isinstance(node, exp.ConvertTimezone | exp.AtTimeZone | exp.Anonymous):
        zone_ts = _local_of_utc(node)
        if zone_ts:
            return exp.func("from_utc_timestamp", zone_ts[1], zone_ts[0])
    return node


def _local_of_utc(node: exp.Expression) -> tuple[exp.Expression, exp.Expression] | None:
    """(zone, ts) when ``node`` is DuckDB's ``timezone(zone, timezone('UTC', ts))``."""
    outer = _timezone_args(node)
    if not outer:
        return None
    inner = _timezone_args(outer[1])
    if not inner or inner[0].name.upper() != "UTC":
        return None
    return outer[0].copy(), inner[1].copy()


def _timezone_args(node: exp.Expression) -> tuple[exp.Expression, exp.Expression] | None:
    if isinstance(node, exp.AtTimeZone):
        return node.args["zone"], node.this
    if isinstance(node, exp.ConvertTimezone):
        return node.args.get("target_tz"), node.args.get("timestamp")
    if isinstance(node, exp.Anonymous) and node.name.lower() == "timezone" and len(node.expressions) == 2:
        return node.expressions[0], node.expressions[1]
    return None


@cache
def macros() -> dict[str, tuple[list[str], exp.Expression]]:
    """The macros of ``sql/macros.sql``: name -> (parameter names, body)."""
    out = {}
    for statement in parse(load_sql("macros")):
        fn = statement.this
        out[fn.this.name.lower()] = ([p.name for p in fn.expressions], statement.expression)
    return out


def _expand(node: exp.Expression) -> exp.Expression:
    """A call of a macro replaced by its body, the parameters by the call's arguments."""
    if isinstance(node, exp.Anonymous) and node.name.lower() in macros():
        names, body = macros()[node.name.lower()]
        args = dict(zip(names, node.expressions, strict=True))

        def substitute(n: exp.Expression) -> exp.Expression:
            if isinstance(n, exp.Column) and not n.table and n.name in args:
                return args[n.name].copy()
            return n

        return exp.paren(body.copy().transform(substitute), copy=False)
    return node


def rewrite(statement: exp.Expression, dialect: str) -> exp.Expression:
    """``statement`` (parsed DuckDB) with the macros expanded and the rewrites for ``dialect`` applied (see the
    module docstring)."""
    tree = statement.copy().transform(_expand)
    if dialect in ("spark", "databricks"):
        tree = tree.transform(_spark)
    return tree


def split(statement: exp.Expression, dialect: str) -> list[exp.Expression]:
    """``statement`` as the statements ``dialect`` runs: a CREATE OR REPLACE of a table or view becomes a DROP IF
    EXISTS and a CREATE where the dialect has no CREATE OR REPLACE for tables (``REPLACE_BY_DROP``)."""
    if (
        dialect not in REPLACE_BY_DROP
        or not isinstance(statement, exp.Create)
        or not statement.args.get("replace")
        or statement.kind not in ("TABLE", "VIEW")
    ):
        return [statement]
    create = statement.copy()
    create.set("replace", False)
    target = statement.this.this if isinstance(statement.this, exp.Schema) else statement.this
    drop = exp.Drop(tables=[target.copy()], kind=statement.kind, exists=True, cascade=True)
    drop.comments, create.comments = create.comments, None  # the query's header stays in front
    return [drop, create]


def dropped(statement: exp.Drop) -> exp.Table:
    """The table a DROP statement drops."""
    tables = statement.args.get("tables")
    return tables[0] if tables else statement.this


def generate(statement: exp.Expression, dialect: str, pretty: bool = False) -> str:
    """SQL text of a rewritten statement in ``dialect``; UnsupportedSQL when sqlglot cannot express a part."""
    try:
        return statement.sql(dialect=dialect, pretty=pretty, unsupported_level=ErrorLevel.RAISE)
    except SqlglotError as e:
        raise UnsupportedSQL(f"cannot write this query in {dialect}: {str(e).splitlines()[0]}") from e


# the lookup by the rows' places in fact_events' parquet files (DuckDB's file_index and file_row_number)
FILE_PLACES = ("refresh_locate", "refresh_fetch", "refresh_fetch_check")


def names() -> list[str]:
    """The package's queries, by name (``sql/<name>.sql``), without those that mean nothing in a warehouse: the
    sample generator's (``sample_*``: they write files with DuckDB's COPY), the run-log readers' (``runs_*``),
    ``column_bytes`` (they read files with DuckDB's readers) and the refresh's located lookup (``FILE_PLACES``), and
    the macros (expanded into the queries that call them)."""
    folder = resources.files("evtools").joinpath("sql")
    local = ("sample_", "runs_")
    return sorted(
        p.name[:-4]
        for p in folder.iterdir()
        if p.name.endswith(".sql")
        and not p.name.startswith(local)
        and p.name[:-4] not in ("macros", "column_bytes", *FILE_PLACES)
    )


@cache
def statements(name: str, dialect: str) -> tuple[exp.Expression, ...]:
    """The rewritten statements of ``sql/<name>.sql`` for ``dialect`` (parsed once per process)."""
    return tuple(part for s in parse(load_sql(name)) for part in split(rewrite(s, dialect), dialect))


def transpile(name: str, dialect: str, pretty: bool = True) -> str:
    """``sql/<name>.sql`` in ``dialect``: its statements separated by ``;`` and blank lines."""
    if dialect not in DIALECTS:
        raise EvtoolsError(f"sql --dialect: expected one of {', '.join(DIALECTS)}, found '{dialect}'")
    try:
        parts = [generate(s, dialect, pretty) for s in statements(name, dialect)]
    except UnsupportedSQL as e:
        raise UnsupportedSQL(f"sql/{name}.sql: {e}") from e
    return ";\n\n".join(parts) + ";\n"


_ANALYSIS_ONLY = {"as_of", "key_t", "event_ts", "n"}  # versions.sql's views as of T and the analyses' extra columns


def latest_job(dialect: str = "duckdb", pretty: bool = True) -> str:
    """The daily job's query corrected, for the user's warehouse: events per company and date over the latest version
    of each event_id (``evtools.core.rules``) of fact_events. Generated from ``sql/versions.sql``, the one place versions
    are ordered (its payloads, first arrivals, version values and order), reading fact_events instead of the
    analyses' input and without what only the analyses use (the views as of T, the row counts and times)."""
    versions = parse(load_sql("versions"))[0].expression.copy()
    versions = versions.transform(
        lambda n: exp.to_table("fact_events") if isinstance(n, exp.Table) and n.name == "_version_rows" else n
    )
    for select in list(versions.find_all(exp.Select)):
        select.set("expressions", [e for e in select.expressions if e.alias_or_name not in _ANALYSIS_ONLY])
        if select.args.get("group"):
            group = select.args["group"]
            group.set("expressions", [e for e in group.expressions if e.alias_or_name not in _ANALYSIS_ONLY])
    for window in list(versions.find_all(exp.Window)):
        window.set("partition_by", [e for e in window.args["partition_by"] if e.alias_or_name not in _ANALYSIS_ONLY])
    query = (
        exp.select("company_id", "date", exp.alias_(exp.Sum(this=exp.column("events")), "events"))
        .from_(versions.subquery("versions"))
        .where(exp.column("is_latest"))
        .group_by("company_id", "date")
    )
    header = (
        "-- The daily job's query over the latest version of each event_id (the order of evtools' sql/versions.sql):\n"
        "-- a retried or replayed row counts once, a correction replaces the value it corrects. Columns as evtools\n"
        "-- names them (yours are mapped in evtools.toml); without a version column, write NULL for max(version).\n"
    )
    return header + generate(rewrite(query, dialect), dialect, pretty) + "\n"
