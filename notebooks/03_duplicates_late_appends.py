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
# # Duplicates, corrections, replays and late appends
#
# Per company and date: what retries and replayed batches add, what corrections appended as new rows add, which rows
# arrived after the dashboard computed their date, and how far back an incremental job must look.
# The definitions are those of `evtools.quality` (run `help(quality)` to read them).

# %% tags=["parameters"]
config: str = ""  # evtools config file; empty: $EVTOOLS_CONFIG, else evtools.toml here or above, else the sample
top: int = 10  # how many worst keys and replayed loads to list

# %%
from IPython.display import Markdown, display

from evtools import narrative, plots, reports, quality
from evtools.config import load_config
from evtools.sources import open_sources

cfg = load_config(config)
con = open_sources(cfg)
result = quality.analyse(con, cfg)
display(Markdown(narrative.quality(result.summary)))

# %% [markdown]
# ## Where the excess lies

# %%
by_key = result.frame()
fig = plots.heatmap(
    by_key.assign(excess=by_key["duplicate_excess"] + by_key["correction_excess"]),
    "excess",
    "Events added by duplicates and corrections, per company and date",
)

# %%
display(quality.worst_keys(result, top))

# %% [markdown]
# ## How far back must an incremental job look?

# %%
fig = plots.coverage_curve(
    result.arrival_lag, result.summary["recommended_lookback_days"], result.summary["configured_lookback_days"]
)

# %% [markdown]
# ## Replayed loads

# %%
if len(result.replayed_loads):
    fig = plots.replayed_loads(result.replayed_loads, top)
display(result.replayed_loads.head(top))

# %% [markdown]
# ## Why `SELECT DISTINCT` is not the fix
# One corrected event's rows: DISTINCT keeps one row per (company_id, date, event_id, events), so both the old and the
# new version survive; only the latest version per event_id is right.

# %%
display(quality.distinct_flaw_example(con, cfg))

# %%
reports.record("quality", result.summary)

# %% [markdown]
# ## Definitions

# %%
display(Markdown(narrative.definitions(quality)))
