"""evtools: measure, explain and fix a slow daily events aggregation whose dashboard disagrees with its source.

The package is in layers, each importing only those below it (``tests/test_layers.py`` holds them to it)::

    app        cli, cliargs, project, reports, daily, notify
    present    results, conclusions, findings, plots, render, tables, output, runs_text
    analyses   profiling, layout, quality, reconcile, refresh, runs, validate, sample, ...
    engines    queries, pipeline, dialects, sources (DuckDB), spark, database, behind base.Engine
    core       config, schema, rules, errors, redact, fsutil, fmt

The names below, and every module by its short name (``from evtools import quality``, ``import
evtools.config``), load on first use, so ``evtools`` starts (and installs its signal handlers) before DuckDB is
imported.
"""

import importlib.abc
import importlib.util
import sys
from importlib import import_module

__all__ = [
    "CheckFailed",
    "Config",
    "ConfigError",
    "DataError",
    "EvtoolsError",
    "load_config",
    "open_sources",
]
__version__ = "0.1.0"
_HOME = {
    "Config": "evtools.core.config",
    "load_config": "evtools.core.config",
    "CheckFailed": "evtools.core.errors",
    "ConfigError": "evtools.core.errors",
    "DataError": "evtools.core.errors",
    "EvtoolsError": "evtools.core.errors",
    "open_sources": "evtools.engines.sources",
}
# every module's layer: ``evtools.<name>`` is ``evtools.<layer>.<name>`` (the engine interface is engines.base)
LAYERS = {
    "core": "config errors fmt fsutil redact rules schema",
    "engines": "aggfile base connect database dialects digest faults lake pipeline queries sources spark sqlfiles steplog "
    "store",
    "analyses": "changepoints dbt_model ddl expectations gx layout profiling quality reconcile refresh "
    "runlog runs runs_findings runs_read runs_sample sample scripts summary validate_all",
    "present": "conclusions findings output plots render results runs_text tables",
    "app": "cli cliargs daily notify project reports",
}
MODULES = {name: f"evtools.{layer}.{name}" for layer, names in LAYERS.items() for name in names.split()}
MODULES["engines"] = "evtools.engines"


def __getattr__(name: str):
    if name in _HOME:
        return getattr(import_module(_HOME[name]), name)
    if name in MODULES and name not in LAYERS:
        return import_module(MODULES[name])
    raise AttributeError(f"module 'evtools' has no attribute {name!r}")


class _ShortNames(importlib.abc.MetaPathFinder, importlib.abc.Loader):
    """``import evtools.quality`` and ``from evtools.config import load_config``: the module of that short name in its
    layer (the same module object, not a copy)."""

    def find_spec(self, fullname, path=None, target=None):
        prefix, _, name = fullname.partition(".")
        if prefix == "evtools" and name in MODULES and name not in LAYERS:
            return importlib.util.spec_from_loader(fullname, self)
        return None

    def create_module(self, spec):
        module = import_module(MODULES[spec.name.partition(".")[2]])
        self.own = module.__spec__  # the import system sets the alias's spec on the module: put its own back
        return module

    def exec_module(self, module):
        module.__spec__ = self.own


if not any(isinstance(f, _ShortNames) for f in sys.meta_path):
    sys.meta_path.append(_ShortNames())
