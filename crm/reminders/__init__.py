"""Reminders where people already are (企业微信, SMS, email): the instructor's morning digest and
the reviewer's weekly one, built from the records, queued in an outbox and sent exactly once."""
