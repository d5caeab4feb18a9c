"""The floor every app stands on: imports no app of the platform."""
