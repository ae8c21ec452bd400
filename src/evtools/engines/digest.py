"""The shared step's results kept beside the config, keyed by the state of the sources they were computed from.

Every analysis starts from the same few tables (``pipeline.prepare``): the rows of repeated event ids, the per-key
figures, the arrival-lag histogram and the loads. They cost a pass over all of fact_events; computed once, they
are written to ``.evtools/cache/<key>.duckdb`` beside the config and the next command (or the next notebook of the
same report) reads them instead.

The key is a hash of everything the tables depend on:
- the sources' fingerprints: for a source read from files, each file's path, size, inode, modification time (ns)
  and a hash of its last 64 KiB; for a table in a DuckDB file, that file's; the config's location and column
  mapping of each source;
- the settings the steps read (``dashboard_computed_offset_hours``), the steps' names and their SQL text.
A source evtools cannot fingerprint (a table of Spark's catalog or of a SQL database) is never cached.

Safety: an entry is published whole or not at all (built under a temporary name, renamed when complete), and only
when the fingerprints taken before and after the build are equal, so rows appended or rewritten while it was built
never enter the cache; a build killed halfway leaves only its temporary file, removed by the next publish. A
changed source gives a new key, so it is never answered from an old entry; entries but the newest ``KEEP`` are
removed.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import logging
import os
from pathlib import Path
from typing import Any

import duckdb

from evtools.core.config import Config
from evtools.core.fsutil import process_alive
from evtools.engines import pipeline
from evtools.engines.base import DuckDBEngine
from evtools.engines.faults import fault
from evtools.engines.sqlfiles import load_sql, quote_ident

log = logging.getLogger(__name__)

KEEP = 2  # cache entries kept per config (the newest): about a third of fact_events' parquet size each
SUFFIX = ".duckdb"
ALIAS = "_evtools_cache"
OFF_ENV = "EVTOOLS_NO_CACHE"  # set (to anything): neither read nor write the cache


def run_shared(con: Any, config: Config, steps: list[str], params: dict[str, Any], sources: tuple[str, ...]) -> str:
    """Run ``steps`` (``pipeline.prepare``'s) on ``con``; their ``pipeline.SHARED`` part is read from the cache when
    an entry for the sources' present state exists, else computed and published. Returns what happened: "hit",
    "built" (computed and cached), or "computed" (not cacheable: another engine, a source replaced or not
    fingerprintable, or the cache turned off)."""
    shared = [s for s in steps if s in pipeline.SHARED]
    setup = [s for s in steps if s not in pipeline.SHARED]
    key = _cacheable_key(con, config, steps, params, sources) if shared else None
    if key is None:
        pipeline.run(con, steps, params)
        return "computed"
    pipeline.run(con, setup, params)
    entry = lookup(config, key[0])
    kept = attach(con, entry, sorted(pipeline.made(shared, frozenset()))) if entry is not None else None
    if kept is not None:
        # the steps making only views (over the kept tables) run again: they cost nothing
        rest = [s for s in shared if not pipeline.step(s).makes <= kept]
        pipeline.run(con, rest, params, given=pipeline.made(setup) | kept)
        log.info("shared tables read from the cache %s", entry.name)
        return "hit"
    pipeline.run(con, shared, params, given=pipeline.made(setup))
    tables = [t for t in sorted(pipeline.made(shared, frozenset())) if _is_table(con, t)]
    published = publish(con, config, key[0], key[1], sources, tables)
    return "built" if published else "computed"


def _is_table(con: duckdb.DuckDBPyConnection, name: str) -> bool:
    return bool(
        con.execute("SELECT 1 FROM duckdb_tables() WHERE table_name = $n AND temporary", {"n": name}).fetchall()
    )


def _cacheable_key(con: Any, config: Config, steps, params, sources) -> tuple[str, dict] | None:
    """The cache key when ``con`` is a DuckDB connection whose source views are still the ones ``register``
    defined from ``config``'s locations; else None."""
    from evtools.engines.sources import registered_from  # DuckDB's source views

    if not isinstance(con, duckdb.DuckDBPyConnection):
        return None
    for name in sources:
        if registered_from(con, name) != config.source(name).location:
            return None
    return key_of(config, sources, steps, params)


def cache_root(config: Config) -> Path:
    """Where a config's cache entries live: ``.evtools/cache`` beside the config."""
    return config.root / ".evtools" / "cache"


def fingerprint(config: Config, names: tuple[str, ...]) -> dict | None:
    """What the named sources' data is now (files, sizes, modification times), or None when one of them cannot be
    fingerprinted (a table of an engine's catalog)."""
    from evtools.engines.sources import data_files  # DuckDB's reading of locations

    out = {}
    for name in names:
        if name not in config.sources:
            out[name] = None
            continue
        source = config.source(name)
        if source.catalog is not None:
            return None
        if source.is_duckdb:
            files = [str(source.path)]
        else:
            try:
                files = data_files(source)[0]
            except Exception:  # noqa: BLE001  (a missing file: the sources' own check reports it)
                return None
        stats = []
        for f in files:
            try:
                stats.append(_file_print(f))
            except OSError:
                return None
        out[name] = {
            "location": source.location,
            "table": source.table,
            "columns": dict(source.columns),
            "files": stats,
        }
    return out


TAIL = 65536  # bytes of a file's end hashed into its fingerprint (a parquet file's footer: its row groups' stats)


def _file_print(path: str) -> tuple:
    """A file's path, size, inode, modification time (ns) and a hash of its last ``TAIL`` bytes: a rewrite within the
    file system's clock tick, keeping the size, still changes the footer of a parquet file (its statistics)."""
    st = os.stat(path)
    with open(path, "rb") as f:
        f.seek(max(0, st.st_size - TAIL))
        tail = hashlib.sha256(f.read(TAIL)).hexdigest()[:16]
    return (path, st.st_size, st.st_ino, st.st_mtime_ns, tail)


def key_of(config: Config, names: tuple[str, ...], steps: list[str], params: dict[str, Any]) -> tuple[str, dict] | None:
    """The cache key of ``steps`` run with ``params`` on the named sources now, with what it hashes; None when the
    sources cannot be fingerprinted or the cache is off."""
    if os.environ.get(OFF_ENV):
        return None
    prints = fingerprint(config, names)
    if prints is None:
        return None
    from evtools import __version__

    basis = {
        "version": __version__,
        "sources": prints,
        "params": {k: str(v) for k, v in sorted(params.items())},
        "steps": {s: hashlib.sha256(load_sql(s).encode()).hexdigest() for s in steps},
    }
    digest = hashlib.sha256(json.dumps(basis, sort_keys=True, default=str).encode()).hexdigest()[:24]
    return digest, basis


def lookup(config: Config, key: str) -> Path | None:
    """The complete entry of ``key``, or None."""
    path = cache_root(config) / f"{key}{SUFFIX}"
    return path if path.is_file() else None


def attach(con: duckdb.DuckDBPyConnection, path: Path, tables: list[str]) -> frozenset[str] | None:
    """Attach a cache entry read-only and define each of ``tables`` it holds as a view over it; the names defined,
    or None when the entry cannot be read (then nothing is defined and the caller builds)."""
    detach(con)
    try:
        con.execute(f"ATTACH $p AS {ALIAS} (READ_ONLY)", {"p": str(path)})
        held = {r[0] for r in con.execute("SELECT table_name FROM duckdb_tables() WHERE database_name = $d",
                                          {"d": ALIAS}).fetchall()}
        kept = [t for t in tables if t in held]
        for t in kept:
            DuckDBEngine(con).drop(t)
            con.execute(f"CREATE TEMP VIEW {quote_ident(t)} AS SELECT * FROM {ALIAS}.{quote_ident(t)}")
    except duckdb.Error as e:
        log.warning("the cache entry %s cannot be read (%s); computing from the sources", path, str(e).splitlines()[0])
        detach(con)
        return None
    return frozenset(kept)


def detach(con: duckdb.DuckDBPyConnection) -> None:
    with contextlib.suppress(duckdb.Error):
        con.execute(f"DETACH DATABASE IF EXISTS {ALIAS}")


def publish(
    con: duckdb.DuckDBPyConnection, config: Config, key: str, basis: dict, names: tuple[str, ...], tables: list[str]
) -> Path | None:
    """Write ``tables`` (temporary tables on ``con``) as the entry of ``key``, whole or not at all, when the sources'
    fingerprints still equal ``basis``'s; the entry's path, or None when it was not written."""
    fault("cache_built")  # the test seam: hold here while a test changes a source
    if fingerprint(config, names) != basis["sources"]:
        log.info("a source changed while its cache entry was built; not cached")
        return None
    root = cache_root(config)
    root.mkdir(parents=True, exist_ok=True)
    _remove_orphans(root)
    final = root / f"{key}{SUFFIX}"
    tmp = root / f".tmp-{os.getpid()}-{key}{SUFFIX}"
    tmp.unlink(missing_ok=True)
    alias = "_evtools_cache_new"
    try:
        con.execute(f"ATTACH $p AS {alias}", {"p": str(tmp)})
        try:
            for t in tables:
                con.execute(f"CREATE TABLE {alias}.{quote_ident(t)} AS SELECT * FROM {quote_ident(t)}")
            con.execute(
                f"CREATE TABLE {alias}.evtools_cache AS SELECT $basis AS basis",
                {"basis": json.dumps(basis, default=str)},
            )
        finally:
            con.execute(f"DETACH DATABASE {alias}")
        fault("cache_written")  # the test seam: a build killed here leaves only its temporary file
        if fingerprint(config, names) != basis["sources"]:
            log.info("a source changed while its cache entry was written; not cached")
            tmp.unlink(missing_ok=True)
            return None
        os.replace(tmp, final)
    except (duckdb.Error, OSError) as e:
        log.warning("the cache entry could not be written (%s); the results are not affected", str(e).splitlines()[0])
        tmp.unlink(missing_ok=True)
        return None
    _keep_newest(root)
    return final


def _remove_orphans(root: Path) -> None:
    """Temporary entries of processes that are gone (killed during a build)."""
    for tmp in root.glob(f".tmp-*{SUFFIX}*"):
        pid = tmp.name.split("-")[1]
        if pid.isdigit() and not process_alive(int(pid)):
            tmp.unlink(missing_ok=True)


def _keep_newest(root: Path) -> None:
    entries = [p for p in root.glob(f"*{SUFFIX}") if not p.name.startswith(".")]  # not others' temporary files
    entries.sort(key=lambda p: p.stat().st_mtime_ns, reverse=True)
    for old in entries[KEEP:]:
        with contextlib.suppress(OSError):
            old.unlink()

