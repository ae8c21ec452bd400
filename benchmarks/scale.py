"""What an investigation costs against the job it investigates, as whole processes, at one or more sizes.

The yardstick is the job itself: a fresh Python process running its query with DuckDB's defaults,
``SELECT company_id, date, SUM(events) FROM fact_events GROUP BY company_id, date``, written to a parquet file. Every
evtools command runs as the user runs it (``evtools COMMAND --config ...`` in its own process), so interpreter
start, imports, reading the sources, writing the outputs and the shared cache's build are all counted. Each
figure is the best of ``--repeat`` runs, paired with the job's best in the same run; peak RSS is the command's own
process (``wait4``'s ru_maxrss).

    python benchmarks/scale.py --data benchmarks/data/large [--data benchmarks/data/xl] [--repeat 2]
    python benchmarks/scale.py --data benchmarks/data/large --breakdown   # where each command's time goes

Cases (a cold cache before each run unless said):
- quality, reconcile, refresh_full (``refresh --full``), validate_all (``validate --all``)
- second: ``quality`` right after ``reconcile`` on unchanged sources (the cache warm; the second command's time)
- investigation: ``report investigation`` end to end (every notebook rendered to HTML)

``--breakdown`` runs each command once (a whole process, cold cache) with DuckDB's profiler on each SQL step
(``EVTOOLS_STEP_LOG``) and prints per step its seconds, share of the command, rows and bytes read, peak buffer
memory and bytes spilled to disk; into RESULTS-scale-breakdown.md.
Writes benchmarks/RESULTS-scale.md (``--results``).
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import platform
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
BIN = Path(sys.executable).parent
EVTOOLS = str(BIN / "evtools")
WORK = HERE / "work" / "scale"
STEP_LOG = "EVTOOLS_STEP_LOG"  # evtools.engines.steplog: each SQL step of a command, profiled

JOB = """
import sys, duckdb
con = duckdb.connect()
con.execute(
    "COPY (SELECT company_id, date, SUM(events) AS events FROM read_parquet($files) GROUP BY company_id, date) "
    "TO '" + sys.argv[2].replace("'", "''") + "' (FORMAT parquet)",
    {"files": sys.argv[1]},
)
"""

# the targets of the cost-at-scale work: case -> largest ratio to the job
TARGETS = {"quality": 3, "reconcile": 4, "refresh_full": 3, "validate_all": 6, "second": 1.5, "investigation": 8}
MEMORY_MB = 1024
LINEAR = 1.25  # a ratio on twice the rows within this factor of its ratio on the smaller set


def process(argv: list[str], cwd: Path | None = None) -> dict:
    """Run ``argv`` as its own process: wall seconds and peak RSS (MB); raise with its stderr when it fails."""
    env = {**os.environ, "EVTOOLS_NO_PROGRESS": "1"}
    with tempfile.TemporaryFile() as err:
        start = time.perf_counter()
        proc = subprocess.Popen(argv, stdout=subprocess.DEVNULL, stderr=err, env=env, cwd=cwd)
        _, status, usage = os.wait4(proc.pid, 0)
        seconds = time.perf_counter() - start
        proc.returncode = os.waitstatus_to_exitcode(status)
        if proc.returncode not in (0, 1):  # 1: validate found failed expectations, as it does on this data
            err.seek(0)
            raise SystemExit(f"{' '.join(argv)} failed ({proc.returncode}): {err.read().decode()[-2000:]}")
    return {"seconds": seconds, "peak_rss_mb": usage.ru_maxrss / 1024, "exit": proc.returncode}


def fact_glob(config: Path) -> str:
    from evtools.core.config import load_config

    return str(load_config(config).source("fact_events").path)


def clear_cache(config: Path) -> None:
    from evtools.core.config import load_config
    from evtools.engines import digest

    shutil.rmtree(digest.cache_root(load_config(config)), ignore_errors=True)


def rows_of(config: Path) -> int:
    return int(json.loads((config.parent / "sample.json").read_text())["fact_rows"])


def commands(config: Path, out: Path) -> dict[str, list[list[str]]]:
    """Each case's processes in order (the last one is timed; the ones before it prepare it)."""
    c = ["--config", str(config)]
    ev = [EVTOOLS, "--no-progress"]
    db = out / "agg.duckdb"
    return {
        "quality": [ev + ["quality", *c, "--out", str(out / "quality")]],
        "reconcile": [ev + ["reconcile", *c, "--out", str(out / "reconcile")]],
        "refresh_full": [ev + ["refresh", *c, "--db", str(db), "--full"]],
        "validate_all": [ev + ["validate", *c, "--all", "--out", str(out / "validation")]],
        "second": [
            ev + ["reconcile", *c, "--out", str(out / "reconcile")],
            ev + ["quality", *c, "--out", str(out / "quality")],
        ],
        "investigation": [ev + ["report", "investigation", *c, "--out", str(out / "reports")]],
    }


def job(config: Path, out: Path) -> list[str]:
    return [sys.executable, "-c", JOB, fact_glob(config), str(out / "job.parquet")]


def measure_set(config: Path, cases: list[str], repeat: int) -> dict:
    """The job and each case on one set: best seconds, the job's best of the same runs, peak RSS."""
    results: dict[str, dict] = {}
    for name in cases:
        best, job_best = None, None
        for _ in range(repeat):
            with tempfile.TemporaryDirectory(dir=WORK) as tmp:
                out = Path(tmp)
                j = process(job(config, out))
                clear_cache(config)
                steps = commands(config, out)[name]
                try:
                    for argv in steps[:-1]:
                        process(argv)
                    r = process(steps[-1])
                except SystemExit as e:  # a command that fails is a result too: recorded, the run goes on
                    print(f"{config.parent.name:10s} {name:14s} FAILED: {str(e)[-300:]}", flush=True)
                    r = {"seconds": float("nan"), "peak_rss_mb": float("nan"), "failed": str(e)[-300:]}
                summary = out / "quality" / "summary.json"
                if summary.exists():  # quality's figures, cold (case quality) and from the cache (case second)
                    r["figures"] = json.loads(summary.read_text())
            best = r if best is None or r["seconds"] < best["seconds"] else best
            job_best = j if job_best is None or j["seconds"] < job_best["seconds"] else job_best
            best["peak_rss_mb"] = max(best["peak_rss_mb"], r["peak_rss_mb"])
        results[name] = {**best, "job_s": job_best["seconds"], "ratio": best["seconds"] / job_best["seconds"]}
        print(
            f"{config.parent.name:10s} {name:14s} {best['seconds']:7.2f} s  {results[name]['ratio']:5.2f}x job "
            f"({job_best['seconds']:.2f} s)  {best['peak_rss_mb']:6.0f} MB",
            flush=True,
        )
    clear_cache(config)
    if "quality" in results and "second" in results:
        equal = results["quality"].get("figures") == results["second"].get("figures")
        results["second"]["equal_to_cold"] = equal
        print(f"{config.parent.name:10s} quality read from the cache equals quality computed cold: {equal}")
    return results


def breakdown(config: Path) -> list[str]:
    """Per command (a whole process, cold cache), per SQL step: seconds, share, rows and bytes read, peak buffer
    memory, bytes spilled; what is left of the process's time is start-up, Python and the steps not logged."""
    lines = []
    for name, steps in commands(config, WORK / "breakdown").items():
        if name in ("second", "investigation"):
            continue
        clear_cache(config)
        shutil.rmtree(WORK / "breakdown", ignore_errors=True)
        log = WORK / "steps.jsonl"
        log.unlink(missing_ok=True)
        os.environ[STEP_LOG] = str(log)
        try:
            whole = process(steps[-1])
        finally:
            del os.environ[STEP_LOG]
        records = [json.loads(line) for line in log.read_text().splitlines()] if log.exists() else []
        total = whole["seconds"]
        table_lines = [
            f"### {name}: {total:.2f} s, {whole['peak_rss_mb']:.0f} MB peak RSS (the whole process)",
            "",
            "| step | seconds | share | rows scanned | MB read | peak buffer MB | MB spilled |",
            "|---|---:|---:|---:|---:|---:|---:|",
        ]
        for s in sorted(records, key=lambda r: -r["seconds"]):
            if s["seconds"] < 0.01:
                continue
            table_lines.append(
                f"| {s['step']} | {s['seconds']:.2f} | {s['seconds'] / total:.0%} | {s['rows_scanned']:,} | "
                f"{s['bytes_read'] / 1e6:.0f} | {s['peak_buffer_bytes'] / 1e6:.0f} | {s['spilled_bytes'] / 1e6:.0f} |"
            )
        rest = total - sum(r["seconds"] for r in records)
        table_lines += [f"| (start-up, Python, unlogged) | {rest:.2f} | {rest / total:.0%} | | | | |", ""]
        print("\n".join(table_lines), flush=True)
        lines += table_lines
    clear_cache(config)
    return lines


def table(by_set: dict[str, dict]) -> list[str]:
    names = list(by_set)
    lines = [
        "| case | target | " + " | ".join(f"{n} s | {n} x job | {n} MB" for n in names) + " |",
        "|---|---|" + "---:|---:|---:|" * len(names),
    ]
    cases = list(next(iter(by_set.values())))
    for case in cases:
        cells = []
        for n in names:
            r = by_set[n][case]
            cells.append(f"{r['seconds']:.2f} | {r['ratio']:.2f} | {r['peak_rss_mb']:.0f}")
        target = f"<= {TARGETS[case]}x, <= {MEMORY_MB} MB" if case in TARGETS else ""
        lines.append(f"| {case} | {target} | " + " | ".join(cells) + " |")
    lines.append("| job | the yardstick | " + " | ".join(
        f"{min(r['job_s'] for r in by_set[n].values()):.2f} | 1.00 | " for n in names
    ) + " |")
    return lines


def verdicts(by_set: dict[str, dict]) -> list[str]:
    lines = ["| check | measured | met |", "|---|---|---|"]
    first = next(iter(by_set))
    for case, limit in TARGETS.items():
        for n, results in by_set.items():
            if case in results:
                r = results[case]
                met = r["ratio"] <= limit and r["peak_rss_mb"] <= MEMORY_MB
                lines.append(f"| {case} on {n}: <= {limit}x, <= {MEMORY_MB} MB | {r['ratio']:.2f}x, "
                             f"{r['peak_rss_mb']:.0f} MB | {'yes' if met else 'no'} |")
    for n, results in by_set.items():
        if "equal_to_cold" in results.get("second", {}):
            equal = results["second"]["equal_to_cold"]
            lines.append(f"| quality from the cache on {n}: every figure of summary.json equals the cold run's | "
                         f"{'equal' if equal else 'DIFFERENT'} | {'yes' if equal else 'no'} |")
    for n, results in list(by_set.items())[1:]:
        for case, r in results.items():
            base = by_set[first].get(case)
            if base and case not in ("second", "investigation"):
                growth = r["ratio"] / base["ratio"]
                lines.append(f"| {case}: ratio on {n} within {LINEAR}x of {first} | {growth:.2f}x | "
                             f"{'yes' if growth <= LINEAR else 'no'} |")
    return lines


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--data", type=Path, action="append", required=True, help="a generated set (repeatable)")
    parser.add_argument("--case", action="append", choices=sorted(TARGETS), help="only these cases")
    parser.add_argument("--repeat", type=int, default=2, help="runs per case; the best is kept")
    parser.add_argument("--breakdown", action="store_true", help="where each command's time goes, per SQL step")
    parser.add_argument("--results", type=Path, default=HERE / "RESULTS-scale.md")
    args = parser.parse_args()
    WORK.mkdir(parents=True, exist_ok=True)
    configs = [d / "evtools.toml" for d in args.data]
    if args.breakdown:
        lines = []
        for config in configs:
            lines += [f"## {config.parent.name}: {rows_of(config):,} rows", "", *breakdown(config)]
        out = args.results.with_name(args.results.stem + "-breakdown.md")
        out.write_text("# Where the time goes\n\n" + "\n".join(lines) + "\n")
        print(f"wrote {out}")
        return
    cases = args.case or list(TARGETS)
    load = os.getloadavg()[0]
    by_set = {f"{c.parent.name} ({rows_of(c) / 1e6:.1f}M)": measure_set(c, cases, args.repeat) for c in configs}
    lines = [
        "# The investigation's cost against the job, by size",
        "",
        f"- date: {dt.datetime.now(dt.UTC):%Y-%m-%d %H:%M} UTC; machine: {platform.machine()}, {os.cpu_count()} cores, "
        f"Python {platform.python_version()}; load average {load:.1f} when the run started",
        "- every figure is a whole process (`evtools COMMAND --config ...`); the job: its GROUP BY written to parquet "
        "by a fresh Python process with DuckDB's defaults; ratio: the case's best time / the job's best time in the "
        f"same run; best of {args.repeat}; a cold cache before each run except the second command's",
        "",
        *table(by_set),
        "",
        "## Targets",
        "",
        *verdicts(by_set),
    ]
    args.results.write_text("\n".join(lines) + "\n")
    print(f"wrote {args.results}")


if __name__ == "__main__":
    main()
