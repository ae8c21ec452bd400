"""The application layer: the command line, project init, reports, the daily run and notifications.

The top: imports any layer, imported by none (but ``evtools.__main__``).
"""
