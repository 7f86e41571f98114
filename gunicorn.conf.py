"""gunicorn's settings for the production image and Docker Compose (`gunicorn -c gunicorn.conf.py
origami.wsgi:application`).

The access log never records a query string nor a Referer (which carries the previous page's
query string): URLs may carry search terms, and the log is not a place for patient data. Each
line carries the request id the app logs under, to join the two."""

import os

bind = os.environ.get("GUNICORN_BIND", "0.0.0.0:8000")
workers = int(os.environ.get("GUNICORN_WORKERS", "3"))
timeout = int(os.environ.get("GUNICORN_TIMEOUT", "30"))
accesslog = "-"
# %(U)s is the path without its query string; %(r)s (the request line) and %(q)s would carry it.
access_log_format = (
    '%(h)s %(t)s "%(m)s %(U)s %(H)s" %(s)s %(b)s %(L)s request_id=%({x-request-id}o)s'
)
