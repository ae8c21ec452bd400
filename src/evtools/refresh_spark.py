"""The exact incremental aggregate on Spark: parquet partitioned by date, where only the touched dates are rewritten.

Same contract as ``evtools.refresh`` (strategy touched): ``agg`` holds, per (company_id, date), the sum and count of
the latest versions lying on the key as of the watermark. Under ``[engine] aggregate_path`` (any Hadoop file system
path: a local folder, hdfs://, abfss://, s3a://):

- ``agg/date=D/``      the aggregate (company_id, events, rows, refreshed_at), one partition per date;
- ``versions/date=D/`` the state: every version of every event_id (event_id, company_id, events, first_at, version,
  is_latest), as ``evtools_versions`` in ``evtools.refresh``;
- ``_state.json``     strategy and watermark; ``_runs/NNNNNN.json`` one record per run.

A run reads the rows ingested since the watermark, finds the stored versions of their event ids (``_old``: a scan of
the state's event_id column), merges both through the version rule (``sql/versions.sql``), and rewrites the
partitions of the dates the old or new versions lie on: the state's and the aggregate's (recomputed from them).
Other partitions are not rewritten; of them only the state's event_id column is read.

Commit: the new partitions are written under ``_staging/``, then ``_staging/COMMIT`` records the dates and the new
state; only then are the live partitions replaced. A run that stops before COMMIT leaves the live data untouched (the
next run discards the staging); one that stops after it is rolled forward by the next run. On object stores where
rename is a copy, keep one writer at a time (the lock is a local file when the path is local).
"""

from __future__ import annotations

import contextlib
import dataclasses
import datetime as dt
import json
import time
from pathlib import Path

import pandas as pd

from evtools import pipeline
from evtools.config import Config
from evtools.errors import EvtoolsError
from evtools.refresh import AGGREGATE, RunResult, _fault, clamp_until, locked
from evtools.rules import lookback_since
from evtools.spark import SparkConnection, connect, to_pandas

TABLES = ("agg", "versions")
STAGING = "_staging"
# the DuckDB build's steps, with the table updates of refresh_full_versions / refresh_apply done by writing partitions
FULL = [*pipeline.REFRESH_FULL[1:-2], "lake_full_state"]
TOUCHED = [*pipeline.REFRESH_TOUCHED[:-1], "lake_touched_dates"]


class HadoopFS:
    """File operations on the aggregate's folder through the JVM's Hadoop FileSystem (local, HDFS, cloud stores)."""

    def __init__(self, spark, root: str):
        jvm = spark.sparkContext._jvm
        self._jvm = jvm
        self.root = root.rstrip("/")
        conf = spark.sparkContext._jsc.hadoopConfiguration()
        self.fs = jvm.org.apache.hadoop.fs.Path(self.root).getFileSystem(conf)

    def path(self, *parts: str):
        return self._jvm.org.apache.hadoop.fs.Path("/".join([self.root, *parts]))

    def url(self, *parts: str) -> str:
        return "/".join([self.root, *parts])

    def exists(self, *parts: str) -> bool:
        return bool(self.fs.exists(self.path(*parts)))

    def delete(self, *parts: str) -> None:
        self.fs.delete(self.path(*parts), True)

    def move(self, src: tuple[str, ...], dst: tuple[str, ...]) -> None:
        """Replace ``dst`` by ``src`` (``dst`` deleted first; its parent created)."""
        self.delete(*dst)
        self.fs.mkdirs(self.path(*dst).getParent())
        if not self.fs.rename(self.path(*src), self.path(*dst)):
            raise EvtoolsError(f"{self.url(*dst)}: cannot move {self.url(*src)} there")

    def write_text(self, text: str, *parts: str) -> None:
        """Write a small file whole: to a temporary name, then renamed into place."""
        tmp = (*parts[:-1], f".{parts[-1]}.tmp")
        stream = self.fs.create(self.path(*tmp), True)
        try:
            stream.write(bytearray(text.encode("utf-8")))
        finally:
            stream.close()
        self.move(tmp, parts)

    def read_text(self, *parts: str) -> str | None:
        if not self.exists(*parts):
            return None
        stream = self.fs.open(self.path(*parts))
        reader = self._jvm.java.io.BufferedReader(self._jvm.java.io.InputStreamReader(stream, "UTF-8"))
        try:
            return "\n".join(iter(reader.readLine, None))
        finally:
            reader.close()

    def children(self, *parts: str) -> list[str]:
        if not self.exists(*parts):
            return []
        return sorted(s.getPath().getName() for s in self.fs.listStatus(self.path(*parts)))


def _lock_path(config: Config) -> Path | None:
    where = config.aggregate_path
    return None if "://" in where and not where.startswith("file://") else Path(where.removeprefix("file://"))


def refresh(
    config: Config,
    until: dt.datetime | None = None,
    full: bool = False,
    wait: float = 0.0,
    con: SparkConnection | None = None,
) -> RunResult:
    """One refresh run of the aggregate under ``[engine] aggregate_path`` (strategy touched)."""
    lock = _lock_path(config)
    with locked(lock / "_state", wait) if lock else contextlib.nullcontext():
        con = con or connect(config, names=("fact_events",))
        until, waiting, future = clamp_until(con, until, dt.datetime.now(dt.UTC).replace(tzinfo=None))
        fs = HadoopFS(con.spark, config.aggregate_path)
        recover(fs)
        result = _run(con, fs, until, full, config.settings.lookback_days)
        return dataclasses.replace(result, waiting_rows=waiting, future_rows=future)


def read_state(fs: HadoopFS) -> tuple[str | None, dt.datetime | None]:
    text = fs.read_text("_state.json")
    if not text:
        return None, None
    state = json.loads(text)
    return state["strategy"], dt.datetime.fromisoformat(state["watermark"])


def _views(con: SparkConnection, fs: HadoopFS) -> None:
    """The live tables as the temp views the SQL names (``agg.<table>`` is read as ``agg_<table>``)."""
    con.tables = {
        "agg.evtools_versions": "agg_evtools_versions",
        "agg.agg_company_daily_events": "agg_company_daily",
    }
    for table, view in (("versions", "agg_evtools_versions"), ("agg", "agg_company_daily")):
        con.spark.read.parquet(fs.url(table)).createOrReplaceTempView(view)


def _run(con: SparkConnection, fs: HadoopFS, until, full: bool, lookback: int) -> RunResult:
    start = time.perf_counter()
    _, watermark = read_state(fs)  # the strategy is always touched here
    until = until or con.first_row("newest_ingested")[0]
    if until is None:
        raise EvtoolsError("fact_events is empty: nothing to refresh")
    if watermark is not None and until < watermark and not full:
        raise EvtoolsError(
            f"refresh --until {until}: before the watermark {watermark}; use --full to rebuild"
        )
    mode = "full" if full or watermark is None else ("noop" if until == watermark else "incremental")
    now = dt.datetime.now(dt.UTC).replace(tzinfo=None)
    run_id = len(fs.children("_runs")) + 1
    missed = (0, 0)
    if watermark is not None and mode != "full":
        since = lookback_since(until, lookback)
        missed = con.first_row("refresh_missed", {"watermark": watermark, "until": until, "since": since})
    rows_read = keys = dates = 0
    commit: dict = {}
    fs.delete(STAGING)
    params = {"until": until, "watermark": watermark, "now": now}
    if mode == "full":
        con.tables = {"agg.evtools_versions": "_full_events"}  # the first pass of the full build
        try:
            pipeline.run(con, FULL, params)
        finally:
            con.tables = {}
        state = con.spark.table("_state_src")
        _write(state, fs, "versions")
        _write(con.frame("lake_aggregate", {"now": now}), fs, "agg")
        rows_read, keys, dates = state.where("is_latest").count(), *_staged_counts(con, fs)
        commit = {"full": True}
    elif mode == "incremental":
        _views(con, fs)
        pipeline.run(con, TOUCHED, params, given=AGGREGATE)
        touched = sorted(r[0] for r in con.spark.table("_touched").collect())
        _state_partitions(con, fs, touched).createOrReplaceTempView("_state_touched")
        pipeline.run(con, ["lake_versions_touched"], given=pipeline.made(TOUCHED, AGGREGATE) | {"_state_touched"})
        state = con.spark.table("_state_src")
        _write(state, fs, "versions")
        _write(con.frame("lake_aggregate", {"now": now}), fs, "agg")
        rows_read, keys, dates = con.first_row("refresh_counts")
        commit = {"full": False, "dates": [d.isoformat() for d in touched]}
    new_watermark = watermark if mode == "noop" else until
    result = RunResult(
        run_id,
        "touched",
        mode,
        watermark,
        new_watermark,
        int(rows_read),
        int(keys),
        int(dates),
        int(missed[0]),
        int(missed[1]),
        0.0,
    )
    commit["state"] = {
        "strategy": "touched",
        "watermark": new_watermark.isoformat(),
        "updated_at": now.isoformat(),
    }
    _fault("before_commit")
    if mode != "noop":
        commit["staged"] = {t: [p for p in fs.children(STAGING, t) if p.startswith("date=")] for t in TABLES}
        fs.write_text(json.dumps(commit), STAGING, "COMMIT")
        apply(fs)
    else:
        fs.write_text(json.dumps(commit["state"]), "_state.json")
    result = dataclasses.replace(result, seconds=round(time.perf_counter() - start, 3))
    record = {**result.__dict__, "until": until, "ended_at": dt.datetime.now(dt.UTC).replace(tzinfo=None)}
    fs.write_text(json.dumps(record, default=str), "_runs", f"{run_id:06d}.json")
    return result


def _state_partitions(con: SparkConnection, fs: HadoopFS, dates: list[dt.date]):
    """The state's partitions of ``dates``, read by path (no other partition is listed or opened)."""
    live = set(fs.children("versions"))
    paths = [fs.url("versions", f"date={d.isoformat()}") for d in dates if f"date={d.isoformat()}" in live]
    if not paths:
        return con.spark.table("agg_evtools_versions").limit(0)
    return con.spark.read.option("basePath", fs.url("versions")).parquet(*paths)


def _write(frame, fs: HadoopFS, table: str) -> None:
    """Stage ``frame`` as ``table``, partitioned by date, one file per date (not one per task and date: the state
    is read whole by every run's lookup, and many small files cost more than their bytes)."""
    frame.repartition("date").write.partitionBy("date").parquet(fs.url(STAGING, table))


def _staged_counts(con: SparkConnection, fs: HadoopFS) -> tuple[int, int]:
    """Keys and dates of the staged aggregate."""
    parts = [p for p in fs.children(STAGING, "agg") if p.startswith("date=")]
    return con.spark.read.parquet(fs.url(STAGING, "agg")).count(), len(parts)


def apply(fs: HadoopFS) -> None:
    """Replace the live partitions by the staged ones as ``_staging/COMMIT`` says; idempotent (safe to re-run)."""
    commit = json.loads(fs.read_text(STAGING, "COMMIT"))
    for table in TABLES:
        if commit["full"]:
            if fs.exists(STAGING, table):
                fs.move((STAGING, table), (table,))
            continue
        for day in commit["dates"]:
            part = f"date={day}"
            if part not in commit["staged"][table]:
                fs.delete(table, part)  # no version lies on this date any more
            elif fs.exists(STAGING, table, part):  # else moved by an earlier, interrupted apply
                fs.move((STAGING, table, part), (table, part))
        _fault("mid_apply")
    fs.write_text(json.dumps(commit["state"]), "_state.json")
    fs.delete(STAGING)


def recover(fs: HadoopFS) -> None:
    """Finish a committed run that stopped while replacing partitions; discard an uncommitted one's staging."""
    if fs.exists(STAGING, "COMMIT"):
        apply(fs)
    elif fs.exists(STAGING):
        fs.delete(STAGING)


def verify(config: Config, con: SparkConnection | None = None) -> pd.DataFrame:
    """Keys where the aggregate differs from a full recomputation as of its watermark (empty when exact), rebuilt
    by the full build's own steps."""
    con = con or connect(config, names=("fact_events",))
    fs = HadoopFS(con.spark, config.aggregate_path)
    _, watermark = read_state(fs)
    if watermark is None:
        raise EvtoolsError(
            f"{config.aggregate_path}: the aggregate has never been built; run evtools refresh first"
        )
    _views(con, fs)
    con.tables = {"agg.evtools_versions": "_full_events"}
    now = dt.datetime.now(dt.UTC).replace(tzinfo=None)
    try:
        pipeline.run(con, FULL, {"until": watermark, "now": now})
    finally:
        con.tables = {}
    con.frame("lake_aggregate", {"now": now}).createOrReplaceTempView("_full_agg")
    con.tables = {"live.agg_company_daily_events": "agg_company_daily", "agg.agg_company_daily_events": "_full_agg"}
    try:
        return con.run("refresh_verify")
    finally:
        con.tables = {}


def table(config: Config, con: SparkConnection | None = None) -> pd.DataFrame:
    """The aggregate as a frame (for small data and tests), ordered by key."""
    con = con or connect(config, names=())
    frame = con.spark.read.parquet(HadoopFS(con.spark, config.aggregate_path).url("agg"))
    return to_pandas(
        frame.select("company_id", "date", "events", "rows", "refreshed_at").orderBy("company_id", "date")
    )
