"""Secrets never leave evtools: the webhook URL, a password in a database URL, any value registered here.

``scrub(text)`` replaces them with ``***``: every line the CLI prints, every log record (``ScrubFilter`` on the
handlers) and every record evtools writes (the run log) goes through it. What is scrubbed: the value of each variable
in ``ENV`` (the Slack webhook), values given to ``register``, the token path of a Slack webhook URL, and the password
of any URL of the form ``scheme://user:password@host``.
"""

from __future__ import annotations

import logging
import os
import re

ENV = ("SLACK_WEBHOOK_URL",)
MASK = "***"
_REGISTERED: set[str] = set()
_PATTERNS = (
    (re.compile(r"(hooks\.slack\.com/services/)[^\s'\"<>]+"), r"\1" + MASK),
    # scheme://user:password@host, also once a path has collapsed its // (scheme:/user:password@host)
    (re.compile(r"(\b[a-zA-Z][a-zA-Z0-9+.-]*:/{1,2}[^\s:/@'\"<>]*:)[^\s@/'\"<>]+(@)"), r"\1" + MASK + r"\2"),
)


def register(value: str | None) -> None:
    """Treat ``value`` as a secret from now on (values shorter than 6 characters are too common to mask)."""
    if value and len(value) >= 6:
        _REGISTERED.add(value)


def scrub(text: str) -> str:
    """``text`` without any secret."""
    if not isinstance(text, str) or not text:
        return text
    for value in sorted(_REGISTERED | {os.environ.get(name, "") for name in ENV} - {""}, key=len, reverse=True):
        if len(value) >= 6:
            text = text.replace(value, MASK)
    for pattern, replacement in _PATTERNS:
        text = pattern.sub(replacement, text)
    return text


class ScrubFilter(logging.Filter):
    """Scrub a log record's message (and its arguments) before any handler formats it."""

    def filter(self, record: logging.LogRecord) -> bool:
        record.msg = scrub(record.getMessage())
        record.args = None
        if record.exc_text:
            record.exc_text = scrub(record.exc_text)
        return True


def install_log_filter() -> None:
    """Put ``ScrubFilter`` on every handler of the root logger."""
    for handler in logging.getLogger().handlers:
        if not any(isinstance(f, ScrubFilter) for f in handler.filters):
            handler.addFilter(ScrubFilter())
