"""The one exception type for broken business rules, so views can show them beside a field."""


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
