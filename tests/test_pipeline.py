"""The SQL pipeline is explicit: each query file's declared reads and makes are what its statements really read and
make (derived here from the parse tree), and every pipeline the package runs reads only what an earlier step made."""

from __future__ import annotations

from importlib import resources

import pytest
import sqlglot
from sqlglot import exp

from evtools.analyses import validate_all
from evtools.engines import pipeline
from evtools.engines.queries import load_sql

NAMES = sorted(
    p.name[:-4]
    for p in resources.files("evtools").joinpath("sql").iterdir()
    if p.name.endswith(".sql") and not p.name.startswith("sample_") and p.name != "macros.sql"
)


def _name(table: exp.Table) -> str:
    return ".".join(p for p in (table.db, table.name) if p)


def derived(sql: str) -> tuple[set[str], set[str]]:
    """(reads, makes) of a script: tables created or written, and tables read that the script did not create
    first (a table it writes without creating must exist, so it is read too); CTEs and dropped tables aside."""
    created: list[str] = []
    written: set[str] = set()
    reads: set[str] = set()
    dropped: set[str] = set()
    for statement in sqlglot.parse(sql, read="duckdb"):
        if statement is None:
            continue
        if isinstance(statement, exp.Drop):
            dropped.add(_name(statement.this))
            continue
        ctes = {c.alias_or_name for c in statement.find_all(exp.CTE)}
        target = None
        if isinstance(statement, exp.Create):
            target = _name(statement.this.this if isinstance(statement.this, exp.Schema) else statement.this)
        elif isinstance(statement, exp.Insert | exp.Delete | exp.Update):
            node = statement.this.this if isinstance(statement.this, exp.Schema) else statement.this
            target = _name(node)
            written.add(target)
        for table in statement.find_all(exp.Table):
            name = _name(table)
            if name and name not in ctes and name != target and name not in created:
                reads.add(name)
        if isinstance(statement, exp.Create):
            created.append(target)
    reads |= written - set(created)
    return reads, (set(created) | written) - dropped


@pytest.mark.parametrize("name", NAMES)
def test_declared_reads_and_makes_are_the_real_ones(name):
    sql = load_sql(name)
    reads, makes = derived(sql)
    step = pipeline.step(name)
    assert set(step.reads) == reads, (
        f"sql/{name}.sql: declared reads {sorted(step.reads)}, found {sorted(reads)}"
    )
    assert set(step.makes) == makes, (
        f"sql/{name}.sql: declared makes {sorted(step.makes)}, found {sorted(makes)}"
    )


PIPELINES = {
    "quality": (pipeline.prepare(False, True) + pipeline.QUALITY, pipeline.SOURCES),
    "quality, scoped, no dashboard": (pipeline.prepare(True, False) + pipeline.QUALITY, pipeline.SOURCES),
    "reconcile with zones": (
        pipeline.prepare(False, True) + pipeline.RECONCILE + pipeline.timezones(True) + pipeline.CLASSIFY,
        pipeline.SOURCES | {pipeline.ZONES},
    ),
    "reconcile": (
        pipeline.prepare(False, True) + pipeline.RECONCILE + pipeline.timezones(False) + pipeline.CLASSIFY,
        pipeline.SOURCES,
    ),
    "explain": (
        pipeline.prepare(True, True)
        + pipeline.RECONCILE
        + pipeline.timezones(True)
        + pipeline.CLASSIFY
        + ["explain_rows"],
        pipeline.SOURCES | {pipeline.ZONES},
    ),
    "quality reports": (
        pipeline.prepare(False, True)
        + pipeline.QUALITY
        + ["arrival_lag", "replayed_loads", "quality_totals", "quality_worst", "distinct_flaw_example"],
        pipeline.SOURCES,
    ),
    "reconcile reports": (
        pipeline.prepare(False, True)
        + pipeline.RECONCILE
        + pipeline.timezones(False)
        + pipeline.CLASSIFY
        + ["reconcile_summary", "reconcile_causes", "reconcile_worst"],
        pipeline.SOURCES,
    ),
    "refresh full": (pipeline.REFRESH_FULL + ["refresh_counts_full"], pipeline.SOURCES),
    "refresh touched": (
        pipeline.REFRESH_FULL
        + pipeline.REFRESH_TOUCHED[:1]
        + ["refresh_missed"]
        + pipeline.REFRESH_TOUCHED[1:]
        + ["refresh_counts"],
        pipeline.SOURCES,
    ),
    "refresh backfill": (
        pipeline.REFRESH_FULL + pipeline.REFRESH_BACKFILL + ["refresh_counts_backfill"],
        pipeline.SOURCES,
    ),
    "refresh on a lakehouse, full": (
        pipeline.REFRESH_FULL[1:] + ["lake_counts_full"],
        pipeline.SOURCES | {"_full_agg"},
    ),
    "refresh on a lakehouse, touched": (
        [
            "refresh_new",
            "refresh_missed",
            "refresh_range_bounds",
            "refresh_ranges",
            "lake_lookup",
            *pipeline.REFRESH_TOUCHED[2:-1],
            "lake_touched_dates",
            "lake_agg_touched",
            "refresh_counts",
        ],
        pipeline.SOURCES | pipeline.AGGREGATE | {"_agg_touched"},
    ),
    "refresh lookback": (
        pipeline.REFRESH_FULL + pipeline.REFRESH_LOOKBACK + ["refresh_missed", "refresh_counts_lookback"],
        pipeline.SOURCES,
    ),
    "refresh verify": (
        pipeline.REFRESH_FULL + ["refresh_verify"],
        pipeline.SOURCES | {"live.agg_company_daily_events"},
    ),
    "gx totals": (pipeline.GX_AGG_TOTALS, pipeline.SOURCES | pipeline.AGGREGATE),
    **{
        f"gx {sql}, all dates": (steps, validate_all.GIVEN_ALL)
        for sql, steps in validate_all.ALL_DATES.items()
    },
}


@pytest.mark.parametrize("name", PIPELINES)
def test_every_pipeline_reads_only_what_was_made(name):
    steps, given = PIPELINES[name]
    pipeline.check(steps, given)


def test_a_step_reading_what_nothing_made_is_refused():
    with pytest.raises(pipeline.PipelineError, match="sql/reconcile_repeated.sql reads _versions"):
        pipeline.check(pipeline.prepare(False, True)[:-len(pipeline.SHARED)] + ["reconcile_repeated"])
    with pytest.raises(pipeline.PipelineError, match="reconcile_classify.sql reads _reconcile, _tz"):
        pipeline.check(["reconcile_classify"])
