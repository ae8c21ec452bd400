"""The shared passes' cache (evtools.engines.digest) never answers for sources that changed.

The oracle is a cold run: the same analysis with the cache turned off (EVTOOLS_NO_CACHE), on the same files. Each
test changes the sources the way real ingestion does (a new file, a file rewritten in place, a build killed
halfway, a file appended while an entry is built) and checks the figures against that cold run, and that they
moved (so a stale answer could not pass).
"""

from __future__ import annotations

import logging
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

import duckdb
import pyarrow as pa
import pytest

from evtools.analyses import quality, reconcile
from evtools.core.config import load_config
from evtools.engines import digest
from evtools.engines.faults import FAULT_ENV
from evtools.engines.sources import open_sources
from tests.conftest import SAMPLE


@pytest.fixture
def project(tmp_path) -> Path:
    folder = tmp_path / "sample"
    shutil.copytree(SAMPLE, folder, ignore=shutil.ignore_patterns(".evtools"))
    return folder / "evtools.toml"


def figures(config_path: Path) -> tuple[pa.Table, dict, pa.Table]:
    """quality's per-key table and summary, and reconcile's table, on fresh connections."""
    config = load_config(config_path)
    q = quality.analyse(open_sources(config), config)
    r = reconcile.reconcile(open_sources(config), config)
    return q.by_key, q.summary, r.table


def cold(config_path: Path, monkeypatch) -> tuple[pa.Table, dict, pa.Table]:
    with monkeypatch.context() as m:
        m.setenv(digest.OFF_ENV, "1")
        return figures(config_path)


def entries(config_path: Path) -> list[Path]:
    return sorted(p for p in (config_path.parent / ".evtools" / "cache").glob("*.duckdb") if not p.name.startswith("."))


def same(a, b) -> bool:
    return a[0].equals(b[0]) and a[1] == b[1] and a[2].equals(b[2])


def test_a_second_command_reads_the_entry_and_gives_the_cold_figures(project, monkeypatch, caplog):
    reference = cold(project, monkeypatch)
    assert entries(project) == []
    first = figures(project)
    assert len(entries(project)) == 1
    caplog.set_level(logging.INFO, logger="evtools.engines.digest")
    second = figures(project)
    assert "read from the cache" in caplog.text
    assert same(first, reference) and same(second, reference)


def _write_like(src: Path, dest: Path, sql: str) -> None:
    """A parquet file made from ``src`` by a query over it (``t``)."""
    con = duckdb.connect()
    con.execute(f"CREATE VIEW t AS SELECT * FROM read_parquet('{src}')")
    con.execute(f"COPY ({sql}) TO '{dest}' (FORMAT parquet)")
    con.close()


def test_an_appended_file_is_never_answered_from_the_cache(project, monkeypatch):
    before = figures(project)
    files = sorted((project.parent / "fact_events").glob("*.parquet"))
    # a replayed batch: an old file's rows ingested again a day after the newest file
    _write_like(
        files[3],
        project.parent / "fact_events" / "ingested_9999-replay.parquet",
        "SELECT * REPLACE (ingested_at + INTERVAL 90 DAY AS ingested_at) FROM t",
    )
    after = figures(project)
    assert same(after, cold(project, monkeypatch))
    assert after[1]["duplicate_excess"] > before[1]["duplicate_excess"]
    assert len(entries(project)) == 2


def test_a_file_rewritten_in_place_is_never_answered_from_the_cache(project, monkeypatch, tmp_path):
    target = sorted((project.parent / "fact_events").glob("*.parquet"))[10]
    _write_like(target, tmp_path / "same.parquet", "SELECT * FROM t")  # the file as the rewrites below write it
    shutil.move(tmp_path / "same.parquet", target)
    before = figures(project)
    stat = target.stat()
    # one event's count changed by 1, in a file of the same size: only the content tells it from the original
    for row in range(1, 200):
        rewritten = tmp_path / f"new-{row}.parquet"
        _write_like(target, rewritten, "SELECT * EXCLUDE (rn) REPLACE (CASE WHEN rn = $row THEN events + 1 ELSE events "
                    "END AS events) FROM (SELECT *, row_number() OVER () AS rn FROM t)".replace("$row", str(row)))
        if rewritten.stat().st_size == stat.st_size:
            break
    assert rewritten.stat().st_size == stat.st_size, "no rewrite of the same size was found"
    with open(target, "r+b") as f:  # in place: the same inode, the same size, the modification time put back
        f.write(rewritten.read_bytes())
    os.utime(target, ns=(stat.st_atime_ns, stat.st_mtime_ns))
    after = figures(project)
    assert same(after, cold(project, monkeypatch))
    assert after[1]["total_events"] == before[1]["total_events"] + 1


def _run(project: Path, env: dict) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "evtools", "quality", "--config", str(project)],
        env={**os.environ, "EVTOOLS_NO_PROGRESS": "1", **env},
        capture_output=True,
        text=True,
        timeout=300,
    )


def test_a_build_killed_halfway_publishes_nothing(project, monkeypatch):
    killed = _run(project, {FAULT_ENV: "kill:cache_written"})
    assert killed.returncode == -9
    cache = project.parent / ".evtools" / "cache"
    assert entries(project) == [] and list(cache.glob(".tmp-*")), "the killed build left its temporary file only"
    after = figures(project)
    assert same(after, cold(project, monkeypatch))
    assert len(entries(project)) == 1 and not list(cache.glob(".tmp-*")), "the next build removed the orphan"


def test_a_file_appended_while_an_entry_is_built_keeps_it_out(project, monkeypatch, tmp_path):
    hold = tmp_path / "hold"
    hold.touch()
    env = {**os.environ, "EVTOOLS_NO_PROGRESS": "1", FAULT_ENV: "hold:cache_built", "EVTOOLS_REFRESH_HOLD": str(hold)}
    proc = subprocess.Popen(
        [sys.executable, "-m", "evtools", "quality", "--config", str(project)],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )
    reached = hold.with_name("hold.reached")
    deadline = time.monotonic() + 240
    while not reached.exists():
        assert proc.poll() is None, proc.stderr.read()
        assert time.monotonic() < deadline, "the build never reached the point it holds at"
        time.sleep(0.05)
    files = sorted((project.parent / "fact_events").glob("*.parquet"))
    _write_like(files[0], project.parent / "fact_events" / "ingested_9999-late.parquet",
                "SELECT * REPLACE (ingested_at + INTERVAL 200 DAY AS ingested_at) FROM t")
    hold.unlink()
    assert proc.wait(timeout=240) == 0, proc.stderr.read()
    assert entries(project) == [], "an entry built from the files before the append was published"
    assert same(figures(project), cold(project, monkeypatch))


def test_a_view_replaced_by_the_caller_is_not_cached(project, monkeypatch):
    config = load_config(project)
    con = open_sources(config)
    con.execute("CREATE TEMP TABLE kept AS SELECT * FROM fact_events WHERE company_id <> 1001")
    con.execute("CREATE OR REPLACE TEMP VIEW fact_events AS SELECT * FROM kept")
    partial = quality.analyse(con, config)
    assert entries(project) == []
    assert partial.summary["total_events"] < figures(project)[1]["total_events"]


def test_a_command_on_unchanged_sources_runs_none_of_the_shared_passes(project, tmp_path):
    """The step log (EVTOOLS_STEP_LOG) of quality after reconcile: the passes over every row ran in reconcile only."""
    from evtools.engines import pipeline, steplog

    logs = {}
    for command in ("reconcile", "quality"):
        log = tmp_path / f"{command}.jsonl"
        done = subprocess.run(
            [sys.executable, "-m", "evtools", command, "--config", str(project)],
            env={**os.environ, "EVTOOLS_NO_PROGRESS": "1", steplog.ENV: str(log)},
            capture_output=True,
            text=True,
            timeout=300,
        )
        assert done.returncode == 0, done.stderr
        logs[command] = [r["step"] for r in steplog.read(log)]
    passes = {"repeated_rows", "key_lag", "loads"}
    assert passes <= set(logs["reconcile"]) and set(pipeline.SHARED) - {"version_rows_now"} <= set(logs["reconcile"])
    assert not passes & set(logs["quality"]), logs["quality"]
    assert {"quality_table", "quality_totals"} <= set(logs["quality"])
