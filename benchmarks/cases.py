"""Benchmark cases. Each takes the large sample's config and returns extra figures to record.

The yardstick is ``groupby``: the job's own query, a plain DuckDB GROUP BY company_id, date over fact_events.
Every other case is reported as a ratio to it, measured in the same run on the same data.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from evtools.config import load_config
from evtools.sources import open_sources

CASES: dict[str, tuple[str, Callable[[Path], dict]]] = {}


def case(name: str, description: str):
    def register(fn):
        CASES[name] = (description, fn)
        return fn

    return register


@case("groupby", "yardstick: SELECT company_id, date, SUM(events) FROM fact_events GROUP BY ALL (DuckDB)")
def groupby(config_path: Path) -> dict:
    con = open_sources(load_config(config_path), names=("fact_events",), check=False)
    n = con.execute(
        "SELECT count(*) FROM (SELECT company_id, date, sum(events) FROM fact_events GROUP BY ALL)"
    ).fetchall()[0][0]
    return {"keys": n}
