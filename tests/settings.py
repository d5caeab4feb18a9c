"""Test settings: the real settings module, pointed at the test services.

The environment is set before ppipe_site.settings is imported, so the suite
checks the same environment-driven configuration a deployment uses; worker
processes started by tests inherit it.
"""

import os
import tempfile

from tests.services import provision_test_services

_services = provision_test_services()
TEST_SERVICES_ORIGIN = _services.origin
_var = tempfile.mkdtemp(prefix="ppipe-test-var-")
os.environ.update(
    {
        "DATABASE_URL": _services.database_url,
        "CELERY_BROKER_URL": _services.redis_url,
        "PPIPE_VAR_DIR": _var,
        "SECRET_KEY": "test-secret-key-not-for-production",
    }
)

from ppipe_site.settings import *  # noqa: E402, F403
from ppipe_site.settings import DATABASES  # noqa: E402

# One test database per run: two runs on one machine never drop each other's.
DATABASES["default"]["TEST"] = {"NAME": f"test_ppipe_{os.getpid()}"}
PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
# Pages render without `collectstatic`; the manifest storage is checked by the run-command test.
STORAGES = {
    **STORAGES,  # noqa: F405
    "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
}
WHITENOISE_AUTOREFRESH = True
# This run's throttle counts apart from another run's on the same Redis.
CACHES["throttles"]["KEY_PREFIX"] = f"ppipe-test-{os.getpid()}-throttle"  # noqa: F405
