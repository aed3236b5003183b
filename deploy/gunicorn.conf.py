"""gunicorn settings for one web server (docs/deploy.md): `gunicorn -c deploy/gunicorn.conf.py wsgi:app`."""

import multiprocessing
import os

# A private address (or unix:/run/crm/web.sock), never 0.0.0.0: only nginx talks to gunicorn.
bind = os.environ.get("CRM_BIND", "127.0.0.1:8000")
# Sync workers: each request is short and the database does the waiting.
workers = int(os.environ.get("CRM_WORKERS", multiprocessing.cpu_count() * 2 + 1))
worker_class = "sync"
timeout = 120  # an Excel import or a report made on demand
graceful_timeout = 30
max_requests = 2000  # a worker is replaced now and then, so no leak grows for ever
max_requests_jitter = 200
preload_app = True  # the app is built once, before the workers fork
accesslog = "-"
access_log_format = '%(h)s "%(r)s" %(s)s %(b)s %(D)sus'
forwarded_allow_ips = os.environ.get("CRM_FORWARDED_ALLOW_IPS", "127.0.0.1")
