"""The Slack update for the latest report, written from its measured numbers.

``compose(run)`` turns a report's run record (run.json) into Slack mrkdwn text and a Block Kit payload: what changed,
figures before and after, caveats, what to spot-check, and the link to the HTML. ``post`` sends it to the incoming
webhook in ``SLACK_WEBHOOK_URL``; the URL is never printed, logged or written anywhere.
"""

from __future__ import annotations

import json
import logging
import os
import urllib.parse
from pathlib import Path

from evtools.errors import EvtoolsError
from evtools.narrative import pct, size

log = logging.getLogger(__name__)
ENV = "SLACK_WEBHOOK_URL"
RUN_KEYS = ("kind", "date", "status")  # what compose needs of a run record
BLOCK_TYPES = {"header", "section", "context", "divider", "actions"}


def latest_run(reports_dir: Path) -> tuple[dict, Path]:
    """The newest run record under ``reports_dir`` (by generation time) and its folder."""
    runs = []
    for path in Path(reports_dir).glob("*/*/run.json"):
        if any(p.startswith(".") for p in path.relative_to(reports_dir).parts):
            continue  # a report being written, or what a killed one left
        try:
            record = json.loads(path.read_text())
        except (json.JSONDecodeError, UnicodeDecodeError):
            continue
        if isinstance(record, dict):
            runs.append((record, path.parent))
    if not runs:
        raise EvtoolsError(f"{reports_dir}: no report found; run evtools report first")
    record, folder = max(runs, key=lambda r: (str(r[0].get("generated", "")), str(r[0].get("date", ""))))
    missing = [k for k in RUN_KEYS if k not in record]
    if missing:
        raise EvtoolsError(
            f"{folder / 'run.json'}: not a report's run record: missing {', '.join(missing)}; run evtools report again"
        )
    return record, folder


def compose(run: dict, link: str) -> dict:
    """{'text': mrkdwn, 'blocks': Block Kit} for one report run."""
    records = run.get("records", {})
    title = f"evtools {run['kind']} report, {run['date']}"
    verdict = run.get("verdict") or run.get("headline", "")
    facts: list[tuple[str, str]] = []
    changes: list[str] = []
    caveats: list[str] = []
    checks: list[str] = []
    if "layout" in records:
        lay = records["layout"]
        facts.append(
            (
                "Daily scan",
                f"{size(lay['full_bytes_before'])} today → {size(lay['window_bytes_after'])} "
                f"partitioned by date ({pct(lay['window_share_after'], 2)})",
            )
        )
        changes.append(
            f"Partition fact_events by date and cluster by company_id: the {lay['window_days']}-day window "
            f"reads {pct(lay['window_share_after'], 2)} of what the full job reads "
            f"({lay['window_to_ideal']:.2f}x the minimum)."
        )
    if "quality" in records:
        q = records["quality"]
        facts.append(
            (
                "Duplicates",
                f"+{q['duplicate_excess']:,} events ({pct(q['share_of_events']['duplicate_excess'], 2)})"
                + (f"; {q['replayed_loads']} replayed loads" if q["replays_measured"] else ""),
            )
        )
        facts.append(("Corrections", f"+{q['correction_excess']:,} events; DISTINCT keeps all of them"))
        facts.append(
            (
                f"{q['configured_lookback_days']}-day lookback",
                f"misses {q['configured_lookback_missed_events']:,} events "
                f"({pct(q['configured_lookback_missed_share'], 2)}); {q['recommended_lookback_days']} days "
                f"covers {pct(q['coverage_target'], 1)}",
            )
        )
        changes.append(
            "Count the latest version of each event_id instead of every row: duplicates, replays and "
            "corrections stop inflating the totals (a DISTINCT would still keep the corrections)."
        )
    if "refresh" in records:
        f = records["refresh"]
        facts.append(
            (
                "Exact refresh",
                f"{f['verify_differences']} keys off a full recomputation over {f['days']} "
                f"daily runs; the fixed window ended {f['lookback_missed_events']:,} events short",
            )
        )
        changes.append(
            "Refresh the aggregate from what was ingested since the last run, on whatever date it lands, "
            "instead of re-reading a fixed window: late rows are no longer dropped."
        )
        caveats.append(
            "The first run rebuilds the aggregate once from all history (a one-time backfill); after that "
            f"each run reads only the new rows (median {f['median_touched_seconds']:.2f} s on this data)."
        )
    if "reconcile" in records:
        r = records["reconcile"]
        facts.append(
            (
                "Dashboard vs API",
                f"{r['mismatched']:,} of {r['keys_compared']:,} keys differ; net {r['delta']:+,} events",
            )
        )
        checks += [
            f"company {w['company_id']} on {w['date']}: dashboard {w['dashboard_events']:,} vs API "
            f"{w['api_events']:,} (cause: {w['cause']})"
            for w in r.get("worst_keys", [])[:3]
        ]
    if "daily" in records:
        d = records["daily"]
        v, rec = d["validation"], d["reconciliation"]
        facts.append(("Expectations", f"{v['expectations'] - v['failed']} of {v['expectations']} pass"))
        facts.append(("Recent window", f"{rec['mismatched']:,} of {rec['keys_compared']:,} keys differ"))
        checks += [
            f"company {w['company_id']} on {w['date']}: dashboard {w['dashboard_events']:,} vs API "
            f"{w['api_events']:,} (cause: {w['cause']})"
            for w in rec.get("worst_keys", [])[:3]
        ]
    from evtools.runs_text import slack as run_history

    more_facts, more_changes = run_history(records)
    facts += more_facts
    changes += more_changes
    if run["status"] != "ok":
        caveats.append("This run did not complete: the figures above are partial.")
    if "quality" in records:
        caveats.append(
            "Numbers already on the dashboard change where they were inflated or incomplete; expect lower "
            "totals where duplicates were counted."
        )
    text = _mrkdwn(title, verdict, facts, changes, caveats, checks, link)
    blocks = _blocks(title, verdict, facts, changes, caveats, checks, link)
    check_blocks(blocks)
    return {"text": text, "blocks": blocks}


def _mrkdwn(title, verdict, facts, changes, caveats, checks, link) -> str:
    lines = [f"*{title}*", verdict, ""]
    if changes:
        lines += ["*What changes*"] + [f"• {c}" for c in changes] + [""]
    if facts:
        lines += ["*Measured*"] + [f"• {k}: {v}" for k, v in facts] + [""]
    if caveats:
        lines += ["*Caveats*"] + [f"• {c}" for c in caveats] + [""]
    if checks:
        lines += ["*Please spot-check against the API*"] + [f"• {c}" for c in checks] + [""]
    lines.append(f"Full report: {link}")
    return "\n".join(lines)


def _blocks(title, verdict, facts, changes, caveats, checks, link) -> list[dict]:
    blocks: list[dict] = [
        {"type": "header", "text": {"type": "plain_text", "text": title[:150]}},
        {"type": "section", "text": {"type": "mrkdwn", "text": verdict[:3000] or " "}},
    ]
    if changes:
        blocks.append(
            {
                "type": "section",
                "text": {
                    "type": "mrkdwn",
                    "text": ("*What changes*\n" + "\n".join(f"• {c}" for c in changes))[:3000],
                },
            }
        )
    for start in range(0, len(facts), 10):
        blocks.append(
            {
                "type": "section",
                "fields": [
                    {"type": "mrkdwn", "text": f"*{k}*\n{v}"[:2000]} for k, v in facts[start : start + 10]
                ],
            }
        )
    if checks:
        blocks.append(
            {
                "type": "section",
                "text": {
                    "type": "mrkdwn",
                    "text": ("*Please spot-check against the API*\n" + "\n".join(f"• {c}" for c in checks))[
                        :3000
                    ],
                },
            }
        )
    if caveats:
        blocks.append(
            {"type": "context", "elements": [{"type": "mrkdwn", "text": c[:3000]} for c in caveats[:10]]}
        )
    blocks.append({"type": "divider"})
    blocks.append(
        {"type": "context", "elements": [{"type": "mrkdwn", "text": f"Full report: {link}"[:3000]}]}
    )
    return blocks


def check_blocks(blocks: list[dict]) -> None:
    """Raise ValueError where the payload breaks Block Kit's rules (types, text kinds and lengths, counts)."""
    if not 0 < len(blocks) <= 50:
        raise ValueError(f"a message holds 1 to 50 blocks, found {len(blocks)}")
    for i, b in enumerate(blocks):
        kind = b.get("type")
        if kind not in BLOCK_TYPES:
            raise ValueError(f"block {i}: unknown type {kind!r}")
        if kind == "header" and (b["text"]["type"] != "plain_text" or len(b["text"]["text"]) > 150):
            raise ValueError(f"block {i}: a header takes plain_text of at most 150 characters")
        if kind == "section":
            if "text" not in b and "fields" not in b:
                raise ValueError(f"block {i}: a section needs text or fields")
            if "text" in b and not 0 < len(b["text"]["text"]) <= 3000:
                raise ValueError(f"block {i}: section text must be 1 to 3000 characters")
            if len(b.get("fields", [])) > 10 or any(len(f["text"]) > 2000 for f in b.get("fields", [])):
                raise ValueError(f"block {i}: at most 10 fields of at most 2000 characters")
        if kind == "context" and not 0 < len(b["elements"]) <= 10:
            raise ValueError(f"block {i}: a context holds 1 to 10 elements")


def check_url(url: str) -> None:
    """Raise EvtoolsError unless ``url`` is a webhook evtools can post to (https, or http to this machine); the
    message never repeats the URL: it holds the webhook's secret token."""
    parts = urllib.parse.urlsplit(url) if url and not any(ch.isspace() for ch in url) else None
    local = parts is not None and parts.hostname in ("localhost", "127.0.0.1", "::1")
    if (
        parts is None
        or not parts.hostname
        or not (parts.scheme == "https" or (parts.scheme == "http" and local))
    ):
        raise EvtoolsError(
            f"{ENV} is not a webhook URL evtools can post to: expected https://hooks.slack.com/services/..., "
            f"found a value of {len(url)} characters (not shown: it holds a secret)"
        )


def post(payload: dict, url: str | None = None, timeout: float = 10.0) -> int:
    """POST the payload to the webhook (``SLACK_WEBHOOK_URL`` unless given) with slack_sdk's WebhookClient, retrying
    rate limits (429, after Retry-After), server errors (5xx) and dropped connections; return the HTTP status."""
    from slack_sdk.http_retry.builtin_handlers import (
        ConnectionErrorRetryHandler,
        RateLimitErrorRetryHandler,
        ServerErrorRetryHandler,
    )
    from slack_sdk.webhook import WebhookClient

    url = url or os.environ.get(ENV)
    if not url:
        raise EvtoolsError(f"{ENV} is not set; use --dry-run to only print the message")
    check_url(url)
    client = WebhookClient(
        url,
        timeout=max(1, round(timeout)),
        logger=_SILENT,  # slack_sdk logs the URL at debug level and in its error lines
        retry_handlers=[
            ConnectionErrorRetryHandler(max_retry_count=1),
            RateLimitErrorRetryHandler(max_retry_count=2),
            ServerErrorRetryHandler(max_retry_count=2),
        ],
    )
    try:
        response = client.send_dict(payload)
    except Exception as e:  # urllib's errors may quote the URL: name the kind only
        raise EvtoolsError(f"could not reach the Slack webhook ({ENV}): {type(e).__name__}") from None
    if response.status_code != 200:
        body = (response.body or "").strip().replace(url, "***")[:120]
        raise EvtoolsError(f"the Slack webhook ({ENV}) answered HTTP {response.status_code}: {body}")
    return response.status_code


_SILENT = logging.getLogger("evtools.notify.slack_sdk")
_SILENT.setLevel(logging.CRITICAL + 1)
_SILENT.propagate = False
