"""Run the benchmark cases on a generated data set and write benchmarks/RESULTS.md.

Each case runs in its own child process (so its peak RSS is its own); times are wall-clock seconds and every
figure is also given as a ratio to the ``groupby`` yardstick measured in the same run.

    python benchmarks/run.py --data benchmarks/data/large [--case NAME ...] [--repeat N] [--results FILE]

Without --case every DuckDB case runs; the spark_* cases (Spark local[2] against the same DuckDB cases) run when
named, as ``make bench-spark`` does, into RESULTS-spark.md, and the engines_* cases (DuckDB, PostgreSQL and Spark on
one set, ``engine_cases.py``) as ``make bench-engines`` does, into RESULTS-engines.md.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import platform
import resource
import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
sys.path.insert(1, str(HERE.parent))  # the repository: tests.pgserver starts the PostgreSQL server

import engine_cases  # noqa: E402  (registers the engines_* cases)
from cases import CASES  # noqa: E402

OPT_IN = ("spark_", "engines_")  # cases that run only when named
EVICTING = {"quality_pandas"}  # cases whose memory (13 GB) evicts the data from the page cache: they run last


def child(name: str, config: Path) -> None:
    start = time.perf_counter()
    extra = CASES[name][1](config)
    seconds = time.perf_counter() - start
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(json.dumps({"case": name, "seconds": seconds, "peak_rss_mb": peak_mb, "extra": extra}, default=str))


def measure(name: str, config: Path, repeat: int) -> dict:
    runs = []
    for _ in range(repeat):
        proc = subprocess.run(
            [sys.executable, __file__, "--child", name, "--data", str(config.parent)],
            capture_output=True,
            text=True,
            env={**os.environ, "EVTOOLS_NO_PROGRESS": "1"},
        )
        if proc.returncode != 0:
            raise SystemExit(f"case {name} failed:\n{proc.stderr[-4000:]}")
        runs.append(json.loads(proc.stdout.strip().splitlines()[-1]))
    best = min(runs, key=lambda r: r["seconds"])
    best["peak_rss_mb"] = max(r["peak_rss_mb"] for r in runs)
    best["runs"] = [round(r["seconds"], 3) for r in runs]
    return best


def rows_of(config: Path) -> int:
    meta = json.loads((config.parent / "sample.json").read_text())
    return int(meta["fact_rows"])


# The issues' targets, checked on each run: (case, what, check(results by case) -> (figure, met)).
TARGETS = [
    (
        "quality",
        "time <= 3x groupby, peak RSS <= 1 GB",
        lambda r: (
            f"{r['quality']['seconds'] / r['groupby']['seconds']:.1f}x, {r['quality']['peak_rss_mb']:.0f} MB",
            r["quality"]["seconds"] <= 3 * r["groupby"]["seconds"] and r["quality"]["peak_rss_mb"] <= 1024,
        ),
    ),
    (
        "quality_pandas",
        ">= 10x faster than pandas, same numbers",
        lambda r: (
            f"{r['quality_pandas']['seconds'] / r['quality']['seconds']:.1f}x, numbers "
            f"{'equal' if all(r['quality']['extra'][k] == v for k, v in r['quality_pandas']['extra'].items()) else 'DIFFER'}",
            r["quality_pandas"]["seconds"] >= 10 * r["quality"]["seconds"],
        ),
    ),
    (
        "reconcile",
        "time <= 5x groupby, peak RSS <= 2 GB",
        lambda r: (
            f"{r['reconcile']['seconds'] / r['groupby']['seconds']:.1f}x, {r['reconcile']['peak_rss_mb']:.0f} MB",
            r["reconcile"]["seconds"] <= 5 * r["groupby"]["seconds"]
            and r["reconcile"]["peak_rss_mb"] <= 2048,
        ),
    ),
    (
        "layout",
        "2-day window reads <= 1% of the full job's bytes (before) and <= 1.5x the ideal",
        lambda r: (
            f"{100 * r['layout']['extra']['window_share_of_full']:.2f}%, {r['layout']['extra']['window_to_ideal']}x",
            r["layout"]["extra"]["window_share_of_full"] <= 0.01
            and r["layout"]["extra"]["window_to_ideal"] <= 1.5,
        ),
    ),
    (
        "profile_overhead",
        "profiling costs < 10%",
        lambda r: (
            f"{100 * r['profile_overhead']['extra']['overhead']:.1f}%",
            r["profile_overhead"]["extra"]["overhead"] < 0.1,
        ),
    ),
    (
        "refresh_full",
        "full rebuild <= 3x groupby, peak RSS <= 1 GB",
        lambda r: (
            f"{r['refresh_full']['seconds'] / r['groupby']['seconds']:.1f}x, {r['refresh_full']['peak_rss_mb']:.0f} MB",
            r["refresh_full"]["seconds"] <= 3 * r["groupby"]["seconds"]
            and r["refresh_full"]["peak_rss_mb"] <= 1024,
        ),
    ),
    *[
        (
            f"spark_{name}",
            "Spark local[2] against DuckDB on this machine: time ratio; the figures must be equal",
            lambda r, name=name, key=key: _spark_vs_duckdb(r, name, key),
        )
        for name, key in (
            ("quality", None),
            ("reconcile", None),
            ("refresh_full", None),
            ("refresh_daily", "run_s"),
        )
    ],
    *[
        (
            f"engines_{engine}",
            "quality, reconcile, refresh full and daily: every key's figures equal DuckDB's on the same set",
            lambda r, engine=engine: engine_cases.all_equal(r, engine),
        )
        for engine in ("postgres", "spark")
    ],
    (
        "validate_all",
        "validate --all <= 10x groupby, peak RSS <= 1 GB",
        lambda r: (
            f"{r['validate_all']['seconds'] / r['groupby']['seconds']:.1f}x, {r['validate_all']['peak_rss_mb']:.0f} MB",
            r["validate_all"]["seconds"] <= 10 * r["groupby"]["seconds"] and r["validate_all"]["peak_rss_mb"] <= 1024,
        ),
    ),
    (
        "runs_100k",
        "evtools runs reads and analyses a 100,000-run log in under 10 s",
        lambda r: (f"{r['runs_100k']['extra']['run_s']:.2f} s", r["runs_100k"]["extra"]["run_s"] < 10),
    ),
    (
        "refresh_history",
        "time-ordered ids: the daily run on 50M rows of history within 1.5x of its time on 5M (in-run and process)",
        lambda r: (
            f"{r['refresh_history']['extra']['ordered_run_ratio_50M_to_5M']}x in-run, "
            f"{r['refresh_history']['extra']['ordered_process_ratio_50M_to_5M']}x process",
            r["refresh_history"]["extra"]["ordered_run_ratio_50M_to_5M"] <= 1.5
            and r["refresh_history"]["extra"]["ordered_process_ratio_50M_to_5M"] <= 1.5,
        ),
    ),
    (
        "dbt_peer",
        "refresh --full no slower than the dbt-duckdb incremental model's full build, peak RSS <= 1 GB",
        lambda r: (
            f"{r['refresh_full']['seconds']:.1f} s vs {r['dbt_peer']['extra']['full_s']:.1f} s, "
            f"{r['refresh_full']['peak_rss_mb']:.0f} MB vs {r['dbt_peer']['extra']['full_rss_mb']} MB",
            r["refresh_full"]["seconds"] <= r["dbt_peer"]["extra"]["full_s"]
            and r["refresh_full"]["peak_rss_mb"] <= 1024,
        ),
    ),
    (
        "refresh_daily",
        "a daily refresh >= 100x faster than the full rebuild (refresh calls; the runs' own in brackets), equal to a "
        "full rebuild, with random ids (refresh_full, refresh_daily) and time-ordered ids (refresh_ordered)",
        lambda r: _daily_ratios(r),
    ),
]


def _daily_ratios(r: dict) -> tuple[str, bool]:
    full, daily = r["refresh_full"], r["refresh_daily"]["extra"]
    # the refresh calls' times (a result written before refresh_full recorded full_s: the case's time)
    kinds = {"random ids": (full["extra"].get("full_s", full["seconds"]), full["extra"].get("in_run_s"), daily)}
    if "refresh_ordered" in r:
        o = r["refresh_ordered"]["extra"]
        kinds["time-ordered ids"] = (o["full_s"], o["full_in_run_s"], o)
    text, met = [], True
    for kind, (full_s, full_in, d) in kinds.items():
        ratio = full_s / d["run_s"]
        inner = f" ({full_in / d['in_run_s']:.0f}x)" if full_in else ""
        text.append(f"{kind} {ratio:.0f}x{inner}, {'equal' if d['exact'] else 'DIFFERS'}")
        met = met and ratio >= 100 and d["exact"]
    return "; ".join(text), met


def _spark_vs_duckdb(r: dict, name: str, key: str | None) -> tuple[str, bool]:
    """Spark's time over DuckDB's for case ``name`` (``key``: a timed figure of the case instead of its seconds)."""
    spark, duck = r["spark_" + name], r[name]
    ratio = (spark["extra"][key] / duck["extra"][key]) if key else spark["seconds"] / duck["seconds"]
    same = _same(r, name)
    return f"{ratio:.1f}x DuckDB's time, figures {'equal' if same else 'DIFFER'}", same


def _same(r: dict, name: str) -> bool:
    """The Spark case's figures equal the DuckDB case's (those both record)."""
    spark, duck = r["spark_" + name]["extra"], r[name]["extra"]
    common = (set(spark) & set(duck)) - {"run_s"}
    return bool(common) and all(spark[k] == duck[k] for k in common)


def cpu_times() -> list[int]:
    """The machine's CPU time counters (/proc/stat's cpu line: user, nice, system, idle, iowait, irq, softirq, steal,
    ...), or [] where there is none."""
    try:
        return [int(v) for v in Path("/proc/stat").read_text().splitlines()[0].split()[1:]]
    except (OSError, ValueError, IndexError):
        return []


def steal_share(before: list[int], after: list[int]) -> float | None:
    """The share of the CPU time between two ``cpu_times`` that the hypervisor gave to other guests (steal)."""
    if len(before) < 8 or len(after) < 8:
        return None
    spent = [b - a for a, b in zip(before, after, strict=False)]
    return spent[7] / sum(spent[:8]) if sum(spent[:8]) else None


def write_results(
    results: list[dict],
    config: Path,
    out: Path,
    sections: list[str] = (),
    load: float | None = None,
    steal: float | None = None,
) -> None:
    base = next(r for r in results if r["case"] == "groupby")["seconds"]
    lines = [
        "# Benchmark results",
        "",
        f"- date: {dt.datetime.now(dt.UTC):%Y-%m-%d %H:%M} UTC",
        f"- machine: {platform.machine()}, {os.cpu_count()} cores, "
        f"{os.sysconf('SC_PAGE_SIZE') * os.sysconf('SC_PHYS_PAGES') / 2**30:.0f} GiB, Python {platform.python_version()}"
        + (f"; load average {load:.1f} when the run started (other processes share the cores)" if load else "")
        + (f"; CPU steal {steal:.0%} during the run (time the host gave other guests)" if steal else ""),
        f"- data: {config.parent} ({rows_of(config):,} fact_events rows)",
        "- time: best of the runs, wall-clock; ratio: time / the groupby yardstick's time in this run",
        "- peak RSS: the case's own process, including the Python interpreter and imports; the Spark cases' driver JVM"
        " is a separate process, its peak is the figure jvm_peak_mb",
        "",
        "| case | what | seconds | x groupby | peak RSS MB | figures |",
        "|---|---|---:|---:|---:|---|",
    ]
    for r in results:
        extra = ", ".join(f"{k}={v}" for k, v in r["extra"].items())
        lines.append(
            f"| {r['case']} | {CASES[r['case']][0]} | {r['seconds']:.2f} | {r['seconds'] / base:.2f} | "
            f"{r['peak_rss_mb']:.0f} | {extra} |"
        )
    by_case = {r["case"]: r for r in results}
    targets = []
    for name, what, check in TARGETS:
        try:
            figure, met = check(by_case)
        except KeyError:
            continue
        targets.append(f"| {name} | {what} | {figure} | {'yes' if met else 'no'} |")
    if targets:
        lines += ["", "## Targets", "", "| case | target | measured | met |", "|---|---|---|---|", *targets]
    lines += sections
    out.write_text("\n".join(lines) + "\n")


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument(
        "--data", type=Path, required=True, help="folder of a generated sample (with evtools.toml)"
    )
    parser.add_argument(
        "--case", action="append", choices=sorted(CASES), help="run only these (groupby always runs)"
    )
    parser.add_argument("--repeat", type=int, default=3, help="runs per case; the best time is kept")
    parser.add_argument("--child", help=argparse.SUPPRESS)
    parser.add_argument("--results", type=Path, default=HERE / "RESULTS.md")
    args = parser.parse_args()
    config = args.data / "evtools.toml"
    if args.child:
        child(args.child, config)
        return
    default = [n for n in CASES if not n.startswith(OPT_IN)]  # make bench-spark, make bench-engines
    names = ["groupby"] + [n for n in (args.case or default) if n != "groupby"]
    names.sort(key=lambda n: n in EVICTING)  # after the others, which would otherwise read cold files
    load = os.getloadavg()[0]
    times = cpu_times()
    results = []
    for name in names:
        r = measure(name, config, args.repeat)
        print(f"{name:28s} {r['seconds']:8.2f} s  {r['peak_rss_mb']:7.0f} MB  {r['extra']}", flush=True)
        results.append(r)
    sections = engine_cases.section({r["case"]: r for r in results})
    print("\n".join(sections))
    write_results(results, config, args.results, sections, load, steal_share(times, cpu_times()))
    print(f"wrote {args.results}")


if __name__ == "__main__":
    main()
