"""Bytewax dataflows: the only place that wires connectors to operators."""
