"""Pipelines: a zip of steps described by pipeline.yaml, checked, planned and archived."""
