"""Great Expectations suites (``expectations/*.json``, GX 1.x) run by evtools on one date, or many in one pass.

Each suite is written with the canonical column names; each expectation's ``meta.batch`` names the frame it runs on.
The frames are computed by DuckDB where the data lies and are small (one date's rows, or aggregates of them), so GX's
pandas engine validates them in bounded memory. One date (the daily run) runs GX on each batch's frame of that date
(``per_date``); more than one date computes each batch's metrics for all of them at once and runs GX on one frame of
metrics per batch (``evtools.analyses.validate_all``), with the same results per date. Thresholds are settings, passed to GX
as suite parameters (``{"$PARAMETER": "max_duplicate_rows"}``), never stored in the JSON.
"""

from __future__ import annotations

import datetime as dt
import json
import logging
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path

import duckdb
import pandas as pd

from evtools.analyses import gx, validate_all
from evtools.analyses.quality import prepare, recommend_lookback
from evtools.core.config import Config
from evtools.core.errors import ConfigError, EvtoolsError
from evtools.engines import pipeline
from evtools.engines.aggfile import readable
from evtools.engines.queries import first_row, load_sql, quote_ident, run
from evtools.engines.sources import has_source, open_sources

log = logging.getLogger(__name__)
SUITES = ("fact_events", "api_daily", "dashboard", "agg_company_daily_events")


@dataclass(frozen=True)
class Validation:
    """One row per (suite, date, expectation): success, observed value, unexpected count, evidence."""

    results: pd.DataFrame
    docs: Path | None = None
    summary: dict = field(default_factory=dict)

    @property
    def success(self) -> bool:
        return bool(self.results["success"].all()) if len(self.results) else True

    def write(self, out: Path) -> None:
        out.mkdir(parents=True, exist_ok=True)
        (out / "validation.json").write_text(
            json.dumps(
                {"summary": self.summary, "results": self.results.to_dict(orient="records")},
                indent=2,
                default=str,
            )
            + "\n"
        )


def load_suite(folder: Path, name: str) -> dict:
    """A suite file, checked: a JSON object with a name and expectations that each name a known batch."""
    path = Path(folder) / f"{name}.json"
    if not path.is_file():
        raise ConfigError(f"{path}: suite file not found")
    try:
        suite = json.loads(path.read_text())
    except json.JSONDecodeError as e:
        raise ConfigError(f"{path}: not valid JSON: {e}") from e
    if not isinstance(suite, dict) or not isinstance(suite.get("expectations"), list):
        raise ConfigError(f"{path}: expected a GX suite object with an 'expectations' list")
    for i, exp in enumerate(suite["expectations"]):
        batch = (exp.get("meta") or {}).get("batch") if isinstance(exp, dict) else None
        if batch not in gx.BATCHES[name]:
            raise ConfigError(
                f"{path}: expectations[{i}].meta.batch: expected one of {', '.join(gx.BATCHES[name])}, found {batch!r}"
            )
        if "type" not in exp:
            raise ConfigError(f"{path}: expectations[{i}]: expected a 'type'")
    return suite


def parameters(config: Config, lookback: int, as_of: dt.datetime) -> dict:
    s = config.settings
    return {
        "max_duplicate_rows": s.max_duplicate_rows,
        "max_late_share": s.max_late_share,
        "freshness_hours": s.freshness_hours,
        "earliest_date": pd.Timestamp(s.earliest_date),
        "today": pd.Timestamp(as_of.date()),
        "lookback": lookback,
    }


def validate(
    config: Config,
    suites: tuple[str, ...] = SUITES,
    dates: list[dt.date] | None = None,
    folder: Path | None = None,
    docs: Path | None = None,
    as_of: dt.datetime | None = None,
    db: Path | None = None,
    progress: bool = False,
    one_pass: bool = True,
) -> Validation:
    """Run the suites on each date (default: the latest date of fact_events); build Data Docs into ``docs``;
    ``progress`` shows a bar of the dates (one date at a time) or of the batches (many dates in one pass) on stderr.
    Many dates run in one pass unless ``one_pass`` is false: then GX validates each date's frames, date by date, as
    for one date (the results are the same; one pass costs a few GROUP BYs instead of one query and GX run per
    date)."""
    folder = Path(folder) if folder else _default_folder(config)
    con = open_sources(config, check=False)
    try:  # the session's temporary tables (a validation of all dates keeps the repeated ids' payloads) go with it
        return _validate(con, config, suites, dates, folder, docs, as_of, db, progress, one_pass)
    finally:
        con.close()


def _validate(con, config, suites, dates, folder, docs, as_of, db, progress, one_pass) -> Validation:
    as_of = as_of or dt.datetime.now(dt.UTC).replace(tzinfo=None)
    if dates is None:
        dates = [con.execute(load_sql("last_date")).fetchall()[0][0]]
        if dates == [None]:
            return _empty_table(config, folder)
    many = one_pass and len(dates) > 1
    if many:  # every date: the shared passes (kept per state of the sources) give the lag curve and the payloads
        prepare(con, config)
        lag = run(con, "arrival_lag")
    else:  # one date: the lag curve alone, one GROUP BY
        lag = pipeline.fetch(con, pipeline.LAG_CURVE, {"offset_hours": None})
    lookback = recommend_lookback(lag, config.settings.coverage_target) or config.settings.lookback_days
    params = parameters(config, lookback, as_of)
    gx_ctx = gx._Gx(docs)
    attached = "agg_company_daily_events" in suites and _attach_aggregate(con, config, db)
    watermark = (first_row(con, "refresh_read_state") or (None, None))[1] if attached and many else None
    rows = []
    for name in suites:
        if name not in SUITES:
            raise EvtoolsError(f"validate --suite: expected one of {', '.join(SUITES)}, found '{name}'")
        if name in ("api_daily", "dashboard") and not has_source(con, name):
            continue
        if name == "agg_company_daily_events" and not attached:
            continue
        suite = load_suite(folder, name)
        if name != "fact_events":
            target = "agg.agg_company_daily_events" if name == "agg_company_daily_events" else name
            con.execute(f"CREATE OR REPLACE TEMP VIEW _gx_source AS SELECT * FROM {_qualified(target)}")
        if many:
            rows += validate_all.validate_suite(
                con, gx_ctx, name, suite, dates, params, as_of, progress, watermark
            )
        else:
            rows += gx.per_date(con, gx_ctx, name, suite["expectations"], dates, params, as_of, progress)
    results = pd.DataFrame(rows)
    failed = results[~results["success"]] if len(results) else results
    summary = {
        "dates": [str(d) for d in dates],
        "expectations": len(results),
        "failed": len(failed),
        "success": bool(results["success"].all()) if len(results) else True,
        "recommended_lookback_days": lookback,
        "failures": failed[
            ["suite", "date", "expectation", "column", "observed", "unexpected_count", "evidence"]
            + ["threshold", "seen", "meaning", "action"]
        ]
        .assign(observed=failed["seen"])
        .drop(columns="seen")
        .to_dict(orient="records")
        if len(failed)
        else [],
    }
    return Validation(results, gx_ctx.build_docs(), summary)


def _empty_table(config: Config, folder: Path) -> Validation:
    """An empty fact_events fails validation: one failed result saying so (GX has no date to validate), with the
    meaning and action of the suite's row count expectation."""
    where = config.source("fact_events").location
    counts = [e for e in load_suite(folder, "fact_events")["expectations"] if e["type"] == gx.ROW_COUNT]
    meta = counts[0].get("meta", {}) if counts else {}
    results = pd.DataFrame(
        [
            {
                "suite": "fact_events",
                "batch": "rows",
                "date": None,
                "expectation": gx.ROW_COUNT,
                "column": "",
                "success": False,
                "observed": 0,
                "unexpected_count": None,
                "evidence": f"fact_events ({where}) has no rows",
                "error": None,
                "threshold": "at least 1",
                "seen": "0",
                "meaning": meta.get("meaning", ""),
                "action": meta.get("action", ""),
            }
        ]
    )
    summary = {
        "dates": [],
        "expectations": 1,
        "failed": 1,
        "success": False,
        "recommended_lookback_days": config.settings.lookback_days,
        "failures": results.drop(columns=["batch", "success", "error", "observed"])
        .rename(columns={"seen": "observed"})
        .to_dict(orient="records"),
    }
    return Validation(results, None, summary)


def default_suites() -> Path:
    """The suites shipped with evtools (the repository's expectations/, carried into the package)."""
    return Path(str(resources.files("evtools").joinpath("suites")))


def _default_folder(config: Config) -> Path:
    """expectations/ beside the config when it holds suites (``evtools init`` writes it there), else evtools' own."""
    beside = config.root / "expectations"
    return beside if any(beside.glob("*.json")) else default_suites()


def _qualified(name: str) -> str:
    return ".".join(quote_ident(p) for p in name.split("."))


def _attach_aggregate(con: duckdb.DuckDBPyConnection, config: Config, db: Path | None) -> bool:
    path = Path(db) if db else config.aggregate_db
    if not path.is_file():
        return False
    con.execute("ATTACH $p AS agg (READ_ONLY)", {"p": str(readable(path))})  # the snapshot: never a writer's lock
    return True


