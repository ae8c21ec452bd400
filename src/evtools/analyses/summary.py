"""A summary of each registered source: what a user checks first when pointing evtools at new data."""

from __future__ import annotations

import duckdb
import pandas as pd

from evtools.core.config import Config
from evtools.engines.queries import fetch_row, quote_ident
from evtools.engines.sources import available_columns


def describe_sources(con: duckdb.DuckDBPyConnection, config: Config) -> pd.DataFrame:
    """One row per source: location, rows, companies, first and last date, canonical columns exposed."""
    rows = []
    for name, source in config.sources.items():
        stats = fetch_row(
            con,
            f"SELECT count(*), count(DISTINCT company_id), min(date), max(date), sum(events) "
            f"FROM {quote_ident(name)}",
        )
        rows.append(
            {
                "source": name,
                "location": source.location,
                "rows": stats[0],
                "companies": stats[1],
                "first_date": stats[2],
                "last_date": stats[3],
                "events": stats[4],
                "columns": ", ".join(sorted(available_columns(con, name))),
            }
        )
    return pd.DataFrame(rows)
