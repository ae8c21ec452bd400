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
# # Daily report

# %% tags=["parameters"]
config: str = ""  # evtools config file; empty: $EVTOOLS_CONFIG, else evtools.toml here or above, else the sample
run_date: str = ""  # the date to report on, YYYY-MM-DD; empty: the latest complete date of fact_events
window_days: int = 7  # the recent window to reconcile, in dates
as_of: str = ""  # the run's time for freshness, YYYY-MM-DD HH:MM; empty: the end of run_date
report_dir: str = ""  # where the report is written (set by evtools report); Data Docs go to its data_docs/
suites: str = ""  # the Great Expectations suites folder; empty: expectations/ beside the config, else evtools' own
wait: float = 0.0  # seconds to wait for a refresh another process is running

# %%
import datetime as dt
from pathlib import Path

from IPython.display import display

from evtools.app import daily, reports
from evtools.core.config import load_config
from evtools.present import plots, render, tables

cfg = load_config(config)
result = daily.run_daily(
    cfg,
    dt.date.fromisoformat(run_date) if run_date else None,
    window_days,
    dt.datetime.fromisoformat(as_of) if as_of else None,
    suites=Path(suites) if suites else None,
    docs=Path(report_dir) / "data_docs" if report_dir else None,
    wait=wait,
)
found = reports.record("daily", result.summary())
display(render.daily(found))

# %% [markdown]
# ## The recent window: dashboard vs API

# %%
display(render.show(found.window), plots.causes_bar(found.window))

# %% [markdown]
# ## Every expectation

# %%
display(render.table(tables.expectations(result.validation.results), tables.EXPECTATIONS, "expectations", report_dir, flag="failed",
                     max_rows=30))
display(render.docs_link(result.validation.docs))

# %% [markdown]
# ## Trend: refresh runs

# %%
display(plots.refresh_runs(result.runs))
