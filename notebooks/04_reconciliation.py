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
# # Dashboard vs API: every difference, split into its causes
#
# For each company and date: delta = dashboard - API = drift + duplicates + corrections + late + residual,
# exactly (the definitions are those of `evtools.reconcile`).

# %% tags=["parameters"]
config: str = ""  # evtools config file; empty: $EVTOOLS_CONFIG, else evtools.toml here or above, else the sample
date_from: str = ""  # first date to compare, YYYY-MM-DD; empty: from the start
date_to: str = ""  # last date to compare, YYYY-MM-DD; empty: to the end
company_id: str = ""  # compare one company only; empty: all
drill_company: str = ""  # company of the key to drill into; empty: the worst key
drill_date: str = ""  # date of the key to drill into, YYYY-MM-DD
top: int = 10  # how many worst keys to list

# %%
from IPython.display import Markdown, display

from evtools import narrative, plots, reports, reconcile
from evtools.config import load_config
from evtools.quality import Scope
from evtools.sources import open_sources

cfg = load_config(config)
con = open_sources(cfg)
scope = Scope(company_id or None, reconcile.as_date(date_from) if date_from else None,
              reconcile.as_date(date_to) if date_to else None)
result = reconcile.reconcile(con, cfg, scope)
display(Markdown(narrative.reconciliation(result.summary)))

# %%
fig = plots.causes_bar(result.summary)

# %%
frame = result.frame()
fig = plots.heatmap(frame.assign(abs_delta=frame["delta"].abs()), "abs_delta", "|dashboard - API| per company and date")

# %%
display(reconcile.worst_keys(result, top))

# %% [markdown]
# ## Drill-down: one key, and the rows behind each part

# %%
key = reconcile.drill_key(result, drill_company, drill_date)
explained = reconcile.explain(open_sources(cfg), cfg, *key)
display(Markdown(narrative.explanation(explained.waterfall)))
fig = plots.waterfall(explained.waterfall)

# %%
for role, what in reconcile.ROLES.items():
    rows = explained.evidence(role)
    if role != "counted" and len(rows):
        display(Markdown(f"**{what}**: {len(rows)} rows, {rows['events'].sum():,} events"))
        display(rows.drop(columns=["role"]).head(50))

# %%
reports.record("reconcile", result.summary)

# %% [markdown]
# ## Definitions

# %%
display(Markdown(narrative.definitions(reconcile)))
