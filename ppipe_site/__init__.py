# Connects its signal handlers in every control process (web, control worker,
# beat): database errors seen by control tasks pause the reapers.
import foundation.database_outages  # noqa: F401
from foundation.celery import app as celery_app

__all__ = ["celery_app"]
