"""The analysis layer: profile, layout, quality, reconcile, refresh, runs, validate. Each returns typed results.

Imports ``evtools.engines`` and ``evtools.core``; never the presentation or the application.
"""
