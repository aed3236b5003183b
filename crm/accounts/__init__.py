"""Accounts, roles, sign-in and the access rules every view declares."""
