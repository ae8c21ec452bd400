"""Benchmark cases. Each takes the large sample's config and returns extra figures to record.

The yardstick is ``groupby``: the job's own query, a plain DuckDB GROUP BY company_id, date over fact_events.
Every other case is reported as a ratio to it, measured in the same run on the same data.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

from evtools.core.config import load_config
from evtools.engines.sources import open_sources

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
    from evtools.analyses import quality

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
    "the pandas way: read fact_events, keep each event_id's latest version (evtools' rule), groupby company/date",
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
    # the rule of evtools.rules: a payload's time is its first arrival; the latest version arrived last (ties: the
    # larger events, then the later date, then the greater company_id)
    payloads = df.sort_values("ingested_at", kind="stable").drop_duplicates(
        subset=["event_id", "company_id", "date", "events"], keep="first"
    )
    latest = payloads.sort_values(["ingested_at", "events", "date", "company_id"]).drop_duplicates(
        "event_id", keep="last"
    )
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

    from evtools.analyses import reconcile

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
    from evtools.analyses import layout

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

    from evtools.analyses import profiling

    config = load_config(config_path)
    con = open_sources(config, names=("fact_events",), check=False)
    con.execute("SET parquet_metadata_cache = false")  # as the job runs on its own, and as a profile reads
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

    from evtools.analyses import runs_sample
    from evtools.app.cli import main

    log = WORK / "runs_100k" / "job_runs.csv"
    if not log.exists():  # made once, outside the timing
        runs_sample.write(runs_sample.RunLogSpec(copies=100), log.parent)
    with tempfile.TemporaryDirectory() as tmp, contextlib.redirect_stdout(io.StringIO()):
        start = time.perf_counter()
        code = main(
            ["--no-progress", "runs", "--log", str(log), "--out", tmp, "--config", tmp + "/none.toml"]
        )
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

    from evtools.analyses import refresh

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
    import time

    from evtools.analyses import refresh

    config = load_config(config_path)
    with tempfile.TemporaryDirectory(dir=WORK if WORK.exists() else None) as tmp:
        start = time.perf_counter()
        r = refresh.refresh(config, Path(tmp) / "agg.duckdb", full=True)
        full_s = time.perf_counter() - start
    return {"keys": r.keys_changed, "rows": r.rows_read, "full_s": round(full_s, 2), "in_run_s": r.seconds}


def _daily(config, base: Path) -> dict:
    """One daily refresh (the day after the watermark of the aggregate ``base``) on a copy of it: the refresh call's
    wall-clock seconds, the run's own, and whether the result equals a full rebuild (``refresh --verify``)."""
    import datetime as dt
    import shutil
    import tempfile
    import time

    import duckdb

    from evtools.analyses import refresh

    WORK.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=WORK) as tmp:
        db = Path(tmp) / "agg.duckdb"
        shutil.copy(base, db)
        con = duckdb.connect(str(db), read_only=True)
        watermark = con.execute("SELECT watermark FROM evtools_state").fetchall()[0][0]
        con.close()
        start = time.perf_counter()
        r = refresh.refresh(config, db, until=watermark + dt.timedelta(days=1))
        seconds = time.perf_counter() - start
        exact = refresh.verify(config, db).empty
    return {
        "run_s": round(seconds, 3),
        "in_run_s": r.seconds,
        "new_rows": r.rows_read,
        "keys_changed": r.keys_changed,
        "dates": r.dates_recomputed,
        "dropped_by_2day_window": r.missed_by_lookback_rows,
        "exact": exact,
    }


@case("refresh_daily", "evtools refresh: one new day of ingestion (with its late rows) on a built aggregate")
def refresh_daily(config_path: Path) -> dict:
    config = load_config(config_path)
    return _daily(config, _refresh_db(config))


@case(
    "refresh_ordered",
    "the time-ordered-id twin of the set (make sample-large-ordered): refresh --full, then one daily refresh",
)
def refresh_ordered(config_path: Path) -> dict:
    import tempfile
    import time

    from evtools.analyses import refresh

    config = load_config(ordered_twin(config_path))
    WORK.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=WORK) as tmp:
        start = time.perf_counter()
        full = refresh.refresh(config, Path(tmp) / "agg.duckdb", full=True)
        full_s = time.perf_counter() - start
    daily = _daily(config, _refresh_db(config))
    return {"full_s": round(full_s, 2), "full_in_run_s": full.seconds, "rows": full.rows_read} | daily


@case(
    "validate_day",
    "evtools validate: the four suites on one date (GX pandas engine on DuckDB-computed frames)",
)
def validate_day(config_path: Path) -> dict:
    import datetime as dt

    from evtools.analyses import expectations

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

    from evtools.analyses import expectations
    from evtools.engines.queries import load_sql

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

    logging.getLogger("evtools.analyses.validate_all").addHandler(Timings())
    logging.getLogger("evtools.analyses.validate_all").setLevel(logging.INFO)
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
    from evtools.analyses import quality
    from evtools.engines import spark

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
    from evtools.analyses import reconcile
    from evtools.engines import spark

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

    from evtools.analyses import refresh

    WORK.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=WORK) as tmp:
        r = refresh.refresh(_spark_config(config_path, Path(tmp) / "lake"), full=True)
    return {"keys": r.keys_changed, "rows": r.rows_read, "jvm_peak_mb": _jvm_peak_mb()}


@case(
    "spark_refresh_daily", "evtools refresh --engine spark: one new day of ingestion, touched partitions only"
)
def spark_refresh_daily(config_path: Path) -> dict:
    import datetime as dt
    import tempfile
    import time

    from evtools.analyses import refresh
    from evtools.engines import spark

    WORK.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=WORK) as tmp:
        config = _spark_config(config_path, Path(tmp) / "lake")
        con = spark.connect(config, names=("fact_events",), check=False)
        newest = con.first_row("newest_ingested")[0]
        until = dt.datetime.combine(newest.date() - dt.timedelta(days=30), dt.time())
        refresh.refresh(config, until=until, full=True, con=con)
        start = time.perf_counter()
        r = refresh.refresh(config, until=until + dt.timedelta(days=1), con=con)
        seconds = time.perf_counter() - start
        same = refresh.verify(config, con=con).empty
    return {
        "run_s": round(seconds, 3),
        "new_rows": r.rows_read,
        "keys_changed": r.keys_changed,
        "dates": r.dates_recomputed,
        "verify_equal": same,
        "jvm_peak_mb": _jvm_peak_mb(),
    }


# -- the daily refresh against the size of the history -------------------------------------------------------------

HISTORY_ROWS = (5_000_000, 20_000_000, 50_000_000)


def ordered_twin(config_path: Path) -> Path:
    """The time-ordered-id twin of a generated set: ``<folder>-ordered`` beside it (``make sample-large-ordered``)."""
    return config_path.parent.with_name(config_path.parent.name + "-ordered") / "evtools.toml"


def _history_config(config_path: Path, folder: Path, new_day, rows: int) -> tuple[Path, int]:
    """A config over the ingestion files of the new day and of the days before it, as many as make ``rows`` rows
    of history (fewer when there are not so many): symlinks in ``folder``. Returns it and the history rows."""
    import datetime as dt

    import pyarrow.parquet as pq

    src = config_path.parent / "fact_events"
    files = sorted(src.glob("ingested_*.parquet"))
    day = lambda p: dt.date.fromisoformat(p.stem.removeprefix("ingested_"))  # noqa: E731
    before = [p for p in files if day(p) < new_day]
    chosen, history = [], 0
    for p in reversed(before):
        if history >= rows:
            break
        chosen.append(p)
        history += pq.ParquetFile(p).metadata.num_rows
    chosen += [p for p in files if day(p) == new_day]
    (folder / "fact_events").mkdir(parents=True)
    for p in chosen:
        (folder / "fact_events" / p.name).symlink_to(p.resolve())
    (folder / "evtools.toml").write_text('[sources]\nfact_events = "fact_events/*.parquet"\n')
    return folder / "evtools.toml", history


def _daily_process(config: Path, db: Path, until) -> dict:
    """One daily refresh as its own process: wall-clock seconds, the run's own seconds, peak RSS (VmHWM: the
    resident high-water mark of this process's own memory; ru_maxrss would carry the forking parent's)."""
    import subprocess
    import sys
    import time

    code = (
        "import datetime as dt, json, re, sys\n"
        "from evtools import refresh\nfrom evtools.config import load_config\n"
        "r = refresh.refresh(load_config(sys.argv[1]), sys.argv[2], until=dt.datetime.fromisoformat(sys.argv[3]))\n"
        "print(json.dumps({'run_s': r.seconds, 'rows': r.rows_read, 'mode': r.mode,\n"
        "  'rss_mb': int(re.search(r'VmHWM:\\s+(\\d+)', open('/proc/self/status').read())[1]) / 1024}))\n"
    )
    start = time.perf_counter()
    proc = subprocess.run(
        [sys.executable, "-c", code, str(config), str(db), until.isoformat()],
        capture_output=True,
        text=True,
        check=True,
    )
    out = json.loads(proc.stdout.strip().splitlines()[-1])
    return {**out, "process_s": time.perf_counter() - start}


@case(
    "refresh_history",
    "the same new day refreshed onto 5M, 20M and 50M rows of history, random and time-ordered event ids",
)
def refresh_history(config_path: Path) -> dict:
    import datetime as dt
    import shutil
    import tempfile

    from evtools.analyses import refresh

    kinds = {"random": config_path}
    if ordered_twin(config_path).is_file():
        kinds["ordered"] = ordered_twin(config_path)
    newest = (
        open_sources(load_config(config_path), names=("fact_events",), check=False)
        .execute("SELECT max(ingested_at) FROM fact_events")
        .fetchall()[0][0]
    )
    new_day = newest.date() - dt.timedelta(days=30)
    base_until = dt.datetime.combine(new_day, dt.time())
    out: dict = {"new_day": new_day.isoformat()}
    WORK.mkdir(parents=True, exist_ok=True)
    for kind, path in kinds.items():
        points = []
        for rows in HISTORY_ROWS:
            with tempfile.TemporaryDirectory(dir=WORK) as tmp:
                config, history = _history_config(path, Path(tmp) / "data", new_day, rows)
                db = Path(tmp) / "agg.duckdb"
                refresh.refresh(load_config(config), db, until=base_until, full=True)
                runs = [
                    _daily_process(config, _copy(db, Path(tmp) / f"run{i}.duckdb"), base_until + dt.timedelta(days=1))
                    for i in range(3)
                ]
                best = runs[0] | {k: min(r[k] for r in runs) for k in ("run_s", "process_s")}
                best["rss_mb"] = max(r["rss_mb"] for r in runs)  # a peak: the largest of the runs
                shutil.rmtree(Path(tmp) / "data")
            points.append((history / 1e6, best))
            out[f"{kind}_{round(history / 1e6)}M"] = (
                f"run {best['run_s']:.3f} s, process {best['process_s']:.2f} s, {best['rss_mb']:.0f} MB, "
                f"{best['rows']:,} new rows"
            )
        (h0, first), (h1, last) = points[0], points[-1]
        for what, key in (("run_s", "run_s"), ("process_s", "process_s"), ("MB", "rss_mb")):
            slope = (last[key] - first[key]) / (h1 - h0)
            out[f"{kind}_slope_{what}_per_M"] = round(slope, 5)
            out[f"{kind}_{what}_at_5B"] = round(last[key] + slope * (5000 - h1), 2)
        out[f"{kind}_run_ratio_50M_to_5M"] = round(last["run_s"] / first["run_s"], 2)
        out[f"{kind}_process_ratio_50M_to_5M"] = round(last["process_s"] / first["process_s"], 2)
    return out


def _copy(db: Path, to: Path) -> Path:
    import shutil

    shutil.copy(db, to)
    return to


@case(
    "event_id_scan",
    "the cost of reading fact_events' event_id column once (the bound of a lookup with random ids)",
)
def event_id_scan(config_path: Path) -> dict:
    import time

    con = open_sources(load_config(config_path), names=("fact_events",), check=False)
    start = time.perf_counter()
    n = con.execute("SELECT count(DISTINCT event_id % 1000) FROM fact_events").fetchall()[0][0]
    return {"scan_s": round(time.perf_counter() - start, 3), "groups": n}


# -- the peer a dbt user would write ---------------------------------------------------------------------------------

DBT_MODEL = """\
{{ config(materialized='incremental', unique_key=['company_id', 'date']) }}
-- what a dbt user writes: the latest row per event_id (ROW_NUMBER), re-reading the last 2 dates on each run
with src as (
    select * from read_parquet('{{ var("fact_glob") }}')
    {% if is_incremental() %}
    where date >= (select max(date) - interval 2 day from {{ this }})
    {% endif %}
),
latest as (
    select *, row_number() over (partition by event_id order by ingested_at desc, events desc) as rn from src
)
select company_id, date, sum(events)::bigint as events from latest where rn = 1 group by company_id, date
"""


def _dbt(project: Path, *args: str) -> tuple[float, float]:
    """Run dbt in ``project``: wall-clock seconds and the peak RSS (MB) of its process."""
    import os
    import resource
    import subprocess
    import sys
    import time

    before = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    start = time.perf_counter()
    dbt = Path(sys.executable).with_name("dbt")
    proc = subprocess.run(
        [str(dbt), *args, "--project-dir", str(project), "--profiles-dir", str(project)],
        capture_output=True,
        text=True,
        env={**os.environ, "DBT_SEND_ANONYMOUS_USAGE_STATS": "false"},
    )
    if proc.returncode != 0:
        raise RuntimeError(f"dbt {' '.join(args[:2])} failed:\n{proc.stdout[-3000:]}\n{proc.stderr[-2000:]}")
    seconds = time.perf_counter() - start
    return seconds, max(before, resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss) / 1024


@case(
    "dbt_peer",
    "a dbt-duckdb incremental model with a ROW_NUMBER dedup and a 2-day lookback: full build and one daily run",
)
def dbt_peer(config_path: Path) -> dict:
    import datetime as dt
    import tempfile

    import duckdb

    from evtools.analyses import refresh

    newest = (
        open_sources(load_config(config_path), names=("fact_events",), check=False)
        .execute("SELECT max(ingested_at) FROM fact_events")
        .fetchall()[0][0]
    )
    new_day = newest.date() - dt.timedelta(days=30)
    WORK.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=WORK) as tmp:
        project = Path(tmp)
        (project / "models").mkdir()
        (project / "models" / "agg_company_daily_events.sql").write_text(DBT_MODEL)
        (project / "dbt_project.yml").write_text(
            "name: peer\nversion: '1.0'\nprofile: peer\nmodel-paths: ['models']\n"
        )
        (project / "profiles.yml").write_text(
            f"peer:\n  target: dev\n  outputs:\n    dev:\n      type: duckdb\n      path: {project / 'peer.duckdb'}\n"
            "      threads: 2\n"
        )
        before = _glob_until(config_path, project / "before", new_day)
        after = _glob_until(config_path, project / "after", new_day + dt.timedelta(days=1))
        full_s, full_mb = _dbt(project, "run", "--full-refresh", "--vars", f"{{fact_glob: '{before}'}}")
        daily_s, daily_mb = _dbt(project, "run", "--vars", f"{{fact_glob: '{after}'}}")
        con = duckdb.connect(str(project / "peer.duckdb"), read_only=True)
        peer = con.execute("SELECT company_id, date, events FROM agg_company_daily_events").df()
        con.close()
        exact = refresh.table(load_config(config_path), _exact(config_path, project, new_day))
    joined = peer.merge(exact, on=["company_id", "date"], how="outer", suffixes=("_peer", "_exact")).fillna(0)
    wrong = joined[joined["events_peer"] != joined["events_exact"]]
    return {
        "full_s": round(full_s, 2),
        "full_rss_mb": round(full_mb),
        "daily_s": round(daily_s, 2),
        "daily_rss_mb": round(daily_mb),
        "keys_wrong_after_one_day": len(wrong),
        "events_wrong": int((wrong["events_peer"] - wrong["events_exact"]).abs().sum()),
    }


def _glob_until(config_path: Path, folder: Path, last_day) -> str:
    """A folder of symlinks to the ingestion files up to ``last_day``, as a glob."""
    import datetime as dt

    folder.mkdir()
    for p in sorted((config_path.parent / "fact_events").glob("ingested_*.parquet")):
        if dt.date.fromisoformat(p.stem.removeprefix("ingested_")) <= last_day:
            (folder / p.name).symlink_to(p.resolve())  # a relative --data would leave the link dangling
    return str(folder / "*.parquet")


def _exact(config_path: Path, folder: Path, new_day) -> Path:
    """evtools' exact aggregate as of the end of ``new_day`` (the day the peer's daily run added)."""
    import datetime as dt

    from evtools.analyses import refresh

    db = folder / "exact.duckdb"
    refresh.refresh(
        load_config(config_path),
        db,
        until=dt.datetime.combine(new_day + dt.timedelta(days=1), dt.time()) + dt.timedelta(days=1),
        full=True,
    )
    return db


@case("repeated_ids", "the one aggregation exact deduplication needs: which event_ids occur more than once (DuckDB)")
def repeated_ids(config_path: Path) -> dict:
    con = open_sources(load_config(config_path), names=("fact_events",), check=False)
    n = con.execute(
        "SELECT count(*) FROM (SELECT event_id FROM fact_events GROUP BY event_id HAVING count(*) > 1)"
    ).fetchall()[0][0]
    return {"repeated_ids": n}


@case(
    "gx_import",
    "a fresh process importing Great Expectations as validate does, and making its context (part of every validate)",
)
def gx_import(config_path: Path) -> dict:
    import subprocess
    import sys
    import time

    code = "from evtools.analyses import gx\ngx._Gx(None)\nprint('ready')\n"
    start = time.perf_counter()
    out = subprocess.run([sys.executable, "-c", code], check=True, capture_output=True, text=True)
    seconds = time.perf_counter() - start
    if "ready" not in out.stdout:  # pyspark, imported by GX under `python -c`, can end the process early with 0
        raise RuntimeError(f"the process ended before Great Expectations was ready: {out.stderr[-300:]}")
    return {"import_s": round(seconds, 2)}
