"""The one exception type for broken business rules, so views can show them beside a field;
and the rules every record with a date shares: 补录, and the closed month."""

from datetime import date, datetime, timedelta

from flask import current_app

from crm import clock


class RuleError(ValueError):
    """A business rule refused an action. `message` is Chinese and meant for the user;
    `field` names the form field it belongs beside, when there is one."""

    field: str | None = None

    def __init__(self, message: str, field: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        if field is not None:
            self.field = field


def show_on_form(form, error: RuleError) -> None:
    """Put the rule's message beside its field, or above the form when it names none."""
    field = getattr(form, error.field, None) if error.field else None
    if field is None:
        form.form_errors.append(error.message)
    else:
        field.errors = [*field.errors, error.message]


def entered_late(happened: datetime | date, entered: datetime) -> bool:
    """补录: a record entered more than BACKFILL_DAYS after what it records happened (a visit by
    its time, a meeting by its day, counted from the start of that day in 赣州)."""
    if not isinstance(happened, datetime):
        happened = clock.local_midnight(happened)
    return entered - happened > timedelta(days=current_app.config["BACKFILL_DAYS"])


def in_closed_month(day: date) -> bool:
    """A record of a month that has ended (in 赣州) belongs to a closed month: its monthly
    report has been made, so a change to it is 补录, with a reason, and the next version of
    that month's report names it."""
    return day < clock.today().replace(day=1)
