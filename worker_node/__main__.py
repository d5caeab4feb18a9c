"""`python -m worker_node worker -Q judge …`: Celery's command line for the remote
worker's app, with Django kept out from the first import (worker_node/celery.py).
`celery -A worker_node …` works too, but Celery's own command imports kombu, and
kombu imports parts of Django when it is installed, before the app is loaded."""

from __future__ import annotations

import sys

from worker_node.celery import app

if __name__ == "__main__":
    sys.exit(app.start(sys.argv[1:]))
