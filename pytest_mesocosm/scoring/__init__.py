"""Scoring: per-episode values, aggregates with intervals, thresholds, the gate, baselines."""
