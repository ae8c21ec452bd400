"""evtools: measure, explain and fix a slow daily events aggregation whose dashboard disagrees with its source."""

from evtools.config import Config, load_config
from evtools.errors import CheckFailed, ConfigError, DataError, EvtoolsError
from evtools.sources import open_sources

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
