# ---
# jupyter:
#   jupytext:
#     formats: ipynb,py:percent
#   kernelspec:
#     display_name: Python 3
#     language: python
#     name: python3
# ---

# %% [markdown]
# # Duplicates, corrections, replays and late rows

# %% tags=["parameters"]
config: str = ""  # evtools config file; empty: $EVTOOLS_CONFIG, else evtools.toml here or above, else the sample
top: int = 10  # how many worst keys and replayed loads to list
report_dir: str = ""  # where the report is written (set by evtools report); full tables go there as csv

# %%
from IPython.display import display

from evtools.analyses import quality
from evtools.app import reports
from evtools.core.config import load_config
from evtools.engines.sources import open_sources
from evtools.present import plots, render, tables

cfg = load_config(config)
con = open_sources(cfg)
result = quality.analyse(con, cfg)
found = reports.record("quality", result.summary)
display(render.show(found))

# %% [markdown]
# Per company and date: what retries and replayed batches add, what corrections appended as new rows add, which rows
# arrived after the dashboard computed their date, and how far back an incremental job must look. The definitions are
# at the end of the page.
#
# ## Where the extra events lie

# %%
display(plots.heatmap(result.frame(), ["duplicate_excess", "correction_excess"], "events added by duplicates and corrections"))
display(render.table(quality.worst_keys(result, top), tables.QUALITY_WORST, "quality_by_company_date", report_dir))

# %% [markdown]
# ## How far back must an incremental job look?

# %%
display(render.late_paragraph(found))
display(plots.coverage_curve(result.arrival_lag, found.recommended_lookback_days, found.lookback_days,
                             found.coverage_target))

# %% [markdown]
# ## Replayed loads

# %%
display(plots.replayed_loads(result.replayed_loads, top))
display(render.table(result.replayed_loads, tables.REPLAYED_LOADS, "replayed_loads", report_dir, max_rows=top))

# %% [markdown]
# ## Why `SELECT DISTINCT` is not the fix
# One corrected event's rows: DISTINCT keeps one row per (company_id, date, event_id, events), so both the old and the
# new version survive; only the latest version per event_id is right.

# %%
display(render.table(quality.distinct_flaw_example(con, cfg), tables.DISTINCT_EXAMPLE))

# %% [markdown]
# ## Definitions

# %%
display(render.quote(quality))
