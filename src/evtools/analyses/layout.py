"""Re-lay fact_events as a warehouse would store it, and measure what each query reads before and after.

Layouts:
- before: fact_events as it lies (as ingested);
- sorted: one parquet file sorted by (date, company_id), row groups of 122,880 rows;
- by_date: hive-partitioned by date (one folder per date), each partition sorted by company_id.

Queries: the job's full aggregation, its incremental window (the last ``window_days`` dates), one company on one
date, one company over the last 30 dates. For each layout and query: bytes read (io.total_bytes_read, footers
included), bytes scanned, rows scanned, row groups scanned of total, files read, median latency over ``repeats``
unprofiled runs, peak buffer memory, and the ratio of each to "before". The ideal bytes of a query are the compressed
bytes of the columns it needs, in proportion to the rows it needs (in the by_date layout): what reading exactly the
needed rows would cost.
"""

from __future__ import annotations

import datetime as dt
import json
import statistics
import time
from dataclasses import dataclass, field
from pathlib import Path

import duckdb
import pandas as pd

from evtools.analyses.profiling import profile, window_start
from evtools.core.config import Config
from evtools.core.fsutil import atomic_dir, write_parquet
from evtools.engines.queries import load_sql, quote_ident, run
from evtools.engines.sources import connect, open_sources

QUERIES = {
    "full": ("job_aggregate", ["company_id", "date", "events"]),
    "window": ("job_aggregate_window", ["company_id", "date", "events"]),
    "company_day": ("company_day", ["company_id", "date", "events"]),
    "company_month": ("company_range", ["company_id", "date", "events"]),
}
ROW_GROUP_SIZE = 122_880


@dataclass(frozen=True)
class LayoutResult:
    measurements: pd.DataFrame  # one row per (layout, query)
    summary: dict = field(default_factory=dict)

    def write(self, out: Path) -> list[Path]:
        with atomic_dir(out) as tmp:
            write_parquet(self.measurements, tmp / "scan_volume.parquet")
            self.measurements.to_csv(tmp / "scan_volume.csv", index=False)
            (tmp / "summary.json").write_text(json.dumps(self.summary, indent=2, default=str) + "\n")
        return [Path(out) / n for n in ("scan_volume.parquet", "scan_volume.csv", "summary.json")]


def write_layouts(con: duckdb.DuckDBPyConnection, out: Path) -> dict[str, str]:
    """Write the 'after' layouts of the fact_events registered on ``con`` into ``out``; return name -> glob."""
    out = Path(out)
    with atomic_dir(out) as tmp:
        con.execute(
            "COPY (SELECT * FROM fact_events ORDER BY date, company_id) TO $p (FORMAT parquet, ROW_GROUP_SIZE $g)",
            {"p": str(tmp / "sorted.parquet"), "g": ROW_GROUP_SIZE},
        )
        con.execute(
            "COPY (SELECT * FROM fact_events ORDER BY date, company_id) TO $p "
            "(FORMAT parquet, PARTITION_BY (date), ROW_GROUP_SIZE $g)",
            {"p": str(tmp / "by_date"), "g": ROW_GROUP_SIZE},
        )
    return {"sorted": str(out / "sorted.parquet"), "by_date": str(out / "by_date" / "*" / "*.parquet")}


def _layout_connection(config: Config, files: str | list[str], hive: bool) -> duckdb.DuckDBPyConnection:
    con = connect(config)
    rel = con.read_parquet(files, hive_partitioning=hive)
    rel.create_view("_layout", replace=True)
    cols = [r[0] for r in con.execute("DESCRIBE _layout").fetchall()]
    # a hive partition column comes back as VARCHAR or DATE; the canonical view keeps DATE
    select = ", ".join("CAST(date AS DATE) AS date" if c == "date" else quote_ident(c) for c in cols)
    con.execute(f"CREATE OR REPLACE TEMP VIEW fact_events AS SELECT {select} FROM _layout")
    return con


def measure(config: Config, layouts: dict[str, str], window_days: int = 2, repeats: int = 5) -> LayoutResult:
    """Run the query set on 'before' (the configured fact_events) and on every layout in ``layouts`` (name -> glob):
    ``repeats`` timed runs and one profiled run each."""
    targets = {"before": None} | {name: (glob, name == "by_date") for name, glob in layouts.items()}
    base = open_sources(config, names=("fact_events",), check=False)
    company = base.execute(load_sql("busiest_company")).fetchall()[0][0]
    last = base.execute(load_sql("last_date")).fetchall()[0][0]
    params = {
        "full": {},
        "window": {"since": window_start(base, window_days)},
        "company_day": {"company": company, "day": last},
        "company_month": {"company": company, "since": last - dt.timedelta(days=29)},
    }
    needed = run(
        base,
        "query_rows",
        {
            "window_since": params["window"]["since"],
            "company": company,
            "day": last,
            "month_since": params["company_month"]["since"],
        },
    ).iloc[0]
    rows_needed = {
        "full": needed["all_rows"],
        "window": needed["in_window"],
        "company_day": needed["company_day"],
        "company_month": needed["company_month"],
    }
    ideal_files = _files(base, layouts.get("by_date") or next(iter(layouts.values())))
    col_bytes = run(base, "column_bytes", {"files": ideal_files}).set_index("column_name")["bytes"]
    records = []
    for layout, target in targets.items():
        con = base if target is None else _layout_connection(config, *target)
        for query, (name, columns) in QUERIES.items():
            sql = load_sql(name)
            con.execute(sql, params[query]).fetchall()  # warm the OS cache and DuckDB's metadata cache
            times = []
            for _ in range(repeats):
                start = time.perf_counter()
                con.execute(sql, params[query]).fetchall()
                times.append(time.perf_counter() - start)
            prof = profile(con, sql, params[query])
            ideal = (
                float(col_bytes.reindex(columns).fillna(0).sum())
                * rows_needed[query]
                / max(rows_needed["full"], 1)
            )
            records.append(
                {
                    "layout": layout,
                    "query": query,
                    "median_seconds": statistics.median(times),
                    "bytes_read": prof.totals["bytes_read"],
                    "bytes_scanned": prof.totals["bytes_scanned"],
                    "rows_scanned": prof.totals["rows_scanned"],
                    "row_groups_scanned": prof.totals["row_groups_scanned"],
                    "row_groups_total": prof.totals["row_groups_total"],
                    "files_read": prof.totals["files_read"],
                    "peak_buffer_memory": prof.totals["peak_buffer_memory"],
                    "rows_needed": int(rows_needed[query]),
                    "ideal_bytes": ideal,
                    "flags": ", ".join(f["flag"] for f in prof.flags),
                }
            )
        if con is not base:
            con.close()
    frame = pd.DataFrame(records)
    ref = frame[frame["layout"] == "before"].set_index("query")
    for col in ("bytes_read", "rows_scanned", "median_seconds"):
        frame[f"{col}_vs_before"] = frame[col] / frame["query"].map(ref[col]).clip(lower=1e-12)
    frame["bytes_vs_ideal"] = frame["bytes_read"] / frame["ideal_bytes"].clip(lower=1)
    return LayoutResult(frame, summarise(frame, window_days, company))


def _files(con: duckdb.DuckDBPyConnection, spec: str | list[str]) -> list[str]:
    if isinstance(spec, list):
        return spec
    return [r[0] for r in con.execute("SELECT file FROM glob($g)", {"g": spec}).fetchall()]


def summarise(frame: pd.DataFrame, window_days: int, company) -> dict:
    """The figures the findings quote: full scan before vs the window after, and distance to the ideal."""
    get = frame.set_index(["layout", "query"])
    after = "by_date" if ("by_date", "window") in get.index else "before"
    full_before = float(get.loc[("before", "full"), "bytes_read"])
    window_after = float(get.loc[(after, "window"), "bytes_read"])
    return {
        "window_days": window_days,
        "company": company,
        "after_layout": after,
        "full_bytes_before": full_before,
        "window_bytes_before": float(get.loc[("before", "window"), "bytes_read"]),
        "window_bytes_after": window_after,
        "window_share_after": window_after / full_before if full_before else 0.0,
        "window_to_ideal": window_after / max(float(get.loc[(after, "window"), "ideal_bytes"]), 1.0),
        "full_seconds_before": float(get.loc[("before", "full"), "median_seconds"]),
        "window_seconds_after": float(get.loc[(after, "window"), "median_seconds"]),
        "by_layout": {
            layout: {
                q: {
                    "bytes_read": float(r["bytes_read"]),
                    "median_seconds": float(r["median_seconds"]),
                    "row_groups": f"{r['row_groups_scanned']}/{r['row_groups_total']}",
                    "files_read": int(r["files_read"]),
                }
                for q, r in part.set_index("query").iterrows()
            }
            for layout, part in frame.groupby("layout")
        },
    }


def date_range(con: duckdb.DuckDBPyConnection) -> tuple[str, str]:
    """The first and last date of fact_events, as ISO strings."""
    first, last = con.execute(load_sql("date_range")).fetchall()[0]
    return str(first), str(last)


def relay_and_measure(
    con: duckdb.DuckDBPyConnection,
    config: Config,
    window_days: int = 2,
    repeats: int = 5,
    folder: Path | None = None,
) -> LayoutResult:
    """Write the layouts into ``folder`` (kept) or a temporary folder (removed afterwards) and measure them."""
    import tempfile

    if folder:
        return measure(config, write_layouts(con, Path(folder)), window_days, repeats)
    with tempfile.TemporaryDirectory(prefix="evtools-layout-") as tmp:
        return measure(config, write_layouts(con, Path(tmp)), window_days, repeats)
