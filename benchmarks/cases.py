"""Benchmark cases. Each takes the large sample's config and returns extra figures to record.

The yardstick is ``groupby``: the job's own query, a plain DuckDB GROUP BY company_id, date over fact_events.
Every other case is reported as a ratio to it, measured in the same run on the same data.
"""

from __future__ import annotations

import json
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


WORK = Path(__file__).resolve().parent / "work"


@case("layout", "evtools layout: the query set on the ingested files and on the date-partitioned copy")
def layout_case(config_path: Path) -> dict:
    from evtools import layout

    config = load_config(config_path)
    target = WORK / "layouts"
    files = {"sorted": str(target / "sorted.parquet"), "by_date": str(target / "by_date" / "*" / "*.parquet")}
    if not (target / "sorted.parquet").exists():
        files = layout.write_layouts(open_sources(config, names=("fact_events",), check=False), target)
    s = layout.measure(config, files, window_days=2, repeats=3).summary
    b = s["by_layout"]
    return {
        "full_GB_before": round(s["full_bytes_before"] / 1e9, 3),
        "window_MB_after": round(s["window_bytes_after"] / 1e6, 1),
        "window_share_of_full": round(s["window_share_after"], 5),
        "window_to_ideal": round(s["window_to_ideal"], 2),
        "window_s_before": round(b["before"]["window"]["median_seconds"], 3),
        "window_s_after": round(b["by_date"]["window"]["median_seconds"], 3),
        "company_day_MB_before": round(b["before"]["company_day"]["bytes_read"] / 1e6, 1),
        "company_day_MB_after": round(b["by_date"]["company_day"]["bytes_read"] / 1e6, 2),
    }


@case("profile_overhead", "the job's query profiled (JSON, detailed) vs unprofiled: median of 5 runs each")
def profile_overhead(config_path: Path) -> dict:
    import statistics
    import time

    from evtools import profiling

    config = load_config(config_path)
    con = open_sources(config, names=("fact_events",), check=False)
    sql, params = profiling.job_query(con)
    con.execute(sql, params).fetchall()

    def timed(fn) -> float:
        runs = []
        for _ in range(5):
            start = time.perf_counter()
            fn()
            runs.append(time.perf_counter() - start)
        return statistics.median(runs)

    plain = timed(lambda: con.execute(sql, params).fetchall())
    profiled = timed(lambda: profiling.profile(con, sql, params))
    return {
        "plain_s": round(plain, 3),
        "profiled_s": round(profiled, 3),
        "overhead": round(profiled / plain - 1, 3),
    }


@case(
    "runs_100k",
    "evtools runs --log on a generated 100,000-run csv (400 jobs x 250 runs): read by DuckDB, every job analysed",
)
def runs_100k(config_path: Path) -> dict:
    import contextlib
    import io
    import tempfile
    import time

    from evtools import runs_sample
    from evtools.cli import main

    log = WORK / "runs_100k" / "job_runs.csv"
    if not log.exists():  # made once, outside the timing
        runs_sample.write(runs_sample.RunLogSpec(copies=100), log.parent)
    with tempfile.TemporaryDirectory() as tmp, contextlib.redirect_stdout(io.StringIO()):
        start = time.perf_counter()
        code = main(["--no-progress", "runs", "--log", str(log), "--out", tmp, "--config", tmp + "/none.toml"])
        seconds = time.perf_counter() - start
        summary = json.loads((Path(tmp) / "summary.json").read_text())
    if code != 0:
        raise SystemExit(f"evtools runs exited {code}")
    return {
        "run_s": round(seconds, 3),
        "runs": summary["runs"],
        "jobs": summary["jobs"],
        "code_driven": summary["verdicts"]["code-driven"],
        "volume_driven": summary["verdicts"]["volume-driven"],
        "n_plus_one": summary["n_plus_one"],
        "change_points": summary["change_points"],
    }


def _refresh_db(config) -> Path:
    """An aggregate built as of the day before the last ingestion day (rebuilt when missing), one per data set."""
    import datetime as dt

    from evtools import refresh

    db = WORK / f"refresh_base-{config.root.name}.duckdb"
    newest = (
        open_sources(config, names=("fact_events",), check=False)
        .execute("SELECT max(ingested_at) FROM fact_events")
        .fetchall()[0][0]
    )
    until = dt.datetime.combine(newest.date() - dt.timedelta(days=30), dt.time())
    if not db.exists():
        WORK.mkdir(parents=True, exist_ok=True)
        refresh.refresh(config, db, until=until, full=True)
    return db


@case(
    "refresh_full",
    "evtools refresh --full: latest version per event_id, then the aggregate, written to DuckDB",
)
def refresh_full(config_path: Path) -> dict:
    import tempfile

    from evtools import refresh

    config = load_config(config_path)
    with tempfile.TemporaryDirectory(dir=WORK if WORK.exists() else None) as tmp:
        r = refresh.refresh(config, Path(tmp) / "agg.duckdb", full=True)
    return {"keys": r.keys_changed, "rows": r.rows_read}


@case("refresh_daily", "evtools refresh: one new day of ingestion (with its late rows) on a built aggregate")
def refresh_daily(config_path: Path) -> dict:
    import datetime as dt
    import shutil
    import tempfile

    from evtools import refresh

    config = load_config(config_path)
    base = _refresh_db(config)
    with tempfile.TemporaryDirectory(dir=WORK) as tmp:
        db = Path(tmp) / "agg.duckdb"
        shutil.copy(base, db)
        con = refresh.duckdb.connect(str(db), read_only=True)
        watermark = con.execute("SELECT watermark FROM evtools_state").fetchall()[0][0]
        con.close()
        import time

        start = time.perf_counter()
        r = refresh.refresh(config, db, until=watermark + dt.timedelta(days=1))
        seconds = time.perf_counter() - start
    return {
        "run_s": round(seconds, 3),
        "new_rows": r.rows_read,
        "keys_changed": r.keys_changed,
        "dates": r.dates_recomputed,
        "dropped_by_2day_window": r.missed_by_lookback_rows,
    }


@case(
    "validate_day",
    "evtools validate: the four suites on one date (GX pandas engine on DuckDB-computed frames)",
)
def validate_day(config_path: Path) -> dict:
    import datetime as dt

    from evtools import expectations

    config = load_config(config_path)
    db = _refresh_db(config)
    root = Path(__file__).resolve().parents[1] / "expectations"
    day = (
        open_sources(config, names=("fact_events",), check=False)
        .execute("SELECT max(date) - 40 FROM fact_events")
        .fetchall()[0][0]
    )
    result = expectations.validate(config, dates=[day], folder=root, as_of=dt.datetime(2026, 1, 2), db=db)
    return {"expectations": result.summary["expectations"], "failed": result.summary["failed"]}


@case(
    "validate_all",
    "evtools validate --all: the four suites on every date, each batch's metrics for all dates in one pass, "
    "validation.json and Data Docs",
)
def validate_all(config_path: Path) -> dict:
    import datetime as dt
    import logging
    import tempfile

    from evtools import expectations
    from evtools.queries import load_sql

    config = load_config(config_path)
    db = _refresh_db(config)
    root = Path(__file__).resolve().parents[1] / "expectations"
    con = open_sources(config, names=("fact_events",), check=False)
    dates = [r[0] for r in con.execute(load_sql("dates")).fetchall()]
    seconds: dict[str, float] = {}

    class Timings(logging.Handler):  # the seconds validate_all logs per (suite, batch)
        def emit(self, record: logging.LogRecord) -> None:
            if hasattr(record, "batch_seconds"):
                seconds[record.batch] = round(record.batch_seconds, 2)

    logging.getLogger("evtools.validate_all").addHandler(Timings())
    logging.getLogger("evtools.validate_all").setLevel(logging.INFO)
    with tempfile.TemporaryDirectory() as tmp:
        result = expectations.validate(
            config, dates=dates, folder=root, docs=Path(tmp) / "data_docs", as_of=dt.datetime(2026, 1, 2), db=db
        )
        result.write(Path(tmp))
    return {
        "dates": len(dates),
        "results": result.summary["expectations"],
        "failed": result.summary["failed"],
        "totals_s": seconds.get("agg_company_daily_events.totals"),
        "duplicates_s": seconds.get("fact_events.duplicates"),
    }


# -- the same analyses on Apache Spark (local[2], 4 GB driver), for the engine comparison ---------------------------
SPARK_CONF = {"spark.driver.memory": "4g", "spark.sql.shuffle.partitions": "16"}


def _spark_config(config_path: Path, aggregate: Path | None = None):
    import dataclasses
    from types import MappingProxyType

    config = load_config(config_path)
    engine = dataclasses.replace(
        config.engine, kind="spark", master="local[2]", conf=MappingProxyType(SPARK_CONF)
    )
    if aggregate is not None:
        engine = dataclasses.replace(engine, aggregate_path=str(aggregate))
    return dataclasses.replace(config, engine=engine)


def _jvm_peak_mb() -> float | None:
    """Peak RSS of the Spark driver JVM (a separate process, not in the case's own figure)."""
    from pyspark import SparkContext

    proc = getattr(SparkContext._gateway, "proc", None) if SparkContext._gateway else None
    if proc is None:
        return None
    for line in Path(f"/proc/{proc.pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return round(int(line.split()[1]) / 1024)
    return None


@case("spark_quality", "evtools quality --engine spark (local[2]; JVM start included)")
def spark_quality(config_path: Path) -> dict:
    from evtools import quality, spark

    config = _spark_config(config_path)
    s = quality.analyse(spark.connect(config), config).summary
    return {
        "duplicate_excess": s["duplicate_excess"],
        "correction_excess": s["correction_excess"],
        "latest_events": s["latest_events"],
        "recommended_lookback": s["recommended_lookback_days"],
        "jvm_peak_mb": _jvm_peak_mb(),
    }


@case("spark_reconcile", "evtools reconcile --engine spark (local[2]; JVM start included)")
def spark_reconcile(config_path: Path) -> dict:
    from evtools import reconcile, spark

    config = _spark_config(config_path)
    s = reconcile.reconcile(spark.connect(config), config).summary
    return {
        "keys": s["keys_compared"],
        "mismatched": s["mismatched"],
        "timezone_keys": s["keys_by_cause"].get("timezone", 0),
        "jvm_peak_mb": _jvm_peak_mb(),
    }


@case(
    "spark_refresh_full",
    "evtools refresh --full --engine spark: state and aggregate as date-partitioned parquet",
)
def spark_refresh_full(config_path: Path) -> dict:
    import tempfile

    from evtools import refresh_spark

    WORK.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=WORK) as tmp:
        r = refresh_spark.refresh(_spark_config(config_path, Path(tmp) / "lake"), full=True)
    return {"keys": r.keys_changed, "rows": r.rows_read, "jvm_peak_mb": _jvm_peak_mb()}


@case(
    "spark_refresh_daily", "evtools refresh --engine spark: one new day of ingestion, touched partitions only"
)
def spark_refresh_daily(config_path: Path) -> dict:
    import datetime as dt
    import tempfile
    import time

    from evtools import refresh_spark, spark

    WORK.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=WORK) as tmp:
        config = _spark_config(config_path, Path(tmp) / "lake")
        con = spark.connect(config, names=("fact_events",), check=False)
        newest = con.first_row("newest_ingested")[0]
        until = dt.datetime.combine(newest.date() - dt.timedelta(days=30), dt.time())
        refresh_spark.refresh(config, until=until, full=True, con=con)
        start = time.perf_counter()
        r = refresh_spark.refresh(config, until=until + dt.timedelta(days=1), con=con)
        seconds = time.perf_counter() - start
        same = refresh_spark.verify(config, con).empty
    return {
        "run_s": round(seconds, 3),
        "new_rows": r.rows_read,
        "keys_changed": r.keys_changed,
        "dates": r.dates_recomputed,
        "verify_equal": same,
        "jvm_peak_mb": _jvm_peak_mb(),
    }
