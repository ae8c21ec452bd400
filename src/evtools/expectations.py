"""Great Expectations suites (``expectations/*.json``, GX 1.x) run by evtools, one date at a time.

Each suite is written with the canonical column names; each expectation's ``meta.batch`` names the frame it runs on.
The frames are computed by DuckDB where the data lies and are small (one date's rows, or aggregates of them), so GX's
pandas engine validates them in bounded memory. Thresholds are settings, passed to GX as suite parameters
(``{"$PARAMETER": "max_duplicate_rows"}``), never stored in the JSON.
"""

from __future__ import annotations

import datetime as dt
import json
import logging
import os
import warnings
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path

import duckdb
import pandas as pd

from evtools import pipeline
from evtools.config import Config
from evtools.errors import ConfigError, EvtoolsError
from evtools.quality import recommend_lookback
from evtools.queries import load_sql, quote_ident
from evtools.sources import has_source, open_sources

log = logging.getLogger(__name__)
SUITES = ("fact_events", "api_daily", "dashboard", "agg_company_daily_events")
BATCHES = {
    "fact_events": {
        "rows": "gx_fact_rows",
        "duplicates": "gx_fact_duplicates",
        "lateness": "gx_fact_lateness",
        "freshness": "gx_fact_freshness",
    },
    "api_daily": {"keys": "gx_keys", "rows": "gx_rows"},
    "dashboard": {"keys": "gx_keys", "rows": "gx_rows"},
    "agg_company_daily_events": {"keys": "gx_keys", "totals": "gx_agg_totals"},
}
STEPS = {"gx_agg_totals": pipeline.GX_AGG_TOTALS}  # batches computed by more than one step
GIVEN = pipeline.SOURCES | {"_gx_source"} | pipeline.AGGREGATE


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
        if batch not in BATCHES[name]:
            raise ConfigError(
                f"{path}: expectations[{i}].meta.batch: expected one of {', '.join(BATCHES[name])}, found {batch!r}"
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
) -> Validation:
    """Run the suites on each date (default: the latest date of fact_events); build Data Docs into ``docs``;
    ``progress`` shows a bar of the dates on stderr."""
    folder = Path(folder) if folder else _default_folder(config)
    con = open_sources(config, check=False)
    as_of = as_of or dt.datetime.now(dt.UTC).replace(tzinfo=None)
    if dates is None:
        dates = [con.execute(load_sql("last_date")).fetchall()[0][0]]
        if dates == [None]:
            return _empty_table(config)
    lag = pipeline.fetch(con, ["facts_all", "arrival_lag"])
    lookback = recommend_lookback(lag, config.settings.coverage_target) or config.settings.lookback_days
    params = parameters(config, lookback, as_of)
    gx_ctx = _Gx(docs)
    rows = []
    for name in suites:
        if name not in SUITES:
            raise EvtoolsError(f"validate --suite: expected one of {', '.join(SUITES)}, found '{name}'")
        if name in ("api_daily", "dashboard") and not has_source(con, name):
            continue
        if name == "agg_company_daily_events" and not _attach_aggregate(con, config, db):
            continue
        suite = load_suite(folder, name)
        if name != "fact_events":
            target = "agg.agg_company_daily_events" if name == "agg_company_daily_events" else name
            con.execute(f"CREATE OR REPLACE TEMP VIEW _gx_source AS SELECT * FROM {_qualified(target)}")
        for day in _bar(dates, name, progress):
            for batch, sql in BATCHES[name].items():
                expectations = [e for e in suite["expectations"] if e["meta"]["batch"] == batch]
                if not expectations:
                    continue
                steps = STEPS.get(sql, [sql])
                frame = pipeline.fetch(con, steps, _batch_params(con, sql, day, params, as_of), GIVEN)
                rows += gx_ctx.run(name, batch, day, expectations, frame, params)
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
        ].to_dict(orient="records")
        if len(failed)
        else [],
    }
    return Validation(results, gx_ctx.build_docs(), summary)


def _empty_table(config: Config) -> Validation:
    """An empty fact_events fails validation: one failed result saying so (GX has no date to validate)."""
    where = config.source("fact_events").location
    results = pd.DataFrame(
        [
            {
                "suite": "fact_events",
                "batch": "rows",
                "date": None,
                "expectation": "expect_table_row_count_to_be_between",
                "column": "",
                "success": False,
                "observed": 0,
                "unexpected_count": None,
                "evidence": f"fact_events ({where}) has no rows",
                "error": None,
            }
        ]
    )
    summary = {
        "dates": [],
        "expectations": 1,
        "failed": 1,
        "success": False,
        "recommended_lookback_days": config.settings.lookback_days,
        "failures": results.drop(columns=["batch", "success", "error"]).to_dict(orient="records"),
    }
    return Validation(results, None, summary)


def default_suites() -> Path:
    """The suites shipped with evtools (the repository's expectations/, carried into the package)."""
    return Path(str(resources.files("evtools").joinpath("suites")))


def _default_folder(config: Config) -> Path:
    """expectations/ beside the config when it holds suites (``evtools init`` writes it there), else evtools' own."""
    beside = config.root / "expectations"
    return beside if any(beside.glob("*.json")) else default_suites()


def _bar(dates: list, suite: str, progress: bool):
    if not progress or len(dates) < 2:
        return dates
    from tqdm.auto import tqdm

    return tqdm(dates, desc=f"validate {suite}", unit="date", leave=False)


def _qualified(name: str) -> str:
    return ".".join(quote_ident(p) for p in name.split("."))


def _attach_aggregate(con: duckdb.DuckDBPyConnection, config: Config, db: Path | None) -> bool:
    from evtools.refresh import readable

    path = Path(db) if db else config.aggregate_db
    if not path.is_file():
        return False
    con.execute("ATTACH $p AS agg (READ_ONLY)", {"p": str(readable(path))})  # the snapshot: never a writer's lock
    return True


def _batch_params(con, sql: str, day, params: dict, as_of) -> dict:
    values = {
        "date": day,
        "lookback": params["lookback"],
        "as_of": as_of,
        "now": dt.datetime.now(dt.UTC).replace(tzinfo=None),
    }
    if sql == "gx_agg_totals":
        values["watermark"] = con.execute(load_sql("refresh_read_state")).fetchall()[0][1]
    return values


class _Gx:
    """One ephemeral GX context: a pandas data source, an asset per (suite, batch), Data Docs on request."""

    def __init__(self, docs: Path | None):
        os.environ.setdefault("GX_ANALYTICS_ENABLED", "false")
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            import great_expectations as gx
        self.gx = gx
        # quiet GX: some of its modules set their own logger to INFO ("Created temporary directory ...")
        for name in [n for n in logging.root.manager.loggerDict if n.startswith("great_expectations")]:
            logging.getLogger(name).setLevel(logging.ERROR)
        logging.getLogger("great_expectations").setLevel(logging.ERROR)
        self.ctx = gx.get_context(mode="ephemeral")
        from great_expectations.data_context.types.base import ProgressBarsConfig

        self.ctx.variables.progress_bars = ProgressBarsConfig(globally=False, metric_calculations=False)
        self.source = self.ctx.data_sources.add_pandas("evtools")
        self.docs = docs
        self.checkpoints: dict = {}
        if docs:
            self.ctx.add_data_docs_site(
                site_name="evtools",
                site_config={
                    "class_name": "SiteBuilder",
                    "store_backend": {
                        "class_name": "TupleFilesystemStoreBackend",
                        "base_directory": str(docs),
                    },
                    "site_index_builder": {"class_name": "DefaultSiteIndexBuilder"},
                },
            )

    def run(
        self, suite_name: str, batch: str, day, expectations: list[dict], frame: pd.DataFrame, params: dict
    ) -> list[dict]:
        """Validate ``frame`` with the (suite, batch) expectations; the GX objects are made once per (suite, batch)
        and reused for every date, so memory stays flat however many dates run."""
        key = (suite_name, batch)
        if key not in self.checkpoints:
            self.checkpoints[key] = self._checkpoint(suite_name, batch, expectations)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            outcome = self.checkpoints[key].run(
                batch_parameters={"dataframe": frame}, expectation_parameters=dict(params)
            )
        rows = []
        for result in next(iter(outcome.run_results.values())).results:
            config = result.expectation_config
            res = result.result or {}
            rows.append(
                {
                    "suite": suite_name,
                    "batch": batch,
                    "date": str(day),
                    "expectation": config.type,
                    "column": config.kwargs.get("column")
                    or f"{config.kwargs.get('column_A', '')}={config.kwargs.get('column_B', '')}".strip("="),
                    "success": bool(result.success),
                    "observed": res.get("observed_value"),
                    "unexpected_count": res.get("unexpected_count"),
                    "evidence": "" if result.success else _evidence(frame, res, batch),
                    "error": (result.exception_info or {}).get("exception_message")
                    if not result.success
                    else None,
                }
            )
        return rows

    def _checkpoint(self, suite_name: str, batch: str, expectations: list[dict]):
        gx = self.gx
        tag = f"{suite_name}.{batch}"
        asset = self.source.add_dataframe_asset(name=tag)
        batch_def = asset.add_batch_definition_whole_dataframe("batch")
        suite = self.ctx.suites.add(
            gx.ExpectationSuite(
                name=tag,
                expectations=[
                    {"type": e["type"], "kwargs": e["kwargs"], "meta": e.get("meta", {})}
                    for e in expectations
                ],
            )
        )
        definition = self.ctx.validation_definitions.add(
            gx.ValidationDefinition(name=tag, data=batch_def, suite=suite)
        )
        actions = [gx.checkpoint.UpdateDataDocsAction(name="docs")] if self.docs else []
        return self.ctx.checkpoints.add(
            gx.Checkpoint(
                name=tag,
                validation_definitions=[definition],
                actions=actions,
                result_format={"result_format": "COMPLETE", "partial_unexpected_count": 10},
            )
        )

    def build_docs(self) -> Path | None:
        if not self.docs:
            return None
        index = Path(self.docs) / "index.html"
        return index if index.exists() else None


def _evidence(frame: pd.DataFrame, res: dict, batch: str) -> str:
    """The company/dates behind a failure: from the unexpected rows, or the batch's own offending rows."""
    if batch == "rows" and frame.empty:
        return "no rows on this date"
    if batch == "freshness" and len(frame) and frame["future_rows"].iloc[0]:
        return f"{int(frame['future_rows'].iloc[0])} rows stamped later than the run's clock"
    if batch == "lateness" and len(frame):
        r = frame.iloc[0]
        return (
            f"{int(r['late_rows'])} of {int(r['rows'])} rows of {pd.Timestamp(r['date']).date()} arrived late"
        )
    idx = res.get("unexpected_index_list") or res.get("partial_unexpected_index_list") or []
    rows = (
        frame.loc[[i for i in idx if i in frame.index]]
        if idx
        else frame
        if batch in ("duplicates", "keys")
        else None
    )
    if rows is None or rows.empty or "company_id" not in rows:
        return ""
    keys = rows[["company_id", "date"]].drop_duplicates().head(10)
    return "; ".join(f"{r.company_id}/{pd.Timestamp(r.date).date()}" for r in keys.itertuples())
