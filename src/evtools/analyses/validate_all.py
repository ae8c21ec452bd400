"""Many dates in one pass: each batch's metrics for every date from one GROUP BY date, checked by Great Expectations
on one small frame per (suite, batch).

The per-date path (``expectations.per_date``) hands GX one frame per (date, batch). Here the frames of a batch for
all the dates are one relation, ``_gx_batch`` (``sql/gx_*_all.sql``; restricted to a date it is that date's frame),
and each expectation becomes metrics of it per date, all computed by one query, plus an expectation on the frame of
metrics (one row per date) whose outcome on a date's row is the original's outcome on that date's frame:

- expect_column_values_to_not_be_null(c): "nulls of c" (null, or NaN in a float column) at most 0; the unexpected
  count is that metric. With mostly < 1: the share of non-null rows at least mostly.
- expect_column_values_to_be_between(c, min, max, strict_min, strict_max): "values of c outside [min, max]" at most
  0, missing values (null, NaN) not counted. With mostly < 1: in-range values / non-missing values at least mostly,
  no check on a date without non-missing values (GX's rule).
- expect_column_sum_to_be_between(c, ...): "sum of c" (0 on a date without values) between the same bounds; the
  observed value is that sum.
- expect_column_pair_values_to_be_equal(A, B): "rows where A differs from B" at most 0 (mostly: as above), on the
  dates where neither column is missing; a date with a missing value runs on the per-date path.
- expect_column_values_to_be_in_type_list(c, type_list): "dtype of c", the dtype the date's pandas frame would have.
  It follows from the column's type and whether the date has no rows, or all, some or none of its values null; GX
  judges one probe frame per such case, and the dtypes it accepts are the set the metric must lie in.
- expect_table_row_count_to_be_between(min, max): "row count" (0 on a date without rows) between the same bounds;
  the observed value is that count.

Suite parameters are resolved as GX resolves them. An expectation of another type, with an option the rewrite does
not model, or with bounds pandas would compare differently (text, dates given without a time, zoned timestamps)
runs on the per-date path, for that expectation only. Evidence is gathered for the failing dates only.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import logging
import math
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import duckdb
import pandas as pd
import pyarrow as pa
import sqlglot
from sqlglot import exp

from evtools.analyses import gx as gxm  # the module; ``gx`` below is the GX context (gxm._Gx)
from evtools.engines import base as engines
from evtools.engines import pipeline
from evtools.engines.queries import drop, execute, quote_ident, register

log = logging.getLogger(__name__)

# the per-date batch query -> the steps making _gx_batch for every date of _gx_dates
ALL_DATES = {
    "gx_fact_rows": ["gx_fact_rows_all"],
    "gx_fact_duplicates": ["gx_payloads_all", "gx_fact_duplicates_all"],
    "gx_fact_lateness": ["gx_fact_lateness_all"],
    "gx_fact_freshness": ["gx_fact_freshness_all"],
    "gx_keys": ["gx_keys_all"],
    "gx_rows": ["gx_rows_all"],
    "gx_agg_totals": pipeline.GX_AGG_TOTALS_ALL,
}
# what every date's batch steps find made: the sources, the dates, and the shared passes (expectations.validate runs
# quality.prepare before a validation of many dates)
GIVEN_ALL = gxm.GIVEN | {"_gx_dates"} | pipeline.made(pipeline.SHARED, frozenset())
# the order of a batch's rows in its per-date frame (sql/gx_*.sql), which orders the keys given as evidence
EVIDENCE_ORDER = {
    "duplicates": [("extra", True), ("company_id", False), ("event_id", False)],
    "keys": [("n", True)],
}
_INTEGERS = {"TINYINT", "SMALLINT", "INTEGER", "BIGINT"}
_NUMBERS = _INTEGERS | {"UTINYINT", "USMALLINT", "UINTEGER", "UBIGINT", "FLOAT", "DOUBLE"}
_FLOATS = {"FLOAT", "DOUBLE"}
_TIMES = {"DATE", "TIMESTAMP"}
_DTYPE_CASES = ("empty", "none null", "some null", "all null")


class Untranslatable(Exception):
    """The expectation (as configured) is not rewritten; it runs on the per-date path."""


@dataclass
class Rewrite:
    """One expectation of the suite (``index``) as metrics of ``_gx_batch`` per date and a check of them."""

    index: int
    expectation: dict
    label: str  # the column of the metrics frame the check reads
    check: dict  # the GX expectation on the metrics frame (type, kwargs)
    inner: dict[str, exp.Expression] = field(default_factory=dict)  # aggregates per date over _gx_batch
    outer: dict[str, exp.Expression] = field(default_factory=dict)  # metrics frame columns, from ``inner``
    unexpected: str | None = None  # the column holding the unexpected count
    observed: str | None = None  # the column holding the observed value
    untrusted: str | None = (
        None  # the column counting rows outside the rewrite's model: such dates run per date
    )
    evidence: exp.Expression | None = None  # the rows behind a failure (a condition on _gx_batch), if any
    dtype_of: str | None = None  # type list: the column whose dtype is checked


def validate_suite(
    con: duckdb.DuckDBPyConnection,
    gx: gxm._Gx,
    name: str,
    suite: dict,
    dates: list,
    params: dict,
    as_of: dt.datetime,
    progress: bool = False,
    watermark: dt.datetime | None = None,
) -> list[dict]:
    """The rows ``expectations.per_date`` gives for ``dates`` (in its order), each batch computed for all the dates
    at once; what is not rewritten runs per date. ``watermark``: the aggregate's, when one is validated (its totals
    are as of it)."""
    expectations = suite["expectations"]
    register(con, "_gx_dates", pa.table({"date": pa.array(sorted(set(dates)), pa.date32())}))
    batches = [b for b in gxm.BATCHES[name] if any(e["meta"]["batch"] == b for e in expectations)]
    found: dict[tuple[int, Any], dict] = {}
    fallback: dict[int, set] = {}
    for batch in _bar(batches, name, progress):
        start = time.perf_counter()
        rows, later = _batch(con, gx, name, batch, expectations, params, as_of, watermark)
        seconds = time.perf_counter() - start
        tag = f"{name}.{batch}"
        log.info(
            "%s: %d dates in %.2f s",
            tag,
            len(set(dates)),
            seconds,
            extra={"batch": tag, "batch_seconds": seconds},
        )
        found |= rows
        for index, days in later.items():
            fallback.setdefault(index, set()).update(days)
    found |= _per_date(con, gx, name, expectations, fallback, params, as_of)
    order = {b: i for i, b in enumerate(gxm.BATCHES[name])}
    by_day: dict[Any, list] = {}
    for index, day in found:
        by_day.setdefault(day, []).append(index)
    out = []
    for day in dates:
        for index in sorted(by_day.get(day, []), key=lambda i: (order[expectations[i]["meta"]["batch"]], i)):
            out.append(dict(found[(index, day)], date=str(day)))
    return out


def _batch(
    con, gx, name: str, batch: str, expectations: list[dict], params: dict, as_of, watermark
) -> tuple[dict, dict]:
    """Results per (expectation index, date) of one batch's rewritten expectations, and the dates each expectation
    leaves to the per-date path."""
    sql = gxm.BATCHES[name][batch]
    values = _Values()
    now = dt.datetime.now(dt.UTC).replace(tzinfo=None)  # the run's clock, as the per-date batch takes it
    given = {"lookback": params["lookback"], "as_of": as_of, "now": now, "until": watermark}
    with _relation(con, sql, given):
        types = dict(con.execute("SELECT column_name, column_type FROM (DESCRIBE _gx_batch)").fetchall())
        days = [r[0] for r in con.execute("SELECT date FROM _gx_dates ORDER BY date").fetchall()]
        rewrites, fallback = [], {}
        for index, expectation in enumerate(expectations):
            if expectation["meta"]["batch"] != batch:
                continue
            try:
                rewrites.append(rewrite(index, expectation, types, params, values))
            except Untranslatable as why:
                log.info("%s.%s: %s runs per date (%s)", name, batch, expectation["type"], why)
                fallback[index] = set(days)
        if not rewrites:
            return {}, fallback
        _label(rewrites)
        frame = con.execute(*metrics_query(rewrites, values)).df()
        frame["date"] = days
        for rw in rewrites:
            if rw.dtype_of:
                _dtypes(con, gx, f"{name}.{batch}.probe{rw.index}", rw, frame, params)
        checks = [
            dict(rw.check, meta={"batch": batch, "per_date": _original(rw.expectation)}) for rw in rewrites
        ]
        found = {}
        for rw, result in zip(
            rewrites, gx.results(f"{name}.{batch}.by_date", checks, frame, params), strict=True
        ):
            if (result.exception_info or {}).get("raised_exception"):
                fallback[rw.index] = set(days)
                continue
            failing = set((result.result or {}).get("unexpected_index_list") or [])
            untrusted = set(frame.index[frame[rw.untrusted] > 0]) if rw.untrusted else set()
            if untrusted:
                fallback[rw.index] = {days[i] for i in untrusted}
            failed = [days[i] for i in sorted(failing - untrusted)]
            evidence = _evidence(con, batch, rw, failed, types, values)
            for i in sorted(set(frame.index) - untrusted):
                found[(rw.index, days[i])] = _row(name, batch, rw, frame, i, i not in failing, evidence, params)
    return found, fallback


def _row(
    name: str, batch: str, rw: Rewrite, frame: pd.DataFrame, i: int, success: bool, evidence: dict, params: dict
) -> dict:
    unexpected = frame.at[i, rw.unexpected] if rw.unexpected else None
    unexpected = None if unexpected is None or pd.isna(unexpected) else int(unexpected)
    observed = frame.at[i, rw.observed] if rw.observed else None
    kwargs = rw.expectation.get("kwargs") or {}
    meta = rw.expectation.get("meta") or {}
    seen = "" if success else gxm._seen({"observed_value": observed} if observed is not None else {})
    if not success and not seen and unexpected:
        seen = f"{unexpected:,} rows"
    return {
        "suite": name,
        "batch": batch,
        "expectation": rw.expectation["type"],
        "column": gxm.column_label(kwargs),
        "success": success,
        "observed": observed,
        "unexpected_count": unexpected,
        "evidence": "" if success else evidence.get(frame.at[i, "date"], ""),
        "error": None,
        "threshold": gxm.threshold(rw.expectation["type"], kwargs, params),
        "seen": seen,
        "meaning": meta.get("meaning", ""),
        "action": meta.get("action", ""),
    }


def _per_date(con, gx, name: str, expectations: list[dict], fallback: dict[int, set], params, as_of) -> dict:
    """Results per (expectation index, date) of the per-date path for the dates each expectation was left with."""
    subsets: dict[tuple, list] = {}
    for day in sorted(set().union(*fallback.values())) if fallback else []:
        for batch in gxm.BATCHES[name]:
            chosen = tuple(
                i
                for i in sorted(fallback)
                if day in fallback[i] and expectations[i]["meta"]["batch"] == batch
            )
            if chosen:
                subsets.setdefault(chosen, []).append(day)
    found = {}
    for chosen, days in subsets.items():
        tag = "per_date_" + "_".join(map(str, chosen))
        rows = gxm.per_date(con, gx, name, [expectations[i] for i in chosen], days, params, as_of, tag=tag)
        for k, row in enumerate(rows):
            found[(chosen[k % len(chosen)], days[k // len(chosen)])] = row
    return found


@contextlib.contextmanager
def _relation(con, sql: str, values: dict) -> Iterator[None]:
    """``_gx_batch`` for every date of _gx_dates, dropped afterwards (the tables of ``pipeline.GX_SHARED`` are made
    once per connection and kept for the next batch that reads them). The aggregate's totals read the latest versions
    as of the aggregate's watermark (``values["until"]``, the same for every batch of a validation: a shared table
    made for one batch holds what the next needs)."""
    steps = ALL_DATES[sql]
    shared = [s for s in steps if s in pipeline.GX_SHARED]
    kept = pipeline.made(shared, frozenset())
    made = {name for name in kept if engines.of(con).exists(name)}
    try:
        pipeline.check(steps, GIVEN_ALL)
        for step in steps:
            if not pipeline.step(step).makes <= made:
                for name in pipeline.step(step).makes:
                    drop(con, name)  # one of the shared passes' tables or views of the same name (_versions)
                execute(con, step, values)
        yield
    finally:
        for name in pipeline.made(steps, frozenset()) - kept:
            drop(con, name)


def _dtypes(con, gx, tag: str, rw: Rewrite, frame: pd.DataFrame, params: dict) -> None:
    """The type-list check: per date, the dtype its frame's column would have and GX's result on a probe frame of
    that dtype (no rows; none, some or all of its values null); the dtypes GX accepts make the check."""
    c, m = rw.dtype_of, f"m{rw.index}"
    rows, present = frame["_rows"], frame[f"{m}_values"]
    cases = [
        "empty" if r == 0 else "none null" if p == r else "all null" if p == 0 else "some null"
        for r, p in zip(rows, present, strict=True)
    ]
    judged = {}
    for case in sorted(set(cases)):
        probe = con.execute(_probe(c, case).sql(dialect="duckdb")).df()
        result = gx.results(tag, [rw.expectation], probe, params, docs=False)[0]
        res = result.result or {}
        # a date whose values GX checks one by one (object columns) has a result of its own: per-date path
        by_value = res.get("unexpected_count") is not None and case in ("none null", "some null")
        raised = (result.exception_info or {}).get("raised_exception")
        judged[case] = (
            str(probe[c].dtype),
            bool(result.success),
            res.get("observed_value"),
            res.get("unexpected_count"),
            bool(raised or by_value),
        )
    outcomes: dict[str, set] = {}
    for dtype, success, *_ in judged.values():
        outcomes.setdefault(dtype, set()).add(success)
    frame[rw.label] = [judged[k][0] for k in cases]
    frame[f"{m}_observed"] = [judged[k][2] for k in cases]
    frame[f"{m}_unexpected"] = [judged[k][3] for k in cases]
    frame[f"{m}_untrusted"] = [int(judged[k][4] or len(outcomes[judged[k][0]]) > 1) for k in cases]
    rw.observed, rw.unexpected, rw.untrusted = f"{m}_observed", f"{m}_unexpected", f"{m}_untrusted"
    accepted = sorted(d for d, ok in outcomes.items() if ok == {True})
    rw.check = {
        "type": "expect_column_values_to_be_in_set",
        "kwargs": {"column": rw.label, "value_set": accepted},
    }


def _probe(column: str, case: str) -> exp.Expression:
    """A frame of ``column``'s type from _gx_batch: no rows, or one value, a null, or both."""
    c = _col(column)
    typed = sqlglot.select(c).from_("_gx_batch")
    value = typed.where(c.is_(exp.null()).not_()).limit(1)
    null = sqlglot.select(exp.alias_(exp.null(), _ident(column)))
    if case == "empty":
        return typed.limit(0)
    if case == "none null":
        return value
    if case == "all null":
        return exp.union(typed.limit(0).subquery(), null, distinct=False)
    return exp.union(value.subquery(), null, distinct=False)


def _evidence(con, batch: str, rw: Rewrite, days: list, types: dict, values: _Values) -> dict:
    """Per failing date, its evidence as ``expectations._evidence`` gives it: the lateness batch's sentence, else up
    to 10 company/date keys of the rows behind the failure, in the per-date frame's order."""
    if not days:
        return {}
    if batch == "rows":  # a date without rows: the per-date frame is empty
        present = {
            r[0]
            for r in con.execute(
                "SELECT DISTINCT date FROM _gx_batch WHERE list_contains($days, date)", {"days": days}
            ).fetchall()
        }
        empty = {d: gxm._evidence(pd.DataFrame(), {}, batch) for d in days if d not in present}
        if empty:
            return empty | _evidence(con, batch, rw, [d for d in days if d in present], types, values)
    if batch in ("lateness", "freshness"):  # one row per date: its sentence
        frame = con.execute("SELECT * FROM _gx_batch WHERE list_contains($days, date)", {"days": days}).df()
        rows = {d.date(): frame.iloc[[i]] for i, d in enumerate(pd.to_datetime(frame["date"]))}
        return {d: gxm._evidence(rows[d], {}, batch) for d in days if d in rows}
    condition = rw.evidence if rw.evidence is not None else exp.true() if batch in gxm.WHOLE_FRAME else None
    if condition is None or "company_id" not in types:
        return {}
    query = _evidence_query(batch, condition)
    keys = con.execute(query.sql(dialect="duckdb"), values.used(query) | {"days": days}).df()
    keys["day"] = [d.date() for d in pd.to_datetime(keys["date"])]
    return {day: gxm.keys_text(group) for day, group in keys.groupby("day", sort=False)}


def _evidence_query(batch: str, condition: exp.Expression) -> exp.Expression:
    """The first 10 distinct (date, company_id) per date of the rows of _gx_batch meeting ``condition`` on the
    dates $days, in the order of the batch's per-date frame: a company comes where its first row comes, the row whose
    sort key (the frame's order, nulls last) is the least, so one aggregation per (date, company_id) finds it."""
    order = [*EVIDENCE_ORDER.get(batch, []), ("company_id", False)]
    fields = []
    for i, (c, desc) in enumerate(order):  # the descending columns are counts: their negation sorts ascending
        value = exp.Neg(this=_col(c)) if desc else _col(c)
        missing = exp.Is(this=_col(c), expression=exp.null())
        fields.append(exp.PropertyEQ(this=exp.to_identifier(f"n{i}"), expression=missing))
        fields.append(exp.PropertyEQ(this=exp.to_identifier(f"v{i}"), expression=value))
    date, company = _col("date"), _col("company_id")
    first = (
        sqlglot.select(date, company, exp.alias_(exp.Min(this=exp.Struct(expressions=fields)), "o"))
        .from_("_gx_batch")
        .where(exp.and_(exp.func("list_contains", exp.Placeholder(this="days"), date), condition))
        .group_by(date, company)
    )
    again = exp.Window(
        this=exp.RowNumber(), partition_by=[date], order=exp.Order(expressions=[exp.Ordered(this=exp.column("o"))])
    )
    return (
        sqlglot.select(date, company)
        .from_(first.subquery("f"))
        .qualify(exp.LTE(this=again, expression=exp.Literal.number(10)))
        .order_by(date, exp.column("o"))
    )


def _bar(batches: list[str], suite: str, progress: bool):
    if not progress:
        return batches
    from tqdm.auto import tqdm

    return tqdm(batches, desc=f"validate {suite} (all dates)", unit="batch", leave=False)


# -- the rewrites ------------------------------------------------------------------------------------------------


def rewrite(index: int, expectation: dict, types: dict[str, str], params: dict, values: _Values) -> Rewrite:
    """``expectation`` as metrics of ``_gx_batch`` (whose columns have DuckDB ``types``) and a check of them;
    Untranslatable when the rewrite would not give GX's outcome."""
    kind = expectation["type"]
    if kind not in _REWRITES:
        raise Untranslatable(f"type {kind}")
    allowed, make = _REWRITES[kind]
    kwargs = expectation.get("kwargs") or {}
    extra = set(kwargs) - allowed
    if extra:
        raise Untranslatable(f"options {sorted(extra)}")
    resolved = {k: _resolve(v, params) for k, v in kwargs.items()}
    for column in (resolved.get(k) for k in ("column", "column_A", "column_B")):
        if column is not None and column not in types:
            raise Untranslatable(f"column {column!r} not in the batch")
    return make(index, expectation, resolved, types, values)


def _not_null(index, expectation, kw, types, values) -> Rewrite:
    c = kw["column"]
    m = f"m{index}"
    missing = _missing(c, types[c])
    rw = Rewrite(index, expectation, f"nulls of {c}", {}, evidence=missing)
    rw.inner = {f"{m}_nulls": exp.CountIf(this=missing), "_rows": exp.Count(this=exp.Star())}
    rw.outer[f"{m}_nulls"] = _zero(f"{m}_nulls")
    rw.unexpected = f"{m}_nulls"
    return _mostly(rw, kw, rw.unexpected, "_rows", f"share of {c} not null")


def _between(index, expectation, kw, types, values) -> Rewrite:
    c = kw["column"]
    m = f"m{index}"
    low, high = _bounds(kw, types[c], values)
    value = _value(c, types[c])
    outside = []
    if low is not None:
        outside.append(value <= low if kw.get("strict_min") else value < low)
    if high is not None:
        outside.append(value >= high if kw.get("strict_max") else value > high)
    missing = _missing(c, types[c])
    condition = exp.and_(exp.not_(missing), exp.or_(*outside))
    rw = Rewrite(
        index,
        expectation,
        f"values of {c} outside {_interval(expectation['kwargs'])}",
        {},
        evidence=condition,
    )
    rw.inner = {
        f"{m}_outside": exp.CountIf(this=condition),
        f"{m}_present": exp.CountIf(this=exp.not_(missing)),
    }
    rw.outer[f"{m}_outside"] = _zero(f"{m}_outside")
    rw.unexpected = f"{m}_outside"
    return _mostly(
        rw, kw, rw.unexpected, f"{m}_present", f"share of {c} within {_interval(expectation['kwargs'])}"
    )


def _sum(index, expectation, kw, types, values) -> Rewrite:
    c = kw["column"]
    if types[c] not in _INTEGERS:
        raise Untranslatable(f"sum of a {types[c]} column")
    _number_bounds(kw)
    label = f"sum of {c}"
    check = {
        k: kw[k] for k in ("min_value", "max_value", "strict_min", "strict_max") if kw.get(k) is not None
    }
    rw = Rewrite(index, expectation, label, _check_between(label, **check))
    rw.inner = {f"m{index}_sum": exp.cast(exp.Sum(this=_col(c)), "BIGINT")}
    rw.outer[label] = _zero(f"m{index}_sum")
    rw.observed = label
    return rw


def _pair(index, expectation, kw, types, values) -> Rewrite:
    a, b = kw["column_A"], kw["column_B"]
    ta, tb = types[a], types[b]
    if not ((_numeric(ta) and _numeric(tb)) or (ta == tb and ta in _TIMES | {"VARCHAR"})):
        raise Untranslatable(f"pair of {ta} and {tb}")
    if kw.get("ignore_row_if", "both_values_are_missing") not in (
        "both_values_are_missing",
        "either_value_is_missing",
        "neither",
    ):
        raise Untranslatable(f"ignore_row_if {kw['ignore_row_if']!r}")
    m = f"m{index}"
    differ = exp.NEQ(this=_value(a, ta), expression=_value(b, tb))
    rw = Rewrite(index, expectation, f"rows where {a} differs from {b}", {}, evidence=differ)
    rw.inner = {
        f"{m}_differ": exp.CountIf(this=differ),
        f"{m}_missing": exp.CountIf(this=exp.or_(_missing(a, ta), _missing(b, tb))),
        "_rows": exp.Count(this=exp.Star()),
    }
    rw.outer |= {f"{m}_differ": _zero(f"{m}_differ"), f"{m}_missing": _zero(f"{m}_missing")}
    rw.unexpected, rw.untrusted = f"{m}_differ", f"{m}_missing"
    return _mostly(rw, kw, rw.unexpected, "_rows", f"share of rows where {a} equals {b}")


def _type_list(index, expectation, kw, types, values) -> Rewrite:
    c = kw["column"]
    if not isinstance(kw.get("type_list"), list) or not all(isinstance(t, str) for t in kw["type_list"]):
        raise Untranslatable("type_list is not a list of names")
    label = f"dtype of {c}"
    rw = Rewrite(index, expectation, label, {}, dtype_of=c)
    rw.inner = {f"m{index}_values": exp.Count(this=_col(c)), "_rows": exp.Count(this=exp.Star())}
    rw.outer = {f"m{index}_values": _zero(f"m{index}_values"), "_rows": _zero("_rows")}
    return rw


def _number_bounds(kw: dict) -> None:
    """Untranslatable unless min_value and max_value are numbers (at least one given) in order."""
    bounds = {k: kw.get(k) for k in ("min_value", "max_value")}
    if all(v is None for v in bounds.values()):
        raise Untranslatable("no bounds")
    for v in bounds.values():
        if v is not None and not _number(v):
            raise Untranslatable(f"bound {v!r}")
    if None not in bounds.values() and bounds["min_value"] > bounds["max_value"]:
        raise Untranslatable("min_value above max_value")


def _row_count(index, expectation, kw, types, values) -> Rewrite:
    label = "row count"
    check = {k: kw[k] for k in ("min_value", "max_value") if kw.get(k) is not None}
    _number_bounds(kw)
    rw = Rewrite(index, expectation, label, _check_between(label, **check))
    rw.inner = {"_rows": exp.Count(this=exp.Star())}
    rw.outer[label] = _zero("_rows")
    rw.observed = label
    return rw


_BETWEEN = {"column", "min_value", "max_value", "strict_min", "strict_max"}
_REWRITES = {
    "expect_column_values_to_not_be_null": ({"column", "mostly"}, _not_null),
    "expect_column_values_to_be_between": (_BETWEEN | {"mostly"}, _between),
    "expect_column_sum_to_be_between": (_BETWEEN, _sum),
    "expect_column_pair_values_to_be_equal": ({"column_A", "column_B", "ignore_row_if", "mostly"}, _pair),
    "expect_column_values_to_be_in_type_list": ({"column", "type_list"}, _type_list),
    "expect_table_row_count_to_be_between": ({"min_value", "max_value"}, _row_count),
}


def _mostly(rw: Rewrite, kw: dict, unexpected: str, considered: str, share_label: str) -> Rewrite:
    """The check: the unexpected count at most 0, or with mostly < 1 the share of expected rows among the
    ``considered`` ones at least mostly (none considered: no check)."""
    mostly = kw.get("mostly")
    if mostly is not None and (not _number(mostly) or not 0 <= mostly <= 1):
        raise Untranslatable(f"mostly {mostly!r}")
    if mostly is None or mostly == 1:
        rw.outer[rw.label] = _zero(unexpected)
        rw.check = _check_between(rw.label, max_value=0)
        return rw
    rw.label = share_label
    n, u = _ref(considered), _ref(unexpected)
    ratio = exp.Div(this=exp.cast(exp.Sub(this=n, expression=u), "DOUBLE"), expression=exp.cast(n, "DOUBLE"))
    rw.outer[share_label] = exp.Case(
        ifs=[exp.If(this=exp.GT(this=_zero(considered), expression=exp.Literal.number(0)), true=ratio)]
    )
    rw.check = _check_between(share_label, min_value=mostly)
    return rw


def _check_between(column: str, **bounds) -> dict:
    return {"type": "expect_column_values_to_be_between", "kwargs": {"column": column, **bounds}}


def _bounds(kw: dict, type_: str, values: _Values) -> tuple:
    """The between bounds as bound values: numbers for a numeric column, naive timestamps for a date or timestamp."""
    low, high = kw.get("min_value"), kw.get("max_value")
    if low is None and high is None:
        raise Untranslatable("no bounds")
    for flag in ("strict_min", "strict_max"):
        if kw.get(flag) not in (None, True, False):
            raise Untranslatable(f"{flag} {kw[flag]!r}")
    if low is not None and high is not None and low > high:
        raise Untranslatable("min_value above max_value")
    out = []
    for v in (low, high):
        if v is None:
            out.append(None)
        elif _numeric(type_) and _number(v):
            out.append(values.bind(v))
        elif (
            type_ in _TIMES
            and isinstance(v, dt.datetime)
            and v.tzinfo is None
            and pd.Timestamp(v).nanosecond == 0
        ):
            out.append(values.bind(pd.Timestamp(v).to_pydatetime()))
        else:
            raise Untranslatable(f"bound {v!r} on a {type_} column")
    return tuple(out)


def _resolve(value, params: dict):
    if isinstance(value, dict) and set(value) == {"$PARAMETER"}:
        if value["$PARAMETER"] not in params:
            raise Untranslatable(f"parameter {value['$PARAMETER']!r} not given")
        return params[value["$PARAMETER"]]
    return value


def _number(v) -> bool:
    return (
        isinstance(v, int | float)
        and not isinstance(v, bool)
        and not (isinstance(v, float) and math.isnan(v))
    )


def _numeric(type_: str) -> bool:
    return type_ in _NUMBERS or type_.startswith("DECIMAL")


def _missing(column: str, type_: str) -> exp.Expression:
    """pandas' missing value: null, and NaN in a float column."""
    isnull = _col(column).is_(exp.null())
    return exp.or_(isnull, exp.func("isnan", _col(column))) if type_ in _FLOATS else isnull


def _value(column: str, type_: str) -> exp.Expression:
    """The column as pandas compares it: decimals become floats."""
    return exp.cast(_col(column), "DOUBLE") if type_.startswith("DECIMAL") else _col(column)


def _interval(kwargs: dict) -> str:
    def text(v, none):
        if v is None:
            return none
        return v["$PARAMETER"] if isinstance(v, dict) else str(v)

    low = text(kwargs.get("min_value"), "-inf")
    high = text(kwargs.get("max_value"), "inf")
    return (
        f"{'(' if kwargs.get('strict_min') else '['}{low}, {high}{')' if kwargs.get('strict_max') else ']'}"
    )


def _original(expectation: dict) -> dict:
    return {"type": expectation["type"], "kwargs": expectation.get("kwargs") or {}}


def _label(rewrites: list[Rewrite]) -> None:
    """Make the checked columns' names unique (a second check of the same metric gets " (2)")."""
    seen: dict[str, int] = {}
    for rw in rewrites:
        seen[rw.label] = seen.get(rw.label, 0) + 1
        if seen[rw.label] > 1:
            new = f"{rw.label} ({seen[rw.label]})"
            rw.outer[new] = rw.outer.pop(rw.label)
            rw.check = dict(rw.check, kwargs=dict(rw.check["kwargs"], column=new))
            rw.observed = new if rw.observed == rw.label else rw.observed
            rw.label = new


# -- SQL ---------------------------------------------------------------------------------------------------------


class _Values:
    """The values bound as parameters ($p0, $p1, ...) of a batch's queries."""

    def __init__(self) -> None:
        self.values: dict[str, Any] = {}

    def bind(self, value) -> exp.Expression:
        name = f"p{len(self.values)}"
        self.values[name] = value
        return exp.Placeholder(this=name)

    def used(self, query: exp.Expression) -> dict[str, Any]:
        """The values ``query`` names."""
        names = {p.name for p in query.find_all(exp.Placeholder)}
        return {k: v for k, v in self.values.items() if k in names}


def _col(name: str, table: str | None = None) -> exp.Expression:
    text = quote_ident(name) if table is None else f"{quote_ident(table)}.{quote_ident(name)}"
    return sqlglot.parse_one(text, read="duckdb")


def _ident(name: str) -> exp.Identifier:
    return _col(name).this


def _ref(alias: str) -> exp.Expression:
    return _col(alias, "m")


def _zero(alias: str) -> exp.Expression:
    return exp.func("coalesce", _ref(alias), exp.Literal.number(0))


def metrics_query(rewrites: list[Rewrite], values: _Values) -> tuple[str, dict]:
    """One row per date of _gx_dates (in order) with every rewrite's metrics, from one GROUP BY date over _gx_batch;
    a date without rows gets the metrics of an empty frame."""
    inner: dict[str, exp.Expression] = {}
    outer: dict[str, exp.Expression] = {}
    for rw in rewrites:
        inner |= rw.inner
        outer |= rw.outer
    per_date = (
        sqlglot.select(_col("date"), *(exp.alias_(e, _ident(a)) for a, e in inner.items()))
        .from_(_col("_gx_batch").this)
        .group_by(_col("date"))
    )
    query = (
        sqlglot.select(_col("date", "d"), *(exp.alias_(e, _ident(a)) for a, e in outer.items()))
        .from_(exp.alias_(exp.to_table("_gx_dates"), _ident("d")))
        .join(
            per_date.subquery(_ident("m")),
            on=exp.EQ(this=_col("date", "m"), expression=_col("date", "d")),
            join_type="LEFT",
        )
        .order_by(_col("date", "d"))
    )
    return query.sql(dialect="duckdb"), values.used(query)
