"""The aggregate as a dbt incremental model, under evtools' own latest-version rule.

The model (``templates/dbt_incremental.sql.j2``) is dbt SQL with two parts filled in here: the canonical columns
from the user's (``evtools.engines.sources.canonical_select``, through the config's mapping) and the version ranking of
``sql/versions.sql``, the one place versions are ordered, transpiled to the adapter's dialect. Its table equals the
one ``evtools refresh`` keeps (tested with dbt-duckdb: a full run, then incremental ones).
"""

from __future__ import annotations

from importlib import resources
from pathlib import Path

from sqlglot import exp

from evtools.core.config import Source
from evtools.engines import dialects
from evtools.engines.sources import canonical_select

SOURCE = "{{ source('evtools', 'fact_events') }}"
_MARK = "evtools_fact_events_source"


def model(source: Source | None = None, dialect: str = "duckdb") -> str:
    """The model's text for fact_events mapped as ``source`` (default: canonical names), its SQL in ``dialect``."""
    source = source or Source("fact_events", "fact_events", Path("fact_events"))
    canonical = canonical_select(source, exp.table_(_MARK), None)
    versions = dialects.statements("versions", dialect)[-1].expression
    template = resources.files("evtools").joinpath("templates", "dbt_incremental.sql.j2").read_text("utf-8")
    return template.replace("@@CANONICAL@@", _indented(canonical, dialect).replace(_MARK, SOURCE)).replace(
        "@@VERSIONS@@", _indented(versions, dialect)
    )


def _indented(query: exp.Expression, dialect: str) -> str:
    text = dialects.generate(query, dialect, pretty=True)
    return "\n    ".join(text.splitlines())
