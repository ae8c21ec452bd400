"""Profile a query with DuckDB's JSON profiler: where the time goes, what it reads, and what looks wrong.

``profile(con, sql, params)`` runs the query once with ``enable_profiling='json'`` and ``profiling_mode='detailed'``
and returns a ``Profile``: a tidy operator table (preorder, with depth), query totals, and flags, each with its
evidence:

- full_scan: a scan of a table with no filter on ``date`` reads every row;
- no_pruning: a scan has filters but read every row group (the layout does not cluster on the filtered column);
- bad_estimate: an operator's estimated cardinality is off from the actual by more than 10x;
- spill: the query spilled to disk;
- aggregation_dominates: an aggregate operator takes more than half of the operators' time.
"""

from __future__ import annotations

import datetime as dt
import json
import logging
import math
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import duckdb
import pandas as pd

from evtools.core.fsutil import atomic_dir, write_parquet
from evtools.engines.queries import load_sql

log = logging.getLogger(__name__)

AGGREGATES = {"HASH_GROUP_BY", "PERFECT_HASH_GROUP_BY", "UNGROUPED_AGGREGATE", "STREAMING_WINDOW", "WINDOW"}
SCANS = {"TABLE_SCAN", "READ_PARQUET", "PARQUET_SCAN", "READ_CSV", "READ_JSON"}


@dataclass(frozen=True)
class Profile:
    sql: str
    operators: pd.DataFrame
    totals: dict
    flags: list[dict] = field(default_factory=list)

    def has(self, flag: str) -> bool:
        return any(f["flag"] == flag for f in self.flags)

    def write(self, out: Path, figures: dict | None = None) -> list[Path]:
        """profile.json and operators.parquet in ``out``, with each matplotlib figure of ``figures`` (file name:
        figure, e.g. the plan drawn by ``plots.plan_tree``), all published together."""
        figures = figures or {}
        with atomic_dir(out) as tmp:
            (tmp / "profile.json").write_text(
                json.dumps(
                    {"sql": self.sql, "totals": self.totals, "flags": self.flags}, indent=2, default=str
                )
                + "\n"
            )
            write_parquet(self.operators, tmp / "operators.parquet")
            for name, figure in figures.items():
                figure.savefig(tmp / name, dpi=110)
        return [Path(out) / n for n in ("profile.json", "operators.parquet", *figures)]


def profile(con: duckdb.DuckDBPyConnection, sql: str, params: dict[str, Any] | None = None) -> Profile:
    """Run ``sql`` once under the JSON profiler and read what it did: as the job reads on its own, every Parquet
    footer included (the session's footer cache, ``sources.connect``, is off for the run)."""
    cached = con.execute("SELECT current_setting('parquet_metadata_cache')").fetchone()[0]
    with tempfile.TemporaryDirectory() as tmp:
        target = Path(tmp) / "profile.json"
        con.execute("SET parquet_metadata_cache = false")
        con.execute("PRAGMA enable_profiling = 'json'")
        con.execute("SET profiling_mode = 'detailed'")
        con.execute("SET profiling_output = $p", {"p": str(target)})
        try:
            con.execute(sql, params or {}).fetchall()
        finally:
            con.execute("PRAGMA disable_profiling")
            con.execute("SET parquet_metadata_cache = $v", {"v": bool(cached)})
        raw = json.loads(target.read_text())
    return parse(sql, raw)


def parse(sql: str, raw: dict) -> Profile:
    """A Profile from DuckDB's JSON profile output."""
    rows: list[dict] = []
    for root in raw.get("operator", raw.get("children", [])):
        _walk(root, 0, rows)
    ops = pd.DataFrame(rows)
    total_op_time = float(ops["seconds"].sum()) if len(ops) else 0.0
    if len(ops):
        ops["share_of_time"] = ops["seconds"] / total_op_time if total_op_time else 0.0
    q, io, sysm = raw.get("query", {}), raw.get("io", {}), raw.get("system", {})
    scans = ops[ops["is_scan"]] if len(ops) else ops
    totals = {
        "seconds": q.get("total_time"),
        "cpu_seconds": q.get("cpu_time"),
        "bytes_read": io.get("total_bytes_read"),
        "bytes_scanned": q.get("total_bytes_scanned"),
        "rows_scanned": q.get("total_rows_scanned"),
        "row_groups_scanned": q.get("total_row_groups_scanned"),
        "row_groups_total": q.get("total_row_groups_to_scan"),
        "files_read": int(scans["files_read"].fillna(0).sum()) if len(scans) else 0,
        "peak_buffer_memory": sysm.get("peak_buffer_memory"),
        "bytes_spilled": sysm.get("total_bytes_spilled", 0),
        "peak_temp_dir_size": sysm.get("peak_temp_dir_size", 0),
    }
    return Profile(sql, ops, totals, _flags(ops, totals, filters_on(sql, "date")))


def _walk(node: dict, depth: int, rows: list[dict]) -> None:
    info = node.get("extra_info", {}) or {}
    children = node.get("children", [])
    kind = node.get("type", node.get("operator_type", ""))
    name = node.get("name", node.get("operator_name", kind))
    if kind != "RESULT_COLLECTOR":
        estimate = info.get("Estimated Cardinality")
        rows.append(
            {
                "id": len(rows),
                "depth": depth,
                "operator": name,
                "type": kind,
                "seconds": float(node.get("timing", node.get("operator_timing", 0.0)) or 0.0),
                "rows_out": int(node.get("intermediate_rows", node.get("operator_cardinality", 0)) or 0),
                "rows_in": int(
                    sum(c.get("intermediate_rows", c.get("operator_cardinality", 0)) or 0 for c in children)
                ),
                "estimated_rows": float(estimate) if estimate not in (None, "") else math.nan,
                "filters": _text(info.get("Filters")),
                "projections": _text(info.get("Projections")),
                "files_read": float(info["Total Files Read"]) if "Total Files Read" in info else math.nan,
                "row_groups_scanned": node.get("row_groups_scanned"),
                "row_groups_total": node.get("total_row_groups_to_scan"),
                "rows_scanned": node.get("rows_scanned"),
                "bytes_scanned": node.get("bytes_scanned"),
                "is_scan": kind in SCANS or name in SCANS,
                "detail": _text(
                    {k: v for k, v in info.items() if k not in {"Filters", "Projections", "Filename(s)"}}
                ),
            }
        )
        depth += 1
    for child in children:
        _walk(child, depth, rows)


def _int(value: Any) -> int:
    return 0 if value is None or (isinstance(value, float) and math.isnan(value)) else int(value)


def _text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, list):
        return ", ".join(str(v) for v in value)
    if isinstance(value, dict):
        return "; ".join(f"{k}: {_text(v)}" for k, v in value.items())
    return str(value)


def _flags(ops: pd.DataFrame, totals: dict, date_in_query: bool) -> list[dict]:
    flags: list[dict] = []
    if not len(ops):
        return flags
    for op in ops[ops["is_scan"]].itertuples():
        groups = f"{_int(op.row_groups_scanned)} of {_int(op.row_groups_total)} row groups, {_int(op.rows_scanned):,} rows"
        if "date" not in op.filters and not date_in_query:
            flags.append(
                {
                    "flag": "full_scan",
                    "operator": op.id,
                    "evidence": f"{op.operator} has no filter on date and reads {groups}",
                }
            )
        elif op.row_groups_total and op.row_groups_scanned == op.row_groups_total and op.row_groups_total > 1:
            flags.append(
                {
                    "flag": "no_pruning",
                    "operator": op.id,
                    "evidence": f"{op.operator} filters on {op.filters} but still reads {groups}",
                }
            )
    for op in ops.itertuples():
        est, act = op.estimated_rows, op.rows_out
        if not math.isnan(est) and max(est, act) >= 100 and max(est, act) / max(min(est, act), 1) > 10:
            flags.append(
                {
                    "flag": "bad_estimate",
                    "operator": op.id,
                    "evidence": f"{op.operator} estimated {est:,.0f} rows, produced {act:,}",
                }
            )
    if (totals.get("bytes_spilled") or 0) > 0 or (totals.get("peak_temp_dir_size") or 0) > 0:
        flags.append(
            {
                "flag": "spill",
                "operator": None,
                "evidence": f"spilled {totals.get('bytes_spilled') or totals.get('peak_temp_dir_size'):,} bytes to disk",
            }
        )
    agg = ops[ops["type"].isin(AGGREGATES)]
    if len(agg) and agg["share_of_time"].max() > 0.5:
        top = agg.loc[agg["share_of_time"].idxmax()]
        flags.append(
            {
                "flag": "aggregation_dominates",
                "operator": int(top["id"]),
                "evidence": f"{top['operator']} takes {100 * top['share_of_time']:.0f}% of operator time "
                f"({top['rows_in']:,} rows in, {top['rows_out']:,} groups out)",
            }
        )
    return flags


def job_query(con: duckdb.DuckDBPyConnection, window_days: int | None = None) -> tuple[str, dict]:
    """The job's aggregation, or its incremental form over the last ``window_days`` dates, with its parameters."""
    if not window_days:
        return load_sql("job_aggregate"), {}
    return load_sql("job_aggregate_window"), {"since": window_start(con, window_days)}


def window_start(con: duckdb.DuckDBPyConnection, days: int) -> dt.date | None:
    """The first of the last ``days`` dates of fact_events: max(date) - (days - 1)."""
    last = con.execute(load_sql("last_date")).fetchall()[0][0]
    return None if last is None else last - dt.timedelta(days=days - 1)


def filters_on(sql: str, column: str) -> bool:
    """Whether the query's WHERE clauses reference ``column`` (a partition filter is pruned before the scan, so the
    scan's own filters do not show it)."""
    import sqlglot
    from sqlglot import exp

    try:
        tree = sqlglot.parse_one(sql, dialect="duckdb")
    except sqlglot.errors.ParseError:
        return False
    return any(col.name == column for where in tree.find_all(exp.Where) for col in where.find_all(exp.Column))


def pruning_warnings(sql: str, column: str = "date") -> list[str]:
    """Filters that defeat row-group and partition pruning: ``column`` wrapped in a function or cast."""
    import sqlglot
    from sqlglot import exp

    warnings = []
    try:
        tree = sqlglot.parse_one(sql, dialect="duckdb")
    except sqlglot.errors.ParseError as e:
        return [f"could not parse the query to check its filters: {str(e).splitlines()[0]}"]
    for where in tree.find_all(exp.Where):
        for col in where.find_all(exp.Column):
            if col.name != column:
                continue
            parent = col.parent
            while isinstance(parent, exp.Paren):
                parent = parent.parent
            if isinstance(parent, exp.Func | exp.Cast) and not isinstance(parent, exp.Predicate):
                warnings.append(
                    f"the filter wraps {column} in {parent.sql(dialect='duckdb')}: min/max statistics cannot prune; "
                    f"compare the bare column with a constant instead"
                )
    return warnings
