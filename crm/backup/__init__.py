"""Backups: a consistent copy of the database with the stored photos and PDFs, checked and
recorded; restore into an empty instance; the nightly job that keeps a set number of days."""
