"""The package's SQL: one ``.sql`` file per purpose under ``evtools/sql``, in DuckDB's dialect.

Values always travel as bound parameters (``$name``); identifiers from the config go through ``quote_ident``.
Every function takes a DuckDB connection or an ``evtools.spark.SparkConnection``, which runs the same queries
transpiled to Spark SQL; the analyses are written once against these functions.
"""

from __future__ import annotations

from functools import cache
from importlib import resources
from typing import Any

import duckdb
import pandas as pd
import pyarrow as pa


@cache
def load_sql(name: str) -> str:
    """The text of ``sql/<name>.sql``."""
    return resources.files("evtools").joinpath("sql", f"{name}.sql").read_text(encoding="utf-8")


def quote_ident(name: str) -> str:
    """Quote an identifier for DuckDB: wrap in double quotes, double any inner double quote."""
    if not isinstance(name, str) or not name or "\x00" in name:
        raise ValueError(f"not a usable identifier: {name!r}")
    return '"' + name.replace('"', '""') + '"'


def _statements(con: duckdb.DuckDBPyConnection, name: str, params: dict[str, Any] | None):
    """Each statement of ``sql/<name>.sql`` with just the parameters it names; a missing one is an error."""
    params = params or {}
    for statement in duckdb.extract_statements(load_sql(name)):
        needed = statement.named_parameters
        missing = needed - params.keys()
        if missing:
            raise KeyError(f"sql/{name}.sql needs parameters {sorted(missing)}")
        yield statement, {k: params[k] for k in needed}


def is_duckdb(con: Any) -> bool:
    return isinstance(con, duckdb.DuckDBPyConnection)


def run(con: duckdb.DuckDBPyConnection, name: str, params: dict[str, Any] | None = None) -> pd.DataFrame:
    """Run a named query with bound parameters; the (small) result of its last statement as a DataFrame."""
    if not is_duckdb(con):
        return con.run(name, params)
    result = None
    for statement, values in _statements(con, name, params):
        result = con.execute(statement, values)
    return result.df()


def arrow(con: duckdb.DuckDBPyConnection, name: str, params: dict[str, Any] | None = None) -> pa.Table:
    """Run a named query; the result of its last statement as an Arrow table (no pandas copy)."""
    if not is_duckdb(con):
        return con.arrow(name, params)
    result = None
    for statement, values in _statements(con, name, params):
        result = con.sql(statement.query, params=values) if values else con.sql(statement.query)
    return result.to_arrow_table()


def execute(con: duckdb.DuckDBPyConnection, name: str, params: dict[str, Any] | None = None) -> None:
    """Run a named script (DDL, INSERT, ...), statement by statement, with bound parameters."""
    if not is_duckdb(con):
        return con.execute(name, params)
    for statement, values in _statements(con, name, params):
        con.execute(statement, values).fetchall()


def fetch_row(con: duckdb.DuckDBPyConnection, sql: str, params: dict[str, Any] | None = None) -> tuple:
    """The first row of a query, with the result drained so the connection is free again."""
    rows = con.execute(sql, params or {}).fetchall()
    return rows[0] if rows else ()


def first_row(con: duckdb.DuckDBPyConnection, name: str, params: dict[str, Any] | None = None) -> tuple:
    """The first row of a named query (empty when it has none)."""
    if not is_duckdb(con):
        return con.first_row(name, params)
    rows = None
    for statement, values in _statements(con, name, params):
        rows = con.execute(statement, values).fetchall()
    return rows[0] if rows else ()


def exists(con: duckdb.DuckDBPyConnection, name: str) -> bool:
    """True when a temp table or view ``name`` is defined on ``con``."""
    if not is_duckdb(con):
        return con.exists(name)
    return _temp_kind(con, name) is not None


def drop(con: duckdb.DuckDBPyConnection, name: str) -> None:
    """Drop the temp table or view ``name`` if there is one."""
    if not is_duckdb(con):
        con.drop(name)
        return
    kind = _temp_kind(con, name)
    if kind:
        con.execute(f"DROP {kind} {quote_ident(name)}")


def _temp_kind(con: duckdb.DuckDBPyConnection, name: str) -> str | None:
    rows = con.execute(
        "SELECT 'TABLE' FROM duckdb_tables() WHERE table_name = $n AND temporary "
        "UNION ALL SELECT 'VIEW' FROM duckdb_views() WHERE view_name = $n AND temporary",
        {"n": name},
    ).fetchall()
    return rows[0][0] if rows else None


def ordered(con: duckdb.DuckDBPyConnection, name: str, order: list[str]) -> pa.Table:
    """The temp table ``name`` ordered by ``order``, as Arrow."""
    if not is_duckdb(con):
        return con.table(name, order)
    return con.table(name).order(", ".join(quote_ident(c) for c in order)).to_arrow_table()
