"""What is wrong with each job of a run history, from a ``RunsResult``'s figures, written once.

``findings(result)`` is the list every medium shows (terminal, notebook, report index, Slack): per job a title, a
text with the numbers it rests on, the fix, and ``impact`` (a share in [0, 1]: the part of the latest runs' time
the fix would remove where that is known, else 0), ranked by impact. An unknown figure is ``fmt.DASH``.
"""

from __future__ import annotations

import pandas as pd

from evtools.core.fmt import DASH, size


def findings(result) -> list[dict]:
    out: list[dict] = []
    t = result.thresholds
    changes = _by_job(result.changes.to_dict("records"))
    slow = result.runs[result.runs["flag"] == "slow run"] if len(result.runs) else result.runs
    slow_by_job = _by_job(
        slow[["job", "run_no", "started_at", "seconds", "segment_expected_seconds"]].to_dict("records")
    )
    for job in result.jobs.to_dict("records"):
        name = job["job"]
        if job["verdict"] == "code-driven":
            out.append(_jump(job, max(changes[name], key=lambda c: c["ratio"]), t))
        if job["n_plus_one"]:
            out.append(_n_plus_one(job, t))
        elif job["verdict"] == "volume-driven":
            out.append(_volume(job, t))
        elif job["verdict"] == "unexplained growth":
            out.append(_unexplained(job))
        elif job["timeouts"] and job["verdict"] != "code-driven":
            out.append(_timed_out(job))
        if job["slow_runs"]:
            out.append(_slow(job, slow_by_job[name]))
    return sorted(out, key=lambda f: -f["impact"])


def _by_job(records: list[dict]) -> dict[str, list[dict]]:
    grouped: dict[str, list[dict]] = {}
    for r in records:
        grouped.setdefault(r["job"], []).append(r)
    return grouped


def seconds(s: float) -> str:
    if s is None or pd.isna(s):
        return DASH
    return f"{s:,.2f} s" if abs(s) < 100 else f"{s:,.0f} s"


def volume(v: float, unit: str | None) -> str:
    if v is None or pd.isna(v):
        return DASH
    if unit == "bytes":
        return size(v)
    if v < 100_000:
        return f"{v:,.0f} rows"
    return f"{v / 1e6:,.2f}M rows" if v < 1e9 else f"{v / 1e9:,.2f}B rows"


def cost(c: float, unit: str | None) -> str:
    """Seconds per unit of volume, in words (a row: µs, ms or s; bytes: per GB)."""
    if c is None or pd.isna(c):
        return DASH
    if unit == "bytes":
        return f"{c * 1e9:,.2f} s per GB"
    for scale, name in ((1, "s"), (1e-3, "ms"), (1e-6, "µs")):
        if abs(c) >= scale or name == "µs":
            return f"{c / scale:,.2f} {name} a row"
    return f"{c} s a row"


def pair(a, b, fmt) -> str:
    return f"{fmt(a)} → {fmt(b)}" if not pd.isna(a) else DASH


def _p(p: float) -> str:
    return "below 1e-300" if p == 0 else f"{p:.1e}"


def _day(ts) -> str:
    return pd.Timestamp(ts).strftime("%Y-%m-%d")


def _jump(job: dict, c: dict, t) -> dict:
    unit = job["volume_unit"]
    n = c["run_no"]
    if unit:
        text = (
            f"At {volume(c['reference_volume'], unit)} a run took {seconds(c['expected_before'])} before run #{n} and "
            f"{seconds(c['expected_after'])} from it on ({c['ratio']:.2f}x): the cost went from "
            f"{cost(c['cost_before'], unit)} to {cost(c['cost_after'], unit)} (overhead "
            f"{seconds(c['overhead_before'])} → {seconds(c['overhead_after'])}) while the volume around the change "
            f"stayed {volume(c['volume_before'], unit)} → {volume(c['volume_after'], unit)}."
        )
    else:
        text = (
            f"Runs took {seconds(c['expected_before'])} on average before run #{n} and {seconds(c['expected_after'])} "
            f"from it on ({c['ratio']:.2f}x); the log has no volume, so growth of the data cannot be ruled out."
        )
    text += (
        f" The split, among {job['fitted']:,} fitted runs: likelihood ratio {c['lr']:,.1f}, p {_p(c['p_adjusted'])} "
        f"after Bonferroni (alpha {t.alpha})."
    )
    if job["change_points"] > 1:
        text += f" {job['change_points']} change points in all (changes.csv)."
    return {
        "kind": "change point",
        "job": job["job"],
        "title": f"{job['job']} got {c['ratio']:.1f}x slower at run #{n} ({_day(c['started_at'])}), "
        + ("not because of its data" if unit else "with no volume to explain it"),
        "text": text,
        "fix": f"Look at what changed for {job['job']} on {_day(c['started_at'])} (a deploy, a query plan, the "
        f"platform); the runs before it took {seconds(c['expected_before'])} for the same volume.",
        "impact": 1 - 1 / c["ratio"] if c["ratio"] > 1 else 0.0,
    }


def _n_plus_one(job: dict, t) -> dict:
    rows, calls, secs = job["latest_rows"], job["latest_calls"], job["latest_seconds"]
    if job["n1_basis"] == "calls":
        text = (
            f"A median of {job['rows_per_call']:.2f} rows per call over {job['fitted']:,} runs while rows grew "
            f"{volume(job['volume_first'], 'rows')} → {volume(job['volume_last'], 'rows')}; the latest run "
            f"(#{job['latest_run_no']:.0f}) made {calls:,.0f} calls for {rows:,.0f} rows in {seconds(secs)}, "
            f"{cost(secs / calls, 'rows').replace(' a row', '')} a call."
        )
    else:
        text = (
            f"It costs {cost(job['seconds_per_unit'], 'rows')} whatever the volume: rows grew "
            f"{volume(job['volume_first'], 'rows')} → {volume(job['volume_last'], 'rows')} and the time per row did "
            f"not fall (overhead {seconds(job['overhead_seconds'])}, R² {job['r2']:.3f}). A batched write costs "
            "microseconds a row; this is a round trip per row."
        )
    text += _timeouts(job)
    batched = job["batched_seconds"]
    return {
        "kind": "n+1",
        "job": job["job"],
        "title": f"{job['job']} makes one call per row (N+1)",
        "text": text,
        "fix": f"Write in batches of {t.batch_size:,} rows: the latest run's {rows:,.0f} rows take "
        f"{job['batched_calls']:,.0f} calls instead of {calls:,.0f}, about {seconds(batched)} of round trips instead of "
        f"{seconds(secs)}.",
        "impact": max(0.0, 1 - batched / secs) if secs else 0.0,
    }


def _volume(job: dict, t) -> dict:
    unit = job["volume_unit"]
    text = (
        f"Runs took {seconds(job['seconds_first'])} at first and {seconds(job['seconds_last'])} lately (medians) as "
        f"the volume grew {volume(job['volume_first'], unit)} → {volume(job['volume_last'], unit)} "
        f"({job['volume_growth']:.1f}x); one line, {seconds(job['overhead_seconds'])} + "
        f"{cost(job['seconds_per_unit'], unit)}, explains R² {job['r2']:.3f} of it and no change point moved the cost."
    )
    text += _timeouts(job)
    return {
        "kind": "volume",
        "job": job["job"],
        "title": f"{job['job']} is slower because it processes more: {job['growth']:.1f}x the time for "
        f"{job['volume_growth']:.1f}x the {unit}",
        "text": text,
        "fix": "Process only what changed (an incremental run) or partition its input so each run reads less; "
        "the cost per unit did not change, so tuning the code will not bend this line.",
        "impact": 0.0,
    }


def _unexplained(job: dict) -> dict:
    unit = job["volume_unit"]
    why = (
        f"the volume went {volume(job['volume_first'], unit)} → {volume(job['volume_last'], unit)} and the line "
        f"explains only R² {job['r2']:.3f}"
        if unit
        else "the log has no volume to compare"
    )
    return {
        "kind": "growth",
        "job": job["job"],
        "title": f"{job['job']} is {job['growth']:.1f}x slower and its volume does not explain it",
        "text": f"Runs took {seconds(job['seconds_first'])} at first and {seconds(job['seconds_last'])} lately "
        f"(medians); {why}; no single change point stands out, so the cost crept up." + _timeouts(job),
        "fix": f"Compare a recent run of {job['job']} with an early one (plan, data skew, contention); add rows or "
        "bytes processed to the log so volume can be ruled in or out.",
        "impact": 1 - 1 / job["growth"],
    }


def _timed_out(job: dict) -> dict:
    return {
        "kind": "timeouts",
        "job": job["job"],
        "title": f"{job['job']} timed out {job['timeouts']:,} times",
        "text": _timeouts(job).strip(),
        "fix": f"Find why {job['job']} runs long before raising its limit.",
        "impact": 0.0,
    }


def _timeouts(job: dict) -> str:
    if not job["timeouts"]:
        return ""
    return f" {job['timeouts']:,} runs stopped at the {seconds(job['timeout_seconds'])} limit (timeouts)."


def _slow(job: dict, slow: list[dict]) -> dict:
    said = "; ".join(
        f"run #{r['run_no']} ({_day(r['started_at'])}) took {seconds(r['seconds'])}, "
        f"{r['seconds'] / r['segment_expected_seconds']:.1f}x its expected {seconds(r['segment_expected_seconds'])}"
        for r in slow[:3]
    )
    more = f" and {len(slow) - 3} more" if len(slow) > 3 else ""
    return {
        "kind": "slow runs",
        "job": job["job"],
        "title": f"{job['job']} had {len(slow)} slow run{'s' if len(slow) > 1 else ''} that did not last",
        "text": f"{said}{more}; the runs after {'them' if len(slow) > 1 else 'it'} went back to their line.",
        "fix": "Look at what else ran at those times (contention, retries); a single slow run is not a trend.",
        "impact": 0.0,
    }
