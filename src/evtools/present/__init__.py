"""The presentation layer: typed results, conclusions, findings, plots and the HTML, Slack and terminal renderers.

Imports the layers below it; computes no figure of its own.
"""
