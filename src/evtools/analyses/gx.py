"""Great Expectations as evtools runs it: one ephemeral context, each suite's batches (the SQL that computes a
batch's frame per date), the per-date path, and what an expectation requires and found, in words.

``expectations.validate`` runs the suites on one date or many; ``validate_all`` computes many dates in one pass.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import logging
import os
import re
import sys
import warnings
from importlib import resources
from pathlib import Path

import duckdb
import pandas as pd

from evtools.engines import pipeline
from evtools.engines.queries import load_sql

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


def _bar(dates: list, suite: str, progress: bool):
    if not progress or len(dates) < 2:
        return dates
    from tqdm.auto import tqdm


    return tqdm(dates, desc=f"validate {suite}", unit="date", leave=False)


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


_EXTERNAL = re.compile(
    r"<script\b[^>]*>.*?</script>"  # every script: the pages are read, not run (and their libraries are remote)
    r"|<link\b[^>]*\bhref=[\"']https?://[^>]*>"  # stylesheets from a CDN
    r"|<img\b[^>]*\bsrc=[\"']https?://[^>]*>"  # the vendor's logo
    r"|<link\b[^>]*\brel=[\"']shortcut icon[^>]*>",  # an icon at a path the pages get wrong
    re.S | re.I,
)


def offline_docs(folder: str | Path) -> int:
    """Make Great Expectations Data Docs readable offline: remove every remote stylesheet, script and image from
    its pages and inline a stylesheet for the classes they use. Returns the number of pages rewritten."""
    css = resources.files("evtools").joinpath("templates", "data_docs.css").read_text(encoding="utf-8")
    style = f"<style>\n{css}</style>\n</head>"
    pages = 0
    for page in Path(folder).rglob("*.html"):
        text = page.read_text(encoding="utf-8")
        cleaned = _EXTERNAL.sub("", text).replace("</head>", style, 1)
        page.write_text(cleaned, encoding="utf-8")
        pages += 1
    return pages
