"""Every failure is one line with the exit code of the table (0 ok, 1 a check failed, 2 bad input, 3 engine or
environment, 130 interrupted), no traceback, and nothing previously good is lost or changed.

The numbered cases are those of the hardening issue, each reproduced on a private copy of the sample.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import signal
import subprocess
import sys
import time
import types
from pathlib import Path

import duckdb
import pytest

from evtools.analyses import refresh
from evtools.app.cli import main
from evtools.core.config import load_config
from tests.conftest import SAMPLE

TOKEN = "secret-token-XYZ"


@pytest.fixture()
def project(tmp_path) -> Path:
    """A copy of the sample: its config, data, and (once refreshed) aggregate."""
    folder = tmp_path / "project"
    shutil.copytree(SAMPLE, folder, ignore=shutil.ignore_patterns(".evtools"))
    return folder


def digest(folder: Path) -> dict:
    """Every file under ``folder`` (hidden ones too) with the hash of its bytes."""
    return {
        str(p.relative_to(folder)): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(folder.rglob("*"))
        if p.is_file()
    }


def failed(capsys, code: int, argv: list[str], expected: int, first: str) -> str:
    """Run ``argv`` in-process; assert the exit code and that stderr is one line starting with ``first``."""
    assert code == expected, capsys.readouterr()
    err = capsys.readouterr().err
    assert err.startswith(f"evtools: {first}"), err
    assert err.count("\n") == 1 and "Traceback" not in err, err
    return err


def cli(argv: list[str], env: dict | None = None, **kw) -> subprocess.CompletedProcess:
    """evtools as a separate process."""
    return subprocess.run(
        [sys.executable, "-m", "evtools.app.cli", *argv],
        capture_output=True,
        text=True,
        env={**os.environ, "EVTOOLS_NO_PROGRESS": "1", **(env or {})},
        timeout=300,
        **kw,
    )


# 1. the webhook URL is never printed --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "url", [f"hooks.slack.com/services/T0/B0/{TOKEN}", f"https://hooks.slack.com/services/T0/B0/{TOKEN} x"]
)
def test_1_a_malformed_webhook_is_never_shown(tmp_path, url):
    run = tmp_path / "r" / "2026-03-01" / "daily"
    run.mkdir(parents=True)
    (run / "run.json").write_text(json.dumps({"kind": "daily", "date": "2026-03-01", "status": "ok"}))
    proc = cli(["--debug", "-v", "notify", "--reports", str(tmp_path / "r")], {"SLACK_WEBHOOK_URL": url})
    assert proc.returncode == 2
    assert TOKEN not in proc.stdout + proc.stderr
    assert proc.stderr.splitlines()[-1].startswith("evtools: SLACK_WEBHOOK_URL is not a webhook URL")


# 2. the watermark never passes the run's until ----------------------------------------------------------------------


def test_2_a_row_from_the_future_never_moves_the_watermark(project, capsys):
    config = load_config(project / "evtools.toml")
    con = duckdb.connect()
    con.execute(
        f"""COPY (SELECT * REPLACE (TIMESTAMP '9999-12-31 00:00:00' AS ingested_at, event_id + 10000000 AS event_id)
            FROM '{project}/fact_events/ingested_2026-01-01.parquet' LIMIT 1)
            TO '{project}/fact_events/ingested_9999.parquet' (FORMAT parquet)"""
    )
    assert main(["refresh", "--config", str(project / "evtools.toml"), "--until", "2026-02-01"]) == 0
    assert main(["refresh", "--config", str(project / "evtools.toml")]) == 0
    out = capsys.readouterr().out
    assert "(touched, incremental): watermark 2026-02-01 00:00:00 -> 2026-03-02 22:48:19" in out
    assert (
        "1 rows ingested after 2026-03-02 22:48:19 wait for a later run; 1 of them are from the future" in out
    )
    assert refresh.verify(config).empty
    before = refresh.table(config)
    # an until later than now is refused, and changes nothing
    code = main(["refresh", "--config", str(project / "evtools.toml"), "--until", "9999-01-01"])
    failed(capsys, code, [], 2, "refresh --until 9999-01-01 00:00:00: later than now")
    assert refresh.table(config).equals(before)
    # validate flags the row from the future
    code = main(["validate", "--config", str(project / "evtools.toml"), "--suite", "fact_events"])
    assert code == 1
    assert "future_rows" in capsys.readouterr().out


# 3. a report never loses the previous good one ------------------------------------------------------------------------


@pytest.fixture(scope="module")
def a_good_run(tmp_path_factory) -> Path:
    """A daily report of 2026-02-20 made by the fine test notebook (nb/ and reports/ under the folder returned), made
    once for the module; each test works on a copy (``reports_with_a_good_run``)."""
    folder = tmp_path_factory.mktemp("good_report")
    shutil.copytree(SAMPLE, folder / "project", ignore=shutil.ignore_patterns(".evtools"))
    (folder / "nb").mkdir()
    shutil.copy(Path(__file__).parent / "notebooks" / "fine.ipynb", folder / "nb" / "daily_report.ipynb")
    argv = ["report", "daily", "--config", str(folder / "project" / "evtools.toml"), "--notebooks", str(folder / "nb")]
    assert main([*argv, "--out", str(folder / "reports"), "--date", "2026-02-20"]) == 0
    return folder


@pytest.fixture()
def reports_with_a_good_run(a_good_run, project, tmp_path) -> tuple[Path, list[str]]:
    """A copy of ``a_good_run``'s reports folder and notebooks, and the report's argv over them and ``project``."""
    out, nb = tmp_path / "reports", tmp_path / "nb"
    shutil.copytree(a_good_run / "reports", out)
    shutil.copytree(a_good_run / "nb", nb)
    argv = ["report", "daily", "--config", str(project / "evtools.toml"), "--notebooks", str(nb), "--out", str(out)]
    return out, argv


@pytest.mark.slow
def test_3_a_bad_parameter_or_a_failed_run_keeps_the_previous_report(
    reports_with_a_good_run, capsys, tmp_path
):
    out, argv = reports_with_a_good_run
    before = digest(out)
    capsys.readouterr()
    code = main([*argv, "--date", "2026-02-20", "-p", "nope=1"])
    failed(capsys, code, argv, 2, "report daily: unknown parameter nope")
    assert digest(out) == before
    # a run that fails is kept apart, the good one stays and the index lists both
    shutil.copy(Path(__file__).parent / "notebooks" / "broken.ipynb", Path(argv[5]) / "daily_report.ipynb")
    code = main([*argv, "--date", "2026-02-20"])
    failed(capsys, code, argv, 3, "daily report 2026-02-20 failed at")
    after = digest(out)
    assert {k: v for k, v in after.items() if k.startswith("2026-02-20/daily/")} == {
        k: v for k, v in before.items() if k.startswith("2026-02-20/daily/")
    }
    assert json.loads((out / "2026-02-20" / "daily-failed" / "run.json").read_text())["status"] == "failed"
    index = (out / "index.html").read_text()
    assert "2026-02-20/daily/index.html" in index and "2026-02-20/daily-failed/index.html" in index
    assert not [p for p in out.rglob(".*") if p.is_dir()]  # no temporary folder left


@pytest.mark.slow
def test_3_two_reports_into_one_folder_take_turns(reports_with_a_good_run, capsys):
    from evtools.core.fsutil import locked

    out, argv = reports_with_a_good_run
    before = digest(out)
    with locked(out / ".evtools.lock"):  # another report holds the folder
        code = main([*argv, "--date", "2026-02-20"])
        failed(capsys, code, argv, 3, f"{out.resolve()}: another evtools process is writing it")
    assert digest(out) == before
    assert main([*argv, "--date", "2026-02-20", "--wait", "5"]) == 0


# 4. library errors are one line with the right exit code ------------------------------------------------------------


def _config(project: Path, settings: str = "", **sources: str) -> Path:
    text = (project / "evtools.toml").read_text().replace("[settings]", f"[settings]\n{settings}")
    for name, where in sources.items():
        text = "\n".join(
            f'{name} = "{where}"' if line.startswith(f"{name} = ") else line for line in text.splitlines()
        )
    path = project / "bad.toml"
    path.write_text(text + "\n")
    return path


@pytest.fixture(scope="module")
def good_outputs(tmp_path_factory) -> dict[str, Path]:
    """A good quality and reconcile output of the sample: what a failed run must leave exactly as it was."""
    folder = tmp_path_factory.mktemp("good")
    shutil.copytree(SAMPLE, folder / "project", ignore=shutil.ignore_patterns(".evtools"))
    outputs = {}
    for command in ("quality", "reconcile"):
        outputs[command] = folder / command
        assert (
            main(
                [
                    command,
                    "--config",
                    str(folder / "project" / "evtools.toml"),
                    "--out",
                    str(folder / command),
                ]
            )
            == 0
        )
    return outputs


def keeps_good(good_outputs, tmp_path, command: str, argv: list[str], capsys, first: str) -> str:
    """Run ``argv`` with --out holding a good previous output: exit 2, one line ``first``, the output unchanged."""
    out = tmp_path / f"previous-{command}"
    shutil.copytree(good_outputs[command], out)
    before = digest(out)
    err = failed(capsys, main([*argv, "--out", str(out)]), argv, 2, first)
    assert digest(out) == before and not list(tmp_path.glob(f".{out.name}.tmp-*"))
    return err


def test_4_corrupt_parquet_is_exit_2_naming_the_file(project, tmp_path, capsys, good_outputs):
    victim = project / "fact_events" / "ingested_2026-01-10.parquet"
    data = bytearray(victim.read_bytes())
    data[len(data) // 3 : len(data) // 3 + 400] = b"\x00" * 400
    victim.write_bytes(bytes(data))
    argv = ["quality", "--config", str(project / "evtools.toml")]
    err = keeps_good(
        good_outputs, tmp_path, "quality", argv, capsys, "invalid input: Invalid Input Error: Failed to read"
    )
    assert "ingested_2026-01-10.parquet" in err


def test_4_a_later_file_of_a_glob_lacks_a_column(project, tmp_path, capsys, good_outputs):
    con = duckdb.connect()
    last = project / "fact_events" / "ingested_2026-03-02.parquet"
    con.execute(f"COPY (SELECT * EXCLUDE (events) FROM '{last}') TO '{project}/fact_events/zz.parquet'")
    argv = ["quality", "--config", str(project / "evtools.toml")]
    err = keeps_good(good_outputs, tmp_path, "quality", argv, capsys, "invalid input: ")
    assert "zz.parquet" in err and 'column "events"' in err


def test_4_a_ragged_csv_row_after_20000_rows(project, tmp_path, capsys, good_outputs):
    lines = ["company_id,date,events"] + [f"{i % 30 + 1000},2026-01-01,{i}" for i in range(25_000)]
    lines[20_001] += ",7"
    (project / "api_ragged.csv").write_text("\n".join(lines) + "\n")
    argv = ["reconcile", "--config", str(_config(project, api_daily="api_ragged.csv"))]
    keeps_good(good_outputs, tmp_path, "reconcile", argv, capsys, "api_ragged.csv: cannot read as csv")


def test_4_text_ids_in_an_integer_id_api(project, tmp_path, capsys, good_outputs):
    (project / "api_text.csv").write_text("company_id,date,events\nacme,2026-01-01,3\n")
    argv = ["reconcile", "--config", str(_config(project, api_daily="api_text.csv"))]
    first = (
        "api_text.csv: column 'company_id' (api_daily.company_id): expected ids of fact_events' type BIGINT"
    )
    assert "found 'acme'" in keeps_good(good_outputs, tmp_path, "reconcile", argv, capsys, first)


def test_4_an_event_sum_beyond_64_bits(project, tmp_path, capsys, good_outputs):
    con = duckdb.connect()
    con.execute(
        f"""COPY (SELECT event_id, 1 AS company_id, DATE '2026-01-01' AS date, 4611686018427387904 AS events,
                   TIMESTAMP '2026-01-01 01:00:00' + INTERVAL (event_id) SECOND AS ingested_at
            FROM range(4) t(event_id)) TO '{project}/big.parquet' (FORMAT parquet)"""
    )
    argv = ["quality", "--config", str(_config(project, fact_events="big.parquet"))]
    keeps_good(
        good_outputs,
        tmp_path,
        "quality",
        argv,
        capsys,
        "a value is out of range (a sum of events may overflow",
    )


@pytest.mark.parametrize(
    ("settings", "first"),
    [
        ('memory_limit = "lots"', "settings.memory_limit: expected a size"),
        ("threads = -4", "settings.threads: expected >= 0"),
        ('timezone = "Mars/Olympus"', "settings.timezone: unknown time zone 'Mars/Olympus'"),
    ],
)
def test_4_bad_settings_are_exit_2(project, tmp_path, capsys, good_outputs, settings, first):
    path = _config(project, settings)
    keeps_good(
        good_outputs,
        tmp_path,
        "quality",
        ["quality", "--config", str(path)],
        capsys,
        f"{path.resolve()}: {first}",
    )


def test_4_a_config_that_is_not_utf8(project, capsys):
    path = project / "latin1.toml"
    path.write_bytes((project / "evtools.toml").read_bytes() + "# caf\xe9\n".encode("latin-1"))
    failed(capsys, main(["quality", "--config", str(path)]), [], 2, f"{path}: not UTF-8 text")


def test_4_db_that_is_a_folder_or_not_duckdb(project, tmp_path, capsys):
    config = str(project / "evtools.toml")
    failed(capsys, main(["refresh", "--config", config, "--db", str(tmp_path)]), [], 2, "--db")
    junk = tmp_path / "junk.duckdb"
    junk.write_text("not a database\n" * 100)
    failed(
        capsys, main(["refresh", "--config", config, "--db", str(junk)]), [], 2, f"{junk}: cannot open as the"
    )
    assert junk.read_text() == "not a database\n" * 100


def test_4_profile_sql_with_a_syntax_error(project, tmp_path, capsys):
    sql = tmp_path / "q.sql"
    sql.write_text("SELEC nope FROM")
    code = main(["profile", "--config", str(project / "evtools.toml"), "--sql", str(sql)])
    failed(capsys, code, [], 2, "SQL syntax error")


@pytest.mark.parametrize("command", ["quality", "layout"])
def test_4_a_fact_table_without_rows(project, tmp_path, capsys, command):
    con = duckdb.connect()
    con.execute(
        f"COPY (SELECT * FROM '{project}/fact_events/*.parquet' LIMIT 0) TO '{project}/empty.parquet' (FORMAT parquet)"
    )
    out = tmp_path / "o"
    out.mkdir()
    (out / "keep").write_text("good")
    argv = [command, "--config", str(_config(project, fact_events="empty.parquet")), "--out", str(out)]
    failed(capsys, main(argv), argv, 2, "empty.parquet: fact_events has no rows")
    assert digest(out) == {"keep": hashlib.sha256(b"good").hexdigest()}


def test_4_notify_over_a_run_record_missing_keys(tmp_path, capsys):
    run = tmp_path / "r" / "2026-03-01" / "daily"
    run.mkdir(parents=True)
    (run / "run.json").write_text('{"date": "2026-03-01"}')
    code = main(["notify", "--dry-run", "--reports", str(tmp_path / "r")])
    failed(capsys, code, [], 2, f"{run / 'run.json'}: not a report's run record: missing kind, status")


@pytest.mark.slow
@pytest.mark.parametrize("signum", [signal.SIGINT, signal.SIGTERM])
def test_4_a_signal_inside_a_query_is_exit_130_with_a_run_record(project, tmp_path, signum):
    sql = tmp_path / "slow.sql"
    sql.write_text("SELECT count(*) FROM range(4000000000) a, range(3) b WHERE a.range % 7 = b.range")
    env = {**os.environ, "EVTOOLS_NO_PROGRESS": "1", "TMPDIR": str(tmp_path)}
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "evtools.app.cli",
            "profile",
            "--config",
            str(project / "evtools.toml"),
            "--sql",
            str(sql),
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=env,
    )
    _wait_cpu(proc.pid, 4.0)  # start-up takes about 2 s of CPU: then it is inside the query
    proc.send_signal(signum)
    _, err = proc.communicate(timeout=120)
    assert proc.returncode == 130, err
    assert err == f"evtools: interrupted ({signal.Signals(signum).name})\n"
    record = json.loads((project / ".evtools" / "runs.jsonl").read_text().splitlines()[-1])
    assert record["command"] == "profile" and record["status"] == "interrupted" and record["exit_code"] == 130
    assert not list(tmp_path.glob("evtools-spill-*"))  # the spill folder went with the process


def _wait_cpu(pid: int, seconds: float) -> None:
    """Until process ``pid`` has used ``seconds`` of CPU (however loaded the machine is)."""
    tick = os.sysconf("SC_CLK_TCK")
    deadline = time.monotonic() + 300
    while time.monotonic() < deadline:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        if (int(fields[11]) + int(fields[12])) / tick >= seconds:
            return
        time.sleep(0.1)


# 5. refresh spills within memory_limit ------------------------------------------------------------------------------


@pytest.mark.slow
def test_5_refresh_spills_within_a_small_memory_limit(tmp_path):
    """2M events (every tenth ingested twice) under memory_limit = 50MB: the full build spills and stays exact."""
    folder = tmp_path / "big"
    (folder / "fact_events").mkdir(parents=True)
    duckdb.connect().execute(
        f"""COPY (SELECT i AS event_id, i % 500 AS company_id, DATE '2026-01-01' + CAST(i % 90 AS INTEGER) AS date,
                   1 + i % 5 AS events, TIMESTAMP '2026-01-01' + INTERVAL (i // 10) SECOND AS ingested_at
            FROM range(2000000) t(i)
            UNION ALL SELECT i, i % 500, DATE '2026-01-01' + CAST(i % 90 AS INTEGER), 1 + i % 5,
                   TIMESTAMP '2026-04-01' + INTERVAL (i // 10) SECOND FROM range(0, 2000000, 10) t(i))
            TO '{folder}/fact_events/all.parquet' (FORMAT parquet)"""
    )
    (folder / "evtools.toml").write_text(
        '[sources]\nfact_events = "fact_events/*.parquet"\n[settings]\nmemory_limit = "50MB"\n'
    )
    proc = cli(["refresh", "--config", str(folder / "evtools.toml")])
    assert proc.returncode == 0, proc.stderr
    table = refresh.table(load_config(folder / "evtools.toml"))
    assert int(table["events"].sum()) == sum(1 + i % 5 for i in range(2_000_000))
    assert int(table["rows"].sum()) == 2_000_000


# 6. readers and writers of the aggregate ----------------------------------------------------------------------------


@pytest.mark.slow
def test_6_the_aggregate_can_be_read_while_a_refresh_writes(project, tmp_path):
    config_path = project / "evtools.toml"
    config = load_config(config_path)
    assert cli(["refresh", "--config", str(config_path), "--until", "2026-02-01"]).returncode == 0
    before = refresh.table(config)
    hold = tmp_path / "hold"
    hold.touch()  # the refresh below stays inside its transaction while this file exists
    slow = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "evtools.app.cli",
            "refresh",
            "--config",
            str(config_path),
            "--until",
            "2026-02-20",
        ],
        env={**os.environ, refresh.FAULT_ENV: "hold:after_apply", "EVTOOLS_REFRESH_HOLD": str(hold)},
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    reached = tmp_path / "hold.reached"  # the slow refresh has applied its changes inside its transaction
    deadline = time.monotonic() + 120
    while not reached.exists() and slow.poll() is None and time.monotonic() < deadline:
        time.sleep(0.05)
    assert reached.exists(), slow.communicate()
    assert refresh.table(config).equals(before)  # readers read the snapshot
    verify = cli(["refresh", "--verify", "--config", str(config_path)])
    assert verify.returncode == 0, verify.stderr
    other = cli(["refresh", "--config", str(config_path), "--until", "2026-02-25"])
    assert (
        other.returncode == 3
        and other.stderr.startswith("evtools: ")
        and "another refresh is running" in other.stderr
    )
    link = tmp_path / "link.duckdb"
    link.symlink_to(config.aggregate_db)
    through_link = cli(["refresh", "--config", str(config_path), "--db", str(link), "--until", "2026-02-25"])
    assert through_link.returncode == 3 and "another refresh is running" in through_link.stderr
    hold.unlink()
    assert slow.wait(timeout=120) == 0
    after = cli(["refresh", "--config", str(config_path), "--until", "2026-02-25", "--wait", "30"])
    assert after.returncode == 0
    assert refresh.verify(config).empty


@pytest.mark.slow
def test_6_a_reader_holding_the_database_makes_refresh_wait_not_crash(project, capsys, monkeypatch):
    config_path = str(project / "evtools.toml")
    assert main(["refresh", "--config", config_path, "--until", "2026-02-01"]) == 0
    db = load_config(config_path).aggregate_db
    hold = f"import duckdb, sys; c = duckdb.connect({str(db)!r}, read_only=True); print('open', flush=True); sys.stdin.read()"
    reader = subprocess.Popen([sys.executable, "-c", hold], stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
    assert reader.stdout.readline() == "open\n"
    code = main(["refresh", "--config", config_path])
    failed(capsys, code, [], 3, f"{db}: another process has the aggregate database open")
    # the reader lets go once the next refresh waits for it (found the database held, it sleeps before trying again)
    waited = []

    def sleep(seconds: float) -> None:
        if not waited:
            reader.stdin.close()
        waited.append(seconds)
        time.sleep(seconds)

    from evtools.engines import aggfile

    monkeypatch.setattr(aggfile, "time", types.SimpleNamespace(monotonic=time.monotonic, sleep=sleep))
    assert main(["refresh", "--config", config_path, "--wait", "30"]) == 0  # once the reader lets go
    assert waited  # it did wait
    reader.wait(timeout=30)


# 7. outputs are whole ------------------------------------------------------------------------------------------------


def test_7_out_naming_a_file_is_refused_and_leaves_nothing(project, tmp_path, capsys):
    target = tmp_path / "file.txt"
    target.write_text("mine")
    code = main(["quality", "--config", str(project / "evtools.toml"), "--out", str(target)])
    failed(capsys, code, [], 2, f"--out {target}: is a file")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["file.txt", "project"]


def test_7_an_output_is_replaced_whole_and_never_over_foreign_files(project, tmp_path, capsys):
    out = tmp_path / "v"
    config = str(project / "evtools.toml")
    assert main(["validate", "--config", config, "--suite", "api_daily", "--out", str(out)]) in (0, 1)
    first = digest(out)
    assert "validation.json" in first and any(k.startswith("data_docs/") for k in first)
    (out / "notes.txt").write_text("the user's")
    capsys.readouterr()
    code = main(["validate", "--config", config, "--suite", "api_daily", "--out", str(out)])
    failed(capsys, code, [], 2, f"--out {out.resolve()}: holds notes.txt")
    assert digest(out) == {**first, "notes.txt": hashlib.sha256(b"the user's").hexdigest()}


# 8. validate fails an empty table and a date without rows ------------------------------------------------------------


def test_8_validate_fails_an_empty_table_and_a_date_without_rows(project, capsys):
    con = duckdb.connect()
    con.execute(
        f"COPY (SELECT * FROM '{project}/fact_events/*.parquet' LIMIT 0) TO '{project}/empty.parquet' (FORMAT parquet)"
    )
    code = main(["validate", "--config", str(_config(project, fact_events="empty.parquet"))])
    assert code == 1 and "fact_events (empty.parquet) has no rows" in capsys.readouterr().out
    code = main(
        [
            "validate",
            "--config",
            str(project / "evtools.toml"),
            "--date",
            "2030-01-01",
            "--suite",
            "fact_events",
        ]
    )
    captured = capsys.readouterr()
    assert code == 1 and "no rows on this date" in captured.out
    assert captured.err.startswith("evtools: ") and "expectations failed" in captured.err


# 9. DDL quotes every identifier; the table name must be one ---------------------------------------------------------


def test_9_ddl_quotes_names_and_refuses_a_table_that_is_not_a_name(project, tmp_path, capsys):
    con = duckdb.connect()
    con.execute(
        f"""COPY (SELECT * RENAME (date AS "date;--", company_id AS "order") FROM '{project}/fact_events/*.parquet')
            TO '{project}/odd.parquet' (FORMAT parquet)"""
    )
    path = _config(project, fact_events="odd.parquet")
    path.write_text(
        path.read_text().replace(
            "[settings]", '[columns.fact_events]\ndate = "date;--"\ncompany_id = "order"\n\n[settings]'
        )
    )
    out = tmp_path / "l"
    argv = ["layout", "--config", str(path), "--out", str(out), "--table", "x; DROP TABLE y; --"]
    failed(capsys, main(argv), argv, 2, "--table 'x; DROP TABLE y; --': not a table name")
    assert not out.exists()
    assert main(argv[:-2] + ["--repeats", "1"]) == 0
    text = (out / "ddl.sql").read_text()
    assert 'CLUSTER BY ("date;--", "order")' in text and "PARTITION BY `date;--`\nCLUSTER BY `order`" in text
    assert "HASH([order])" in text and '.partitionBy("date;--")' in text


# 10. ids and ranges are checked; --debug keeps the exit code ------------------------------------------------------


def test_10_a_company_or_range_without_data_is_exit_2_naming_what_exists(project, capsys):
    config = str(project / "evtools.toml")
    failed(
        capsys,
        main(["reconcile", "--config", config, "--company", "abc"]),
        [],
        2,
        "--company abc: not in the",
    )
    argv = ["reconcile", "--config", config, "--from", "2026-02-10", "--to", "2026-02-01"]
    failed(capsys, main(argv), argv, 2, "--from 2026-02-10 is after --to 2026-02-01")
    argv = ["reconcile", "--config", config, "--from", "2030-01-01"]
    err = failed(capsys, main(argv), argv, 2, "no dashboard or API key between 2030-01-01 and the end")
    assert "they hold 2025-12-31 .. 2026-03-02" in err  # the API buckets two companies by their local day
    with pytest.raises(SystemExit) as exit_:
        main(["refresh", "--config", config, "--lookback-days", "-1"])
    assert exit_.value.code == 2


def test_10_debug_adds_the_traceback_and_keeps_the_exit_code(tmp_path):
    proc = cli(["--debug", "sources", "--config", str(tmp_path / "none.toml")])
    assert proc.returncode == 2
    assert "Traceback" in proc.stderr and proc.stderr.splitlines()[-1].startswith("evtools: ")


def test_10_duplicate_column_names_are_refused(project, tmp_path, capsys, good_outputs):
    (project / "api_dup.csv").write_text("company_id,date,events,events\n1001,2026-01-01,3,4\n")
    argv = ["reconcile", "--config", str(_config(project, api_daily="api_dup.csv"))]
    first = "api_dup.csv: column 'events' occurs 2 times in api_dup.csv"
    keeps_good(good_outputs, tmp_path, "reconcile", argv, capsys, first)


def test_10_the_kernel_start_follows_the_timeout(monkeypatch, tmp_path):
    import papermill

    from evtools.app import reports

    seen = {}
    monkeypatch.setattr(papermill, "execute_notebook", lambda *a, **kw: seen.update(kw))
    nb = Path(__file__).parent / "notebooks" / "fine.ipynb"
    reports.run_notebook(nb, tmp_path, {}, timeout=7)
    assert seen["start_timeout"] == 7 and seen["execution_timeout"] == 7


def test_run_log_records_the_exit_code_and_error(project, capsys):
    config = str(project / "evtools.toml")
    main(["reconcile", "--config", config, "--company", "abc"])
    record = json.loads((project / ".evtools" / "runs.jsonl").read_text().splitlines()[-1])
    assert (
        record["status"] == "failed"
        and record["exit_code"] == 2
        and record["error"].startswith("--company abc")
    )


def test_library_errors_map_to_the_table():
    from evtools.core.errors import classify

    assert classify(duckdb.OutOfMemoryException("x")).exit_code == 3
    assert classify(duckdb.ParserException("x")).exit_code == 2
    assert classify(MemoryError()).exit_code == 3
    assert classify(OSError(28, "No space left on device", "/x")).exit_code == 3
    assert classify(FileNotFoundError(2, "No such file or directory", "/x")).exit_code == 2
    assert classify(ModuleNotFoundError("no module", name="great_expectations")).exit_code == 3
    assert classify(KeyboardInterrupt()).exit_code == 130
    assert classify(ZeroDivisionError("x")).exit_code == 3
