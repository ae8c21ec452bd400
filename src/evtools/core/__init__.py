"""The core layer: configuration, the canonical schema, the rules every figure rests on, errors, secrets, files.

Imports nothing else of evtools; every other layer may import it.
"""
