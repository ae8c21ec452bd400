"""A user's project: `evtools init` maps the columns it finds, and every command finds its config and suites from any
folder (the default config, the suites shipped with the package)."""

from __future__ import annotations

import json
import tomllib
from pathlib import Path

import duckdb
import pytest

from evtools.app.cli import main
from evtools.core import config as config_module
from evtools.core.config import find_config, load_config
from evtools.core.errors import ConfigError
from tests.conftest import ROOT, SAMPLE


@pytest.fixture()
def user_files(tmp_path) -> Path:
    """The sample's sources under the user's own column names: case and separators differ from the canonical names
    (mapped by init), the ingestion time is called loaded_at (a usual other name: proposed, not mapped), and the
    dashboard's company column is called acct (no canonical match at all)."""
    folder = tmp_path / "warehouse"
    folder.mkdir()
    con = duckdb.connect()
    con.execute(
        f"""COPY (SELECT event_id AS "EventID", company_id AS "Company-Id", date AS "DATE", events AS "Events",
                        ingested_at AS loaded_at FROM '{SAMPLE}/fact_events/*.parquet')
            TO '{folder}/facts.parquet' (FORMAT parquet)"""
    )
    con.execute(f"COPY (SELECT * FROM '{SAMPLE}/api_daily.csv') TO '{folder}/api.csv' (HEADER)")
    con.execute(
        f"""COPY (SELECT company_id AS acct, date, events FROM '{SAMPLE}/dashboard.parquet')
            TO '{folder}/dash.parquet' (FORMAT parquet)"""
    )
    return folder


def test_init_maps_columns_by_name_and_proposes_the_rest(user_files, tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    code = main(
        [
            "init",
            "proj",
            "--fact-events",
            "warehouse/facts.parquet",
            "--api-daily",
            "warehouse/api.csv",
            "--dashboard",
            "warehouse/dash.parquet",
        ]
    )
    out = capsys.readouterr().out
    assert code == 0
    text = (tmp_path / "proj" / "evtools.toml").read_text()
    raw = tomllib.loads(text)
    assert raw["sources"] == {
        "fact_events": "../warehouse/facts.parquet",
        "api_daily": "../warehouse/api.csv",
        "dashboard": "../warehouse/dash.parquet",
    }
    assert raw["columns"]["fact_events"] == {
        "event_id": "EventID",
        "company_id": "Company-Id",
        "date": "DATE",
        "events": "Events",
    }
    assert '# ingested_at = "loaded_at"  # required: a guess from its name, check it' in text
    assert '# company_id = "?"  # required, not found' in text  # the dashboard's acct
    assert "ingested_at" in out and "not found: company_id" in out
    assert "evtools report daily --config proj/evtools.toml --out proj/reports" in out
    suites = sorted(p.name for p in (tmp_path / "proj" / "expectations").iterdir())
    assert suites == sorted(p.name for p in (ROOT / "expectations").iterdir())

    # the user confirms the proposal and names the dashboard's column: the project then opens cleanly
    text = text.replace('# ingested_at = "loaded_at"', 'ingested_at = "loaded_at"')
    text = text.replace('# company_id = "?"', 'company_id = "acct"')
    (tmp_path / "proj" / "evtools.toml").write_text(text)
    assert main(["sources", "--config", "proj/evtools.toml"]) == 0
    rows = json.loads((SAMPLE / "sample.json").read_text())["fact_rows"]
    assert f" {rows} " in capsys.readouterr().out


def test_init_keeps_what_the_user_has(tmp_path, capsys):
    folder = tmp_path / "proj"
    assert main(["init", str(folder)]) == 0
    raw = tomllib.loads((folder / "evtools.toml").read_text())
    assert raw["sources"] == {"fact_events": "fact_events/*.parquet"}  # the others as comments
    assert "edit " in capsys.readouterr().out
    (folder / "expectations" / "fact_events.json").write_text('{"mine": true}')
    assert main(["init", str(folder)]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "already exists; pass --force" in err
    assert main(["init", str(folder), "--force"]) == 0
    assert json.loads((folder / "expectations" / "fact_events.json").read_text()) == {"mine": True}


def test_init_names_an_unreadable_source(tmp_path, capsys):
    assert main(["init", str(tmp_path / "p"), "--fact-events", str(tmp_path / "none.parquet")]) == 2
    err = capsys.readouterr().err
    assert "none.parquet" in err and "not found" in err
    assert not (tmp_path / "p").exists()


def test_default_config_is_found_the_same_way_from_any_folder(tmp_path, monkeypatch):
    monkeypatch.delenv(config_module.CONFIG_ENV, raising=False)
    project = tmp_path / "proj"
    (project / "notebooks" / "deep").mkdir(parents=True)
    (project / "evtools.toml").write_text('[sources]\nfact_events = "f.parquet"\n')
    assert find_config(project / "notebooks" / "deep") == project / "evtools.toml"
    # outside any project, a clone of evtools falls back to its committed sample
    assert find_config(tmp_path) == SAMPLE / "evtools.toml"
    monkeypatch.setattr(config_module, "_CLONE_SAMPLE", tmp_path / "absent.toml")
    with pytest.raises(ConfigError, match="no config file here or above"):
        find_config(tmp_path)
    monkeypatch.setenv(config_module.CONFIG_ENV, str(project / "evtools.toml"))
    assert find_config(tmp_path) == project / "evtools.toml"
    monkeypatch.chdir(tmp_path)
    assert load_config().path == (project / "evtools.toml").resolve()
    assert (
        load_config(project).path == (project / "evtools.toml").resolve()
    )  # a folder names its evtools.toml


def test_shipped_suites_and_notebooks_are_the_repositorys(sample_config):
    from evtools.analyses.expectations import _default_folder, default_suites
    from evtools.app.reports import default_notebooks

    assert sorted(p.name for p in default_suites().glob("*.json")) == sorted(
        p.name for p in (ROOT / "expectations").glob("*.json")
    )
    assert sorted(p.name for p in default_notebooks().glob("*.ipynb")) == sorted(
        p.name for p in (ROOT / "notebooks").glob("*.ipynb")
    )
    # the sample has no expectations/ of its own: evtools' suites apply
    assert _default_folder(sample_config) == default_suites()
