"""The WSGI entry point: `flask --app wsgi ...`, or gunicorn wsgi:app."""

from crm import create_app

app = create_app()
