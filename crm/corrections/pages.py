"""The correction page every correctable record shares: the record's own form with a reason,
the withdrawal beneath it, and the versions so far."""

from flask import render_template

from crm.core.forms import form_status
from crm.corrections import services
from crm.corrections.forms import WithdrawForm
from crm.db import Withdrawable


def correction_page(
    record: Withdrawable,
    form,
    *,
    title: str,
    back: str,
    action: str,
    withdraw_action: str,
    withdraw_form: WithdrawForm | None = None,
):
    """The page, 422 when one of its forms was refused."""
    withdraw_form = withdraw_form or WithdrawForm(formdata=None)
    refused = form_status(form) == 422 or form_status(withdraw_form) == 422
    page = render_template(
        "corrections/edit.html",
        record=record,
        form=form,
        withdraw_form=withdraw_form,
        title=title,
        back=back,
        action=action,
        withdraw_action=withdraw_action,
        versions=services.history(record),
    )
    return page, 422 if refused else 200
