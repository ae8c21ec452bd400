"""The exact incremental aggregate on Spark: parquet partitioned by date, where only the touched dates are rewritten.

Same contract and the same steps as ``evtools.analyses.refresh`` (strategy touched): ``agg`` holds, per (company_id, date), the
sum and count of the latest versions lying on the key as of the watermark. Under ``[engine] aggregate_path`` (any
Hadoop file system path: a local folder, hdfs://, abfss://, s3a://):

- ``agg/date=D/``      the aggregate (company_id, events, rows, refreshed_at), one partition per date;
- ``_state.json``      strategy and watermark; ``_runs/NNNNNN.json`` one record per run.

A run reads the rows ingested since the watermark, looks up the earlier rows of their event ids in fact_events where
it lies (within the ranges of those ids, so Parquet statistics spare the rest), decides each touched event's latest
version before and after the run (``sql/versions.sql``), and rewrites the aggregate's partitions of the dates whose
keys changed. Other partitions are neither read nor rewritten.

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

from evtools.analyses.refresh import AGGREGATE, RunResult, _fault, clamp_until, locked, lookup_ranges
from evtools.core.config import Config
from evtools.core.errors import EvtoolsError
from evtools.core.rules import lookback_since
from evtools.engines import pipeline
from evtools.engines.spark import SparkConnection, connect, to_pandas

TABLES = ("agg",)
STAGING = "_staging"
# the DuckDB build's steps; refresh_apply's table updates are done by rewriting the touched dates' partitions
FULL = pipeline.REFRESH_FULL[1:]
# the lookup with the new ids' ranges as literal predicates: Spark does not push a join's keys into its Parquet scan
TOUCHED = ["refresh_new", "lake_lookup", *pipeline.REFRESH_TOUCHED[2:-1], "lake_touched_dates"]


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
    con.tables = {"agg.agg_company_daily_events": "agg_company_daily"}
    con.spark.read.parquet(fs.url("agg")).createOrReplaceTempView("agg_company_daily")


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
    rows_read = keys = dates = 0
    commit: dict = {}
    fs.delete(STAGING)
    params = {"until": until, "watermark": watermark, "now": now, "since": lookback_since(until, lookback)}
    if mode == "full":
        con.tables = {"agg.agg_company_daily_events": "_full_agg"}
        try:
            pipeline.run(con, FULL, params)
        finally:
            con.tables = {}
        _write(con.spark.table("_full_agg"), fs, "agg")
        rows_read, keys, dates = con.first_row("lake_counts_full")
        commit = {"full": True}
    elif mode == "incremental":
        _views(con, fs)
        pipeline.run(con, TOUCHED[:1], params, given=AGGREGATE)
        missed = con.first_row("refresh_missed", params)
        params.update(lookup_ranges(con))
        pipeline.run(con, TOUCHED[1:], params, given=pipeline.made(TOUCHED[:1], AGGREGATE))
        touched = sorted(r[0] for r in con.spark.table("_touched_dates").collect())
        _agg_partitions(con, fs, touched).createOrReplaceTempView("_agg_touched")
        given = pipeline.made(TOUCHED, AGGREGATE) | {"_agg_touched"}
        pipeline.run(con, ["lake_agg_touched"], params, given=given)
        _write(con.spark.table("_agg_src"), fs, "agg")
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


def _agg_partitions(con: SparkConnection, fs: HadoopFS, dates: list[dt.date]):
    """The aggregate's partitions of ``dates``, read by path (no other partition is listed or opened)."""
    live = set(fs.children("agg"))
    paths = [fs.url("agg", f"date={d.isoformat()}") for d in dates if f"date={d.isoformat()}" in live]
    if not paths:
        return con.spark.table("agg_company_daily").limit(0)
    return con.spark.read.option("basePath", fs.url("agg")).parquet(*paths)


def _write(frame, fs: HadoopFS, table: str) -> None:
    """Stage ``frame`` as ``table``, partitioned by date, one file per date (not one per task and date: many small
    files cost more than their bytes)."""
    frame.repartition("date").write.partitionBy("date").parquet(fs.url(STAGING, table))


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
    con.tables = {"agg.agg_company_daily_events": "_full_agg"}
    now = dt.datetime.now(dt.UTC).replace(tzinfo=None)
    try:
        pipeline.run(con, FULL, {"until": watermark, "now": now})
    finally:
        con.tables = {}
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
