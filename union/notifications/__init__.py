"""The one way to reach a member: an outbox row first, then a Celery task sends it."""
