"""The package's SQL: one ``.sql`` file per purpose under ``evtools/sql``, in DuckDB's dialect.

Values always travel as bound parameters (``$name``); identifiers from the config go through ``quote_ident``.
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


def run(con: duckdb.DuckDBPyConnection, name: str, params: dict[str, Any] | None = None) -> pd.DataFrame:
    """Run a named query with bound parameters; the (small) result of its last statement as a DataFrame."""
    result = None
    for statement, values in _statements(con, name, params):
        result = con.execute(statement, values)
    return result.df()


def arrow(con: duckdb.DuckDBPyConnection, name: str, params: dict[str, Any] | None = None) -> pa.Table:
    """Run a named query; the result of its last statement as an Arrow table (no pandas copy)."""
    result = None
    for statement, values in _statements(con, name, params):
        result = con.sql(statement.query, params=values) if values else con.sql(statement.query)
    return result.to_arrow_table()


def execute(con: duckdb.DuckDBPyConnection, name: str, params: dict[str, Any] | None = None) -> None:
    """Run a named script (DDL, INSERT, ...), statement by statement, with bound parameters."""
    for statement, values in _statements(con, name, params):
        con.execute(statement, values).fetchall()


def fetch_row(con: duckdb.DuckDBPyConnection, sql: str, params: dict[str, Any] | None = None) -> tuple:
    """The first row of a query, with the result drained so the connection is free again."""
    rows = con.execute(sql, params or {}).fetchall()
    return rows[0] if rows else ()
