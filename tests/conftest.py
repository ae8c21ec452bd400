"""Shared fixtures.

``sample_dir`` is the committed sample (data/sample), made by ``evtools sample`` with its defaults; its injected
faults are listed per company/date in ``ground_truth.parquet`` and the replayed loads in
``ground_truth_loads.parquet``. Tests compare evtools' figures with those exactly.
"""

from __future__ import annotations

from pathlib import Path

import duckdb
import pandas as pd
import pytest

from evtools.config import load_config
from evtools.sources import open_sources

ROOT = Path(__file__).resolve().parents[1]
SAMPLE = ROOT / "data" / "sample"


@pytest.fixture(scope="session")
def sample_dir() -> Path:
    return SAMPLE


@pytest.fixture(scope="session")
def sample_config():
    return load_config(SAMPLE / "evtools.toml")


@pytest.fixture()
def sample_con(sample_config) -> duckdb.DuckDBPyConnection:
    con = open_sources(sample_config)
    yield con
    con.close()


@pytest.fixture(scope="session")
def truth() -> pd.DataFrame:
    return pd.read_parquet(SAMPLE / "ground_truth.parquet")


@pytest.fixture(scope="session")
def fact_frame() -> pd.DataFrame:
    """The whole (small) committed fact_events, for independent pandas recounts in tests only."""
    con = duckdb.connect()
    frame = con.execute(
        "SELECT * FROM read_parquet($p)", {"p": str(SAMPLE / "fact_events" / "*.parquet")}
    ).df()
    con.close()
    return frame


def write_config(folder: Path, text: str) -> Path:
    path = folder / "evtools.toml"
    path.write_text(text)
    return path
