"""The evtools exception family. The CLI turns each into one line and an exit code."""

from __future__ import annotations


class EvtoolsError(Exception):
    """Bad input or usage the user can fix: exit code 2."""

    exit_code = 2


class ConfigError(EvtoolsError):
    """The config file is missing, unreadable or holds an unknown key or a value of the wrong type."""


class DataError(EvtoolsError):
    """A source is missing, lacks a mapped column, has a column of the wrong type, or null keys."""


class CheckFailed(EvtoolsError):
    """A check ran and found offending rows (a failed expectation, a verification difference): exit code 1."""

    exit_code = 1


class EngineError(EvtoolsError):
    """The engine or the environment failed (a database that cannot be reached, a statement it refused): exit 3."""

    exit_code = 3


class ConcurrentRun(EvtoolsError):
    """Another process holds the lock on the aggregate database."""
