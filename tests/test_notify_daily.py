"""The daily report and the Slack update: real numbers, valid Block Kit, one POST to a local server, no URL leaks."""

from __future__ import annotations

import http.server
import json
import threading

import pytest

from evtools import notify, reports
from evtools.cli import main

pytestmark = pytest.mark.slow
NOTEBOOKS = reports.Path(__file__).resolve().parents[1] / "notebooks"


@pytest.fixture(scope="module")
def investigation(tmp_path_factory, sample_dir):
    out = tmp_path_factory.mktemp("reports")
    record = reports.run_report(
        "investigation",
        sample_dir / "evtools.toml",
        out,
        NOTEBOOKS,
        only=["03_duplicates_late_appends", "04_reconciliation"],
    )
    return out, record


def test_payload_carries_the_reports_numbers(investigation):
    out, record = investigation
    run, folder = notify.latest_run(out)
    payload = notify.compose(run, "https://reports.example/x/index.html")
    notify.check_blocks(payload["blocks"])
    q, r = record["records"]["quality"], record["records"]["reconcile"]
    text = json.dumps(payload["blocks"])
    assert (
        f"+{q['duplicate_excess']:,} events" in text
        and f"{r['mismatched']:,} of {r['keys_compared']:,}" in text
    )
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


def test_daily_report_opens_with_its_verdict(tmp_path, sample_dir):
    folder = tmp_path / "sample"
    import shutil

    shutil.copytree(sample_dir, folder, ignore=shutil.ignore_patterns(".evtools"))
    record = reports.run_report(
        "daily", folder / "evtools.toml", tmp_path / "r", NOTEBOOKS, date=reports.dt.date(2026, 2, 20)
    )
    d = record["records"]["daily"]
    assert record["status"] == "ok" and record["headline"] == d["verdict"]
    assert d["verdict"].startswith("ATTENTION 2026-02-20: refreshed ")
    html = (tmp_path / "r" / "2026-02-20" / "daily" / "daily_report.html").read_text()
    first_heading = html.index("<h2")
    assert d["verdict"].split(":")[0] in html[first_heading : first_heading + 400]
    assert f"{d['validation']['failed']} of {d['validation']['expectations']} expectations FAILED" in html
    assert 'href="data_docs/index.html"' in html
    assert (tmp_path / "r" / "2026-02-20" / "daily" / "data_docs" / "index.html").is_file()
