"""Running one benchmark module on its own (`python -m tests.bench.<name>` under
tests/with_services.sh): Django set up against a throwaway test database of its own."""

from __future__ import annotations

import logging
import os
from collections.abc import Iterator
from contextlib import contextmanager


@contextmanager
def fresh_test_database() -> Iterator[None]:
    """Set Django up, create a test database in the PostgreSQL of DATABASE_URL, and destroy
    it on exit. Without DATABASE_URL, says how to run the benchmark and exits with 2."""
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "union.settings")
    os.environ.setdefault("SOLIDAIRE_PLAIN_STATIC", "1")  # pages render without collectstatic
    if "DATABASE_URL" not in os.environ:
        print("The benchmark needs PostgreSQL: run it with tests/with_services.sh.")
        raise SystemExit(2)
    import django

    django.setup()
    logging.disable(logging.INFO)  # migrations and the CMS log every step
    from django.db import connection
    from django.test.utils import setup_test_environment, teardown_test_environment

    setup_test_environment()
    old_name = connection.settings_dict["NAME"]
    connection.creation.create_test_db(verbosity=0, autoclobber=True, keepdb=False, serialize=False)
    try:
        yield
    finally:
        connection.close()
        connection.creation.destroy_test_db(old_name, verbosity=0, keepdb=False)
        teardown_test_environment()
