"""Great Expectations suites (``expectations/*.json``, GX 1.x) run by evtools on one date, or many in one pass.

Each suite is written with the canonical column names; each expectation's ``meta.batch`` names the frame it runs on.
The frames are computed by DuckDB where the data lies and are small (one date's rows, or aggregates of them), so GX's
pandas engine validates them in bounded memory. One date (the daily run) runs GX on each batch's frame of that date
(``per_date``); more than one date computes each batch's metrics for all of them at once and runs GX on one frame of
metrics per batch (``evtools.analyses.validate_all``), with the same results per date. Thresholds are settings, passed to GX
as suite parameters (``{"$PARAMETER": "max_duplicate_rows"}``), never stored in the JSON.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import json
import logging
import os
import sys
import warnings
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path

import duckdb
import pandas as pd

from evtools.analyses.quality import recommend_lookback
from evtools.core.config import Config
from evtools.core.errors import ConfigError, EvtoolsError
from evtools.engines import pipeline
from evtools.engines.queries import first_row, load_sql, quote_ident
from evtools.engines.sources import has_source, open_sources

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
WHOLE_FRAME = ("duplicates", "keys")  # batches whose every row is the evidence of a failed aggregate
ROW_COUNT = "expect_table_row_count_to_be_between"
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
    lag = pipeline.fetch(con, ["facts_all", "arrival_lag"])
    lookback = recommend_lookback(lag, config.settings.coverage_target) or config.settings.lookback_days
    params = parameters(config, lookback, as_of)
    gx_ctx = _Gx(docs)
    attached = "agg_company_daily_events" in suites and _attach_aggregate(con, config, db)
    many = one_pass and len(dates) > 1
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
            from evtools.analyses import validate_all

            rows += validate_all.validate_suite(
                con, gx_ctx, name, suite, dates, params, as_of, progress, watermark
            )
        else:
            rows += per_date(con, gx_ctx, name, suite["expectations"], dates, params, as_of, progress)
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


def per_date(
    con: duckdb.DuckDBPyConnection,
    gx_ctx: _Gx,
    name: str,
    expectations: list[dict],
    dates: list,
    params: dict,
    as_of: dt.datetime,
    progress: bool = False,
    tag: str = "",
) -> list[dict]:
    """Today's path: GX on each date's frame of each batch, for ``expectations`` (of suite ``name``); ``tag`` names
    the GX objects of a subset of the suite's expectations."""
    rows = []
    for day in _bar(dates, name, progress):
        for batch, sql in BATCHES[name].items():
            chosen = [e for e in expectations if e["meta"]["batch"] == batch]
            if not chosen:
                continue
            steps = STEPS.get(sql, [sql])
            frame = pipeline.fetch(con, steps, _batch_params(con, sql, day, params, as_of), GIVEN)
            rows += gx_ctx.run(name, batch, day, chosen, frame, params, tag)
    return rows


def _empty_table(config: Config, folder: Path) -> Validation:
    """An empty fact_events fails validation: one failed result saying so (GX has no date to validate), with the
    meaning and action of the suite's row count expectation."""
    where = config.source("fact_events").location
    counts = [e for e in load_suite(folder, "fact_events")["expectations"] if e["type"] == ROW_COUNT]
    meta = counts[0].get("meta", {}) if counts else {}
    results = pd.DataFrame(
        [
            {
                "suite": "fact_events",
                "batch": "rows",
                "date": None,
                "expectation": ROW_COUNT,
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


def _bar(dates: list, suite: str, progress: bool):
    if not progress or len(dates) < 2:
        return dates
    from tqdm.auto import tqdm

    return tqdm(dates, desc=f"validate {suite}", unit="date", leave=False)


def _qualified(name: str) -> str:
    return ".".join(quote_ident(p) for p in name.split("."))


def _attach_aggregate(con: duckdb.DuckDBPyConnection, config: Config, db: Path | None) -> bool:
    from evtools.analyses.refresh import readable

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


# What great_expectations imports when it is installed, which evtools never needs through it: pyspark and
# pyspark.sql.connect (the latter, imported under a __main__ without a file, as in `python -c` or a pytest-xdist
# worker, ends the process with exit code 0 and nothing done when grpc is missing; it is named on its own because
# pyspark itself may be imported already, by the Spark engine in the same process), rfc3987_syntax (jsonschema builds its grammar on import: 2.1 of GX's 5.5 s to import) and
# sqlalchemy (GX's SQL data sources: 0.4-0.6 s of the import; evtools' sql engine imports it on its own).
GX_SKIPS = ("pyspark", "pyspark.sql.connect", "rfc3987_syntax", "sqlalchemy")


@contextlib.contextmanager
def _absent(names: tuple[str, ...]):
    """The modules ``names`` import as missing (ImportError) within the block, unless they are imported already;
    importable again after it."""
    absent = [n for n in names if n not in sys.modules]
    for name in absent:
        sys.modules[name] = None
    try:
        yield
    finally:
        for name in absent:
            if name in sys.modules and sys.modules[name] is None:
                del sys.modules[name]


class _Gx:
    """One ephemeral GX context: a pandas data source, an asset per (suite, batch), Data Docs on request."""

    def __init__(self, docs: Path | None):
        os.environ.setdefault("GX_ANALYTICS_ENABLED", "false")
        with warnings.catch_warnings(), _absent(GX_SKIPS):
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
        self.recorded: list = []  # the identifiers of the results and suites Data Docs shows, built once at the end
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
        self,
        suite_name: str,
        batch: str,
        day,
        expectations: list[dict],
        frame: pd.DataFrame,
        params: dict,
        tag: str = "",
    ) -> list[dict]:
        """Validate ``frame`` with the (suite, batch) expectations; the GX objects are made once per (suite, batch)
        (and ``tag``) and reused for every date, so memory stays flat however many dates run."""
        rows = []
        for result in self.results(".".join(filter(None, (suite_name, batch, tag))), expectations, frame, params):
            config = result.expectation_config
            res = result.result or {}
            meta = config.meta or {}
            rows.append(
                {
                    "suite": suite_name,
                    "batch": batch,
                    "date": str(day),
                    "expectation": config.type,
                    "column": column_label(config.kwargs),
                    "success": bool(result.success),
                    "observed": res.get("observed_value"),
                    "unexpected_count": res.get("unexpected_count"),
                    "evidence": "" if result.success else _evidence(frame, res, batch),
                    "error": (result.exception_info or {}).get("exception_message")
                    if not result.success
                    else None,
                    "threshold": threshold(config.type, config.kwargs, params),
                    "seen": "" if result.success else _seen(res),
                    "meaning": meta.get("meaning", ""),
                    "action": meta.get("action", ""),
                }
            )
        return rows

    def results(self, tag: str, expectations: list[dict], frame: pd.DataFrame, params: dict, docs: bool = True):
        """GX's results for ``expectations`` on ``frame``, in their order (GX groups them by column); the GX objects
        named ``tag`` are made on first use (recording into Data Docs when ``docs``) and reused."""
        if tag not in self.checkpoints:
            self.checkpoints[tag] = self._checkpoint(tag, expectations)
        checkpoint, order = self.checkpoints[tag]
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            outcome = checkpoint.run(batch_parameters={"dataframe": frame}, expectation_parameters=dict(params))
        (identifier, result), *_ = outcome.run_results.items()
        if self.docs and docs:
            from great_expectations.data_context.types.resource_identifiers import ExpectationSuiteIdentifier

            self.recorded += [identifier, ExpectationSuiteIdentifier(name=tag)]
        return sorted(result.results, key=lambda r: order[r.expectation_config.id])

    def _checkpoint(self, tag: str, expectations: list[dict]):
        gx = self.gx
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
        checkpoint = self.ctx.checkpoints.add(
            gx.Checkpoint(
                name=tag,
                validation_definitions=[definition],
                actions=[],
                result_format={"result_format": "COMPLETE", "partial_unexpected_count": 10},
            )
        )
        return checkpoint, {e.id: i for i, e in enumerate(suite.expectations)}

    def build_docs(self) -> Path | None:
        """Data Docs of the recorded results, rendered once (a docs update after every run re-renders the site's
        index each time: 14 s of 61 s over 365 dates)."""
        if not self.docs:
            return None
        if self.recorded:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                self.ctx.build_data_docs(
                    site_names=["evtools"], resource_identifiers=set(self.recorded)
                )
        index = Path(self.docs) / "index.html"
        if not index.exists():
            return None
        from evtools.present.render import offline_docs

        offline_docs(self.docs)
        return index


def threshold(kind: str, kwargs: dict, params: dict) -> str:
    """What an expectation requires, in words, with its suite parameters resolved: "at most 36", "no nulls"."""

    def value(v):
        v = params.get(v["$PARAMETER"], v) if isinstance(v, dict) and "$PARAMETER" in v else v
        if isinstance(v, pd.Timestamp | dt.datetime):
            return str(v.date())
        if isinstance(v, float) and v.is_integer():
            v = int(v)
        return f"{v:,}" if isinstance(v, int | float) and not isinstance(v, bool) else str(v)

    low, high = kwargs.get("min_value"), kwargs.get("max_value")
    if kind == "expect_column_values_to_not_be_null":
        return "no empty values"
    if kind == "expect_column_values_to_be_in_type_list":
        return "an integer type"
    if kind == "expect_column_pair_values_to_be_equal":
        return "equal values"
    what = "sum " if kind == "expect_column_sum_to_be_between" else ""
    if low is not None and high is not None:
        return f"{what}between {value(low)} and {value(high)}"
    if high is not None:
        return f"{what}at most {value(high)}"
    if low is not None:
        return f"{what}at least {value(low)}"
    return kind.removeprefix("expect_").replace("_", " ")


def _seen(res: dict) -> str:
    """The observed value of a failed expectation: its observed value, else the first unexpected values."""
    observed = res.get("observed_value")
    if observed is not None:
        return _number(observed)
    values = res.get("partial_unexpected_list") or []
    if values:
        shown = ", ".join(_number(v) for v in values[:3])
        more = (res.get("unexpected_count") or len(values)) - min(len(values), 3)
        return shown + (f" and {more:,} more" if more > 0 else "")
    return ""


def _number(v) -> str:
    if isinstance(v, float):
        return f"{v:,.1f}"
    if isinstance(v, int) and not isinstance(v, bool):
        return f"{v:,}"
    return str(v)


def column_label(kwargs: dict) -> str:
    """The column an expectation names in the results: its column, or column_A=column_B."""
    return kwargs.get("column") or f"{kwargs.get('column_A', '')}={kwargs.get('column_B', '')}".strip("=")


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
        if batch in WHOLE_FRAME
        else None
    )
    return keys_text(rows)


def keys_text(rows: pd.DataFrame | None) -> str:
    """Up to 10 company/date keys of ``rows``, in their order: "1001/2026-01-05; ..."; a missing value is "null"
    (whichever of None, NaN or NA the frame holds)."""
    if rows is None or rows.empty or "company_id" not in rows:
        return ""
    keys = rows[["company_id", "date"]].drop_duplicates().head(10)
    return "; ".join(f"{_shown(r.company_id)}/{_shown(r.date, day=True)}" for r in keys.itertuples())


def _shown(value, day: bool = False) -> str:
    if pd.isna(value):
        return "null"
    return str(pd.Timestamp(value).date()) if day else str(value)
