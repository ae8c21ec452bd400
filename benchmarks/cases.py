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


def _quality(config_path: Path):
    from evtools import quality

    config = load_config(config_path)
    con = open_sources(config)
    return quality.analyse(con, config)


@case("quality", "evtools quality: duplicates, corrections, replays, late rows per key, lag curve (DuckDB)")
def quality_case(config_path: Path) -> dict:
    import tempfile

    result = _quality(config_path)
    with tempfile.TemporaryDirectory() as tmp:
        result.write(Path(tmp) / "q")
    s = result.summary
    return {
        "duplicate_excess": s["duplicate_excess"],
        "correction_excess": s["correction_excess"],
        "latest_events": s["latest_events"],
        "recommended_lookback": s["recommended_lookback_days"],
    }


@case(
    "quality_pandas",
    "the pandas way: read fact_events, keep the latest row per event_id, groupby company/date",
)
def quality_pandas(config_path: Path) -> dict:
    import glob

    import pandas as pd

    config = load_config(config_path)
    files = sorted(glob.glob(str(config.source("fact_events").path)))
    cols = ["event_id", "company_id", "date", "events", "ingested_at"]
    df = pd.concat([pd.read_parquet(f, columns=cols) for f in files], ignore_index=True)
    total = df.groupby(["company_id", "date"])["events"].sum()
    dedup = df.drop_duplicates(subset=["company_id", "date", "event_id", "events"])
    latest = df.sort_values(["ingested_at", "events"]).drop_duplicates("event_id", keep="last")
    latest_sum = latest.groupby(["company_id", "date"])["events"].sum()
    return {
        "duplicate_excess": int(total.sum() - dedup["events"].sum()),
        "correction_excess": int(dedup["events"].sum() - latest_sum.sum()),
        "latest_events": int(latest_sum.sum()),
    }


@case(
    "reconcile",
    "evtools reconcile: the five-part waterfall for every dashboard/API key, with day-bucketing check",
)
def reconcile_case(config_path: Path) -> dict:
    import tempfile

    from evtools import reconcile

    config = load_config(config_path)
    result = reconcile.reconcile(open_sources(config), config)
    with tempfile.TemporaryDirectory() as tmp:
        result.write(Path(tmp) / "r")
    s = result.summary
    return {
        "keys": s["keys_compared"],
        "mismatched": s["mismatched"],
        "timezone_keys": s["keys_by_cause"].get("timezone", 0),
    }
