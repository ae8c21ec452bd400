"""The run-history findings (``evtools.analyses.runs_findings``) in each medium: markdown, the jobs table, terminal
lines. The report reads them back as ``results.History``; ``report_findings`` and ``slack`` give them to the
report's "what is wrong" and the Slack update. An unknown figure is ``fmt.DASH``.
"""

from __future__ import annotations

import pandas as pd

from evtools.analyses.runs_findings import cost, findings, pair, seconds, volume  # noqa: F401 (findings, cost: read here too)
from evtools.core.fmt import DASH


def header(result) -> list[str]:
    """What was read and the verdicts, two sentences (``conclusions.history_lines``)."""
    from evtools.present.conclusions import history_lines
    from evtools.present.results import History

    return history_lines(History.from_summary(result.summary()))


def markdown(result, top: int = 10) -> str:
    """The investigation in markdown: what was read, the verdicts, then each finding."""
    if not len(result.runs):
        return header(result)[0]
    lines = [f"- {line}" for line in header(result)]
    found = result.findings()
    lines += [f"- **{f['title']}.** {f['text']} *Fix:* {f['fix']}" for f in found[:top]]
    if len(found) > top:
        lines.append(f"- ... and {len(found) - top} more findings (jobs.csv, changes.csv).")
    if not found:
        lines.append("- No job grew slower than its data explains.")
    return "\n".join(lines)


def jobs_table(result) -> pd.DataFrame:
    """The jobs, flagged first, with their figures formatted for reading."""
    jobs = result.jobs
    if not len(jobs):
        return jobs
    order = {v: i for i, v in enumerate(("code-driven", "unexplained growth", "volume-driven", "stable"))}
    jobs = jobs.assign(_o=jobs["verdict"].map(order).fillna(9), _n=~jobs["n_plus_one"]).sort_values(
        ["_n", "_o", "growth"], ascending=[True, True, False]
    )
    return pd.DataFrame(
        {
            "job": jobs["job"],
            "verdict": jobs["verdict"] + jobs["n_plus_one"].map({True: ", N+1", False: ""}),
            "runs": jobs["runs"].map("{:,}".format),
            "time first → last": [
                pair(a, b, seconds) for a, b in zip(jobs["seconds_first"], jobs["seconds_last"], strict=True)
            ],
            "volume first → last": [
                pair(a, b, lambda v, u=u: volume(v, u)) if u else DASH
                for a, b, u in zip(
                    jobs["volume_first"], jobs["volume_last"], jobs["volume_unit"], strict=True
                )
            ],
            "R²": jobs["r2"].map(lambda r: DASH if pd.isna(r) else f"{r:.3f}"),
            "change points": jobs["change_points"],
            "slow runs": jobs["slow_runs"],
            "failed": jobs["failed"],
            "timeouts": jobs["timeouts"],
        }
    )


def jobs_to_show(result, top: int = 4) -> list[str]:
    """The jobs a figure shows: those with findings first, then the rest in the jobs table's order."""
    named = (
        [f["job"] for f in result.findings()] + list(jobs_table(result)["job"]) if len(result.jobs) else []
    )
    return list(dict.fromkeys(named))[:top]


def lines(result) -> list[str]:
    """Plain text for the terminal: one paragraph per finding."""
    return [f"{f['title']}.\n  {f['text']}\n  fix: {f['fix']}" for f in result.findings()]


def report_findings(history) -> tuple:
    """The findings the report's "what is wrong" lists for a job log (a ``results.History``), largest impact first;
    none for evtools' own run log (its commands are the investigation's, not the user's job)."""
    if history is None or history.own_log:
        return ()
    return tuple(sorted(history.findings, key=lambda f: -f.impact))


def slack(history) -> tuple[str | None, list[str]]:
    """(fact, changes) for the Slack update when a job log was analysed: one line of counts, the top three fixes
    (slow runs and timeouts are symptoms, not changes to make)."""
    if history is None or history.own_log:
        return None, []
    counts = ", ".join(f"{n:,} {v}" for v, n in history.verdicts if n and v != "too few runs")
    fact = (
        f"{history.jobs:,} jobs, {history.runs:,} runs: {counts}; {history.n_plus_one} N+1; "
        f"{history.timeouts:,} timeouts"
    )
    fixes = [f for f in report_findings(history) if f.kind not in ("slow runs", "timeouts")]
    return fact, [f"{f.title}: {f.fix}" for f in fixes[:3]]


