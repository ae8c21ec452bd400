"""The package's SQL: one ``.sql`` file per purpose under ``evtools/sql``, in DuckDB's dialect.

Values always travel as bound parameters (``$name``); identifiers from the config go through ``quote_ident``.
Every function takes a DuckDB connection or any ``evtools.engines.base.Engine`` (Spark, a SQL database), which runs the
same queries transpiled to its dialect; the analyses are written once against these functions.
"""

from __future__ import annotations

from typing import Any

import duckdb
import pandas as pd
import pyarrow as pa

from evtools.engines.base import of
from evtools.engines.sqlfiles import load_sql, quote_ident

__all__ = ["load_sql", "quote_ident"]  # with the functions below: what the analyses call


def _engine(con: Any):
    return of(con)


def run(con: Any, name: str, params: dict[str, Any] | None = None) -> pd.DataFrame:
    """Run a named query with bound parameters; the (small) result of its last statement as a DataFrame."""
    return _engine(con).run(name, params)


def arrow(con: Any, name: str, params: dict[str, Any] | None = None) -> pa.Table:
    """Run a named query; the result of its last statement as an Arrow table (no pandas copy)."""
    return _engine(con).arrow(name, params)


def execute(con: Any, name: str, params: dict[str, Any] | None = None) -> None:
    """Run a named script (DDL, INSERT, ...), statement by statement, with bound parameters."""
    _engine(con).execute(name, params)


def fetch_row(con: duckdb.DuckDBPyConnection, sql: str, params: dict[str, Any] | None = None) -> tuple:
    """The first row of a query on a DuckDB connection, with the result drained so the connection is free again."""
    rows = con.execute(sql, params or {}).fetchall()
    return rows[0] if rows else ()


def first_row(con: Any, name: str, params: dict[str, Any] | None = None) -> tuple:
    """The first row of a named query (empty when it has none)."""
    return _engine(con).first_row(name, params)


def exists(con: Any, name: str) -> bool:
    """True when a temp table or view ``name`` is defined on ``con``."""
    return _engine(con).exists(name)


def drop(con: Any, name: str) -> None:
    """Drop the temp table or view ``name`` if there is one."""
    _engine(con).drop(name)


def register(con: Any, name: str, table: pa.Table) -> None:
    """A small Arrow table from the client as the temp table ``name`` on ``con``."""
    _engine(con).register(name, table)
