"""Probes: one request to a student's endpoint, measured, its answer parsed."""
