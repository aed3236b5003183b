"""What the `flask` commands share."""

from datetime import date

import click


class BadInputError(click.ClickException):
    """Bad input: a message, and exit code 2."""

    exit_code = 2


def parse_day(text: str) -> date:
    """A YYYY-MM-DD date, or BadInputError in Chinese."""
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise BadInputError(f"日期“{text}”应写成 YYYY-MM-DD，例如 2026-10-09。") from None
