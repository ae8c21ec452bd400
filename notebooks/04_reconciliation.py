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
# # Why the dashboard disagrees with the API

# %% tags=["parameters"]
config: str = ""  # evtools config file; empty: $EVTOOLS_CONFIG, else evtools.toml here or above, else the sample
date_from: str = ""  # first date to compare, YYYY-MM-DD; empty: from the start
date_to: str = ""  # last date to compare, YYYY-MM-DD; empty: to the end
company_id: str = ""  # compare one company only; empty: all
drill_company: str = ""  # company of the key to drill into; empty: the worst key
drill_date: str = ""  # date of the key to drill into, YYYY-MM-DD
top: int = 10  # how many worst keys to list
report_dir: str = ""  # where the report is written (set by evtools report); full tables go there as csv

# %%
from IPython.display import display

from evtools.analyses import reconcile
from evtools.analyses.quality import Scope
from evtools.app import reports
from evtools.core.config import load_config
from evtools.engines.sources import open_sources
from evtools.present import plots, render, tables

cfg = load_config(config)
con = open_sources(cfg)
scope = Scope(company_id or None, reconcile.as_date(date_from) if date_from else None,
              reconcile.as_date(date_to) if date_to else None)
result = reconcile.reconcile(con, cfg, scope)
found = reports.record("reconcile", result.summary)
display(render.show(found))

# %% [markdown]
# For each company and date: difference = dashboard - API = drift + duplicates + corrections + late + residual,
# exactly (the definitions are at the end of the page).

# %%
display(plots.causes_bar(found))
display(plots.heatmap(result.frame(), ["delta"], "differences between the dashboard and the API", absolute=True))
display(render.table(reconcile.worst_keys(result, top), tables.RECONCILE_WORST, "reconciliation", report_dir))

# %% [markdown]
# ## Drill-down: one key, and the rows behind each part

# %%
key = reconcile.drill_key(result, drill_company, drill_date)
explained = reconcile.explain(open_sources(cfg), cfg, *key)
display(plots.waterfall(explained.waterfall))
display(render.evidence(explained, reconcile.ROLES, report_dir))

# %% [markdown]
# ## Definitions

# %%
display(render.quote(reconcile))
