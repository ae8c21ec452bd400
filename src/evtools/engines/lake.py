"""The aggregate's store on a lake (Spark): parquet partitioned by date, where only the touched dates are rewritten.

The run is ``evtools.analyses.refresh``'s, as on every engine (strategy touched); this store holds ``agg`` holds, per (company_id, date), the
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
import datetime as dt
import decimal
import json
from pathlib import Path

import pandas as pd

from evtools.core.errors import EvtoolsError
from evtools.engines import pipeline
from evtools.engines.aggfile import locked
from evtools.engines.faults import fault
from evtools.engines.queries import first_row, run
from evtools.engines.spark import to_pandas

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


def _lock_path(config) -> Path | None:
    where = config.aggregate_path
    return None if "://" in where and not where.startswith("file://") else Path(where.removeprefix("file://"))


def read_state(fs: HadoopFS) -> tuple[str | None, dt.datetime | None]:
    text = fs.read_text("_state.json")
    if not text:
        return None, None
    state = json.loads(text)
    return state["strategy"], dt.datetime.fromisoformat(state["watermark"])


def _views(con, fs: HadoopFS) -> None:
    """The live tables as the temp views the SQL names (``agg.<table>`` is read as ``agg_<table>``)."""
    con.tables = {"agg.agg_company_daily_events": "agg_company_daily"}
    con.spark.read.parquet(fs.url("agg")).createOrReplaceTempView("agg_company_daily")


def _agg_partitions(con, fs: HadoopFS, dates: list[dt.date]):
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
        fault("mid_apply")
    fs.write_text(json.dumps(commit["state"]), "_state.json")
    fs.delete(STAGING)


def recover(fs: HadoopFS) -> None:
    """Finish a committed run that stopped while replacing partitions; discard an uncommitted one's staging."""
    if fs.exists(STAGING, "COMMIT"):
        apply(fs)
    elif fs.exists(STAGING):
        fs.delete(STAGING)


RANGES = 8  # the lookup's ranges of event ids on a lakehouse (refresh_ranges.sql)


def lookup_ranges(con) -> dict:
    """The parameters lo1, hi1 .. lo8, hi8 of a lakehouse's lookup (lake_lookup.sql): the ranges of the touched event ids, split at their widest
    gaps when the ids are numbers, else one range from the smallest to the largest (unused ranges are None)."""
    lo, hi = first_row(con, "refresh_range_bounds")
    if isinstance(lo, int | float | decimal.Decimal) and not isinstance(lo, bool):
        ranges = [tuple(r) for r in run(con, "refresh_ranges").itertuples(index=False)]
    else:
        ranges = [(lo, hi)] if lo is not None else []
    out: dict = {}
    for i in range(RANGES):
        out[f"lo{i + 1}"], out[f"hi{i + 1}"] = ranges[i] if i < len(ranges) else (None, None)
    return out


class LakeStore:
    """The aggregate under ``[engine] aggregate_path``: the store ``evtools.engines.store.opened`` gives on Spark.
    A run's partitions are staged; its block's end writes ``_staging/COMMIT`` (dates and new state), then replaces
    the live partitions; a run with nothing to write updates ``_state.json`` alone. Runs are recorded in ``_runs/``
    (the runs that ended well: a failed run leaves no trace but its discarded staging)."""

    STRATEGIES = ("touched",)
    BACKFILL = False
    ENGINE = "spark"

    def __init__(self, con, fs: HadoopFS):
        self.con = con
        self.fs = fs
        self.staged: dict = {}
        self.new_state: dict | None = None
        self.record: dict | None = None

    def state(self) -> tuple[str | None, dt.datetime | None]:
        return read_state(self.fs)

    def next_run(self) -> int:
        return len(self.fs.children("_runs")) + 1

    @contextlib.contextmanager
    def commit(self):
        fs = self.fs
        fs.delete(STAGING)
        self.staged, self.new_state, self.record = {}, None, None
        yield
        fault("before_commit")
        if self.staged:
            self.staged["staged"] = {
                t: [p for p in fs.children(STAGING, t) if p.startswith("date=")] for t in TABLES
            }
            fs.write_text(json.dumps({**self.staged, "state": self.new_state}), STAGING, "COMMIT")
            apply(fs)
        elif self.new_state:
            fs.write_text(json.dumps(self.new_state), "_state.json")
        if self.record:
            fs.write_text(json.dumps(self.record, default=str), "_runs", f"{self.record['id']:06d}.json")

    def full(self, params: dict) -> tuple:
        con = self.con
        con.tables = {"agg.agg_company_daily_events": "_full_agg"}
        try:
            pipeline.run(con, FULL, params)
        finally:
            con.tables = {}
        _write(con.spark.table("_full_agg"), self.fs, "agg")
        self.staged = {"full": True}
        return con.first_row("lake_counts_full")

    def touched(self, params: dict) -> tuple[tuple, tuple]:
        con, fs = self.con, self.fs
        _views(con, fs)
        pipeline.run(con, TOUCHED[:1], params, given=pipeline.AGGREGATE_STATE)
        missed = tuple(con.first_row("refresh_missed", params))
        params = {**params, **lookup_ranges(con)}
        pipeline.run(con, TOUCHED[1:], params, given=pipeline.made(TOUCHED[:1], pipeline.AGGREGATE_STATE))
        touched = sorted(r[0] for r in con.spark.table("_touched_dates").collect())
        _agg_partitions(con, fs, touched).createOrReplaceTempView("_agg_touched")
        given = pipeline.made(TOUCHED, pipeline.AGGREGATE_STATE) | {"_agg_touched"}
        pipeline.run(con, ["lake_agg_touched"], params, given=given)
        _write(con.spark.table("_agg_src"), fs, "agg")
        self.staged = {"full": False, "dates": [d.isoformat() for d in touched]}
        return missed, con.first_row("refresh_counts")

    def set_state(self, strategy: str, watermark: dt.datetime | None, now: dt.datetime) -> None:
        self.new_state = {"strategy": strategy, "watermark": watermark.isoformat(), "updated_at": now.isoformat()}

    def log_run(self, record: dict) -> None:
        if record["status"] == "ok":
            self.record = record


@contextlib.contextmanager
def opened(con, config, wait: float = 0.0):
    """The lake's store for one run: its lock held (where the path is local), an interrupted run finished or
    discarded first."""
    lock = _lock_path(config)
    with locked(lock / "_state", wait) if lock else contextlib.nullcontext():
        fs = HadoopFS(con.spark, config.aggregate_path)
        recover(fs)
        yield LakeStore(con, fs)


def verify(con, config) -> pd.DataFrame:
    """Keys where the lake's aggregate differs from a full recomputation as of its watermark, rebuilt by the full
    build's own steps into temporary views (``store.verify``)."""
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


def read(con, config, query: str) -> pd.DataFrame:
    """The lake's aggregate (``refresh_table``: ordered by key) or its runs (``refresh_runs``: one row per run)."""
    fs = HadoopFS(con.spark, config.aggregate_path)
    if query == "refresh_runs":
        records = [json.loads(fs.read_text("_runs", name)) for name in fs.children("_runs")]
        return pd.DataFrame(records)
    frame = con.spark.read.parquet(fs.url("agg"))
    ordered = frame.select("company_id", "date", "events", "rows", "refreshed_at").orderBy("company_id", "date")
    return to_pandas(ordered)
