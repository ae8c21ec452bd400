"""The Slack update for the latest report, written from its measured numbers.

``compose(run)`` turns a report's run record (run.json) into Slack mrkdwn text and a Block Kit payload from the same
typed summary the HTML index shows (``findings.from_run``): the verdict, what is wrong (with what is wrong in the job
runs when a job log was analysed), what it costs, what to change (or, for a daily run, each failed expectation
explained), what to spot-check, and the link to the HTML. ``post`` sends it to the incoming webhook in
``SLACK_WEBHOOK_URL`` with slack_sdk; the URL is never printed, logged or written anywhere.
"""

from __future__ import annotations

import json
import logging
import os
import urllib.parse
from pathlib import Path

from evtools.core import fmt
from evtools.core.errors import EvtoolsError
from evtools.present import conclusions, findings, runs_text

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
    """{'text': mrkdwn, 'blocks': Block Kit} for one report run (its run.json), from its typed summary."""
    s = findings.from_run(run)
    title = f"evtools {s.kind} report, {s.date}"
    sections = _sections(s)
    text = "\n\n".join([f"*{title}*", *(body for _, body in sections), f"Full report: {link}"])
    blocks: list[dict] = [{"type": "header", "text": {"type": "plain_text", "text": title[:150]}}]
    for kind, body in sections:
        if kind == "context":
            blocks.append({"type": "context", "elements": [{"type": "mrkdwn", "text": body[:3000]}]})
        else:
            blocks.append({"type": "section", "text": {"type": "mrkdwn", "text": body[:3000] or " "}})
    blocks.append({"type": "divider"})
    blocks.append(
        {"type": "context", "elements": [{"type": "mrkdwn", "text": f"Full report: {link}"[:3000]}]}
    )
    check_blocks(blocks)
    return {"text": text, "blocks": blocks}


def _sections(s) -> list[tuple[str, str]]:
    """(kind, mrkdwn) in reading order: verdict, what is wrong, what it costs, what to change, spot-checks."""
    out = [("section", "\n".join(s.verdict) or s.headline)]
    period = f"Data: {s.period}" + (f"; dashboard vs API compared over {s.compared}" if s.compared else "")
    out.append(("context", period))
    if s.failed:
        out.append(("section", f":warning: *This run did not complete.* {s.failed} The figures are partial."))
    d = s.records.daily
    if d is not None:
        for f in d.failures:
            out.append(
                (
                    "section",
                    f"*Failed: {f.suite} {f.column}*: observed {f.observed or fmt.DASH}, expected {f.threshold}.\n"
                    f"{f.meaning} {f.action}".strip(),
                )
            )
        out += [("section", "\n".join(f"• {p}" for p in conclusions.conclusion(d).points[d.failed :]))]
    if s.wrong:
        out.append(
            (
                "section",
                "*What is wrong* (events misstated on the dashboard)\n"
                + "\n".join(
                    f"{i}. {w.title}: *{fmt.count(w.events)} events*"
                    + (f" on {fmt.count(w.keys)} company-days" if w.keys else "")
                    for i, w in enumerate(s.wrong[:5], 1)
                ),
            )
        )
    fact, job_fixes = runs_text.slack(s.records.history)
    if s.job_runs:
        out.append(
            (
                "section",
                f"*What is wrong in the job runs* ({fact})\n"
                + "\n".join(f"{i}. {f.title}." for i, f in enumerate(s.job_runs[:5], 1)),
            )
        )
    if s.costs:
        out.append(
            (
                "section",
                "*What it costs* (per run)\n"
                + "\n".join(f"{i}. {c.title}: {_cost(c)}" for i, c in enumerate(s.costs[:3], 1)),
            )
        )
    if s.fixes and d is None:
        changes = [f"*{f.title}.* {' '.join(f.effects)} Verify: `{f.verify}`" for f in s.fixes] + job_fixes
        out.append(
            ("section", "*What to change*\n" + "\n".join(f"{i}. {c}" for i, c in enumerate(changes, 1)))
        )
    worst = d.window.worst if d is not None else (s.records.reconcile.worst if s.records.reconcile else ())
    if worst:
        out.append(
            (
                "section",
                "*Please spot-check against the API*\n"
                + "\n".join(
                    f"• company {k.company_id} on {fmt.date(k.date)}: dashboard {fmt.count(k.dashboard_events)} vs "
                    f"API {fmt.count(k.api_events)} (cause: {k.cause})"
                    for k in worst[:3]
                ),
            )
        )
    if s.records.refresh is not None and d is None:
        out.append(
            (
                "context",
                "The first refresh rebuilds the aggregate once from all history; after that each run reads only "
                "the rows ingested since the last one. Totals already on the dashboard will change where duplicates "
                "or corrections were counted.",
            )
        )
    return out


def _cost(c) -> str:
    figures = [
        v
        for v in (c.seconds is not None and fmt.seconds(c.seconds), c.bytes is not None and fmt.size(c.bytes))
        if v
    ]
    return ", ".join(figures) if figures else c.detail


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


_SILENT = logging.getLogger("evtools.app.notify.slack_sdk")
_SILENT.setLevel(logging.CRITICAL + 1)
_SILENT.propagate = False
