"""Celery, tuned for at-least-once delivery. Postgres is the record of what must be sent;
the broker only speeds delivery up."""

from .env import env_float, env_int, env_str

CELERY_BROKER_URL = env_str("CELERY_BROKER_URL", env_str("REDIS_URL", "redis://127.0.0.1:6379/0"))
# kombu's Redis transport with the fix that lets a worker survive a Redis restart while it holds
# unacknowledged tasks (origami/broker.py). Any other broker URL keeps its own transport.
CELERY_BROKER_TRANSPORT = (
    "origami.broker:Transport" if CELERY_BROKER_URL.startswith(("redis://", "rediss://")) else None
)
CELERY_RESULT_BACKEND = None
CELERY_TASK_IGNORE_RESULT = True
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_TASK_SERIALIZER = "json"
CELERY_ACCEPT_CONTENT = ["json"]
CELERY_TIMEZONE = "Europe/Paris"
# A task not acknowledged within this time is delivered again by Redis; retry delays kept in the
# submission row stay far below it.
CELERY_BROKER_TRANSPORT_OPTIONS = {
    "visibility_timeout": env_int("CELERY_VISIBILITY_TIMEOUT", 3600),
    "socket_connect_timeout": 2,
    "socket_timeout": 2,
    # A publish whose connection is gone connects once and fails, instead of kombu's retry loop
    # (`default_channel` -> `retry_over_time` for `broker_connection_timeout`, sleeping 2 s
    # between tries: 6 s per enqueue while Redis is down). The workers' consumer is not
    # affected: it passes `broker_connection_max_retries` itself and keeps reconnecting.
    # Enqueues from a web request go through origami.celery.enqueue_within_budget, which also
    # bounds a broker that accepts connections and never answers.
    "max_retries": 0,
}
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
# Workers log through Django's LOGGING (key=value lines with ids, exception types only), not
# Celery's own format.
CELERY_WORKER_HIJACK_ROOT_LOGGER = False
# Celery's Django fixup closes the database connection before and after every task unless this
# is set: a new PostgreSQL connection (and backend process) per task. With it, the connection is
# only recycled every this many tasks; origami/celery.py applies CONN_MAX_AGE and the health
# checks around each task, as Django does around each request.
CELERY_DB_REUSE_MAX = env_int("CELERY_DB_REUSE_MAX", 1000)
CELERY_BEAT_SCHEDULE: dict[str, dict[str, object]] = {
    # Re-enqueue due submissions whose task was lost (prescriptions/delivery.py).
    "submissions-sweep": {
        "task": "prescriptions.submissions_sweep",
        "schedule": env_float("ORIGAMI_SUBMISSION_SWEEP_SECONDS", 30.0),
    },
    # Follow-up (prescriptions/followup_tasks.py): dispensing poll, due cancellations.
    "dispensing-poll": {
        "task": "prescriptions.dispensing_poll",
        "schedule": env_float("ORIGAMI_DISPENSING_POLL_SECONDS", 300.0),
    },
    "cancellations-sweep": {
        "task": "prescriptions.cancellations_sweep",
        "schedule": env_float("ORIGAMI_CANCELLATION_SWEEP_SECONDS", 30.0),
    },
}
