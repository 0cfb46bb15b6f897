"""Workloads: YAML parsing (spec), model library, lowering to an op graph."""
