"""What every app stands on (settings helpers, the Celery app, logs, accounts, API
and admin helpers, stores, throttles, secrets at rest): it imports no app, which
`lint-imports` checks. Importing the package loads nothing; the Celery app is
loaded by the site package (ppipe_site/__init__.py), so `celery -A ppipe_site`
finds it."""
