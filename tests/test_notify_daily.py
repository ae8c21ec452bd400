"""The daily report and the Slack update: real numbers, valid Block Kit, one POST to a local server, no URL leaks."""

from __future__ import annotations

import http.server
import json
import re
import threading

import pytest

from evtools.app import notify
from evtools.app.cli import main

pytestmark = pytest.mark.slow


@pytest.fixture()
def investigation(rendered_reports):
    """The reports folder (its latest run is the investigation) and the investigation's run record."""
    return rendered_reports.out, rendered_reports.investigation


def test_payload_carries_the_reports_numbers(investigation):
    out, record = investigation
    run, folder = notify.latest_run(out)
    payload = notify.compose(run, "https://reports.example/x/index.html")
    notify.check_blocks(payload["blocks"])
    q, r = record["records"]["quality"], record["records"]["reconcile"]
    text = json.dumps(payload["blocks"])
    dup = r["abs_totals"]["duplicates"]
    assert f"Duplicate rows are counted more than once: *{dup:,} events*" in text
    assert f"{r['mismatched']:,} of {r['keys_compared']:,}" in text
    assert f"{q['first_date']} to {q['last_date']}" in text  # the data's period
    worst = r["worst_keys"][0]
    assert f"company {worst['company_id']} on {worst['date']}" in payload["text"]
    assert payload["blocks"][0]["type"] == "header"


@pytest.mark.parametrize(
    "blocks",
    [
        [],
        [{"type": "header", "text": {"type": "mrkdwn", "text": "x"}}],
        [{"type": "section"}],
        [{"type": "section", "fields": [{"type": "mrkdwn", "text": "x"}] * 11}],
        [{"type": "image"}],
    ],
)
def test_block_kit_rules_are_enforced(blocks):
    with pytest.raises(ValueError):
        notify.check_blocks(blocks)


def test_posting_hits_the_local_server_once_and_never_shows_the_url(investigation, monkeypatch, capsys):
    out, _ = investigation
    received = []

    class Handler(http.server.BaseHTTPRequestHandler):
        def do_POST(self):  # noqa: N802
            received.append(json.loads(self.rfile.read(int(self.headers["Content-Length"]))))
            self.send_response(200)
            self.end_headers()
            self.wfile.write(b"ok")

        def log_message(self, *args):
            pass

    server = http.server.HTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    url = f"http://127.0.0.1:{server.server_port}/services/T000/B000/secret-token"
    monkeypatch.setenv(notify.ENV, url)
    try:
        assert main(["notify", "--reports", str(out)]) == 0
    finally:
        server.shutdown()
    printed = capsys.readouterr()
    assert len(received) == 1 and received[0]["blocks"][0]["type"] == "header"
    assert "secret-token" not in printed.out + printed.err
    assert "posted to Slack (HTTP 200)" in printed.out


def test_unreachable_webhook_is_a_clear_error_without_the_url(investigation, monkeypatch, capsys):
    out, _ = investigation
    monkeypatch.setenv(notify.ENV, "http://127.0.0.1:9/secret-token")
    assert main(["notify", "--reports", str(out)]) == 2
    err = capsys.readouterr().err
    assert "could not reach the Slack webhook" in err and "secret-token" not in err


def test_dry_run_posts_nothing(investigation, monkeypatch, capsys):
    out, _ = investigation
    monkeypatch.setenv(notify.ENV, "http://127.0.0.1:9/never")
    assert main(["notify", "--reports", str(out), "--dry-run"]) == 0
    assert '"blocks"' in capsys.readouterr().out


def test_daily_report_opens_with_its_verdict(rendered_reports):
    record = rendered_reports.daily
    d = record["records"]["daily"]
    assert record["status"] == "ok" and record["headline"].startswith("ATTENTION for 2026-02-20: ")
    failure = d["validation"]["failures"][0]
    assert failure["threshold"] and failure["meaning"] and failure["action"]  # explained, from the suite
    html = (rendered_reports.run_dir("daily") / "daily_report.html").read_text()
    verdict = html.index('id="verdict"')
    assert verdict < html.index("<h2") and "ATTENTION for 2026-02-20" in html[verdict : verdict + 400]
    assert failure["meaning"] in html and failure["threshold"] in html and failure["observed"] in html
    assert 'href="data_docs/index.html"' in html
    docs = rendered_reports.run_dir("daily") / "data_docs"
    assert (docs / "index.html").is_file()
    for page in docs.rglob("*.html"):  # readable offline: nothing fetched from elsewhere
        assert not re.search(r"(src|href)=[\"']https?://[^\"']*\.(js|css)", page.read_text()), page
