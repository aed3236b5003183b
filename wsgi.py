"""The WSGI entry point: `flask --app wsgi ...`, or gunicorn wsgi:app."""

import gc

from crm import create_app

app = create_app()

# What start-up made (modules, mappers, templates) lives as long as the process: keep it out of
# the garbage collector's full passes, which otherwise walk it all and showed as the slowest
# requests of the caseload table (p95 205 ms against a median of 86, province scale).
gc.freeze()
