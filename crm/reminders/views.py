from flask import (
    Blueprint,
    abort,
    current_app,
    flash,
    redirect,
    render_template,
    request,
    url_for,
)
from flask_login import current_user

from crm import clock
from crm.accounts.models import Account, Role
from crm.core import workdays
from crm.core.access import allow, signed_in
from crm.core.forms import form_status, submit
from crm.core.lists import paginate, search_text
from crm.core.masking import mask_phone, unmasked
from crm.extensions import db
from crm.reminders import channels, schedule, services
from crm.reminders.forms import ChoiceForm, SettingsForm
from crm.reminders.models import Channel, MessageKind, MessageState

bp = Blueprint("reminders", __name__)

RECENT = 20


@bp.route("/account/reminders", methods=["GET", "POST"])
@signed_in
def mine():
    """Each account's own channels and digests, and what was sent to it."""
    return _choices(current_user._get_current_object(), url_for(".mine"))


@bp.route("/reminders/accounts/<int:account_id>", methods=["GET", "POST"])
@allow(Role.ADMIN)
def account(account_id: int):
    """The admin sets someone's 企业微信 account or address (a message given up for an unknown
    userid links here), as that person would at their own page."""
    found = db.session.get(Account, account_id) or abort(404)
    return _choices(found, url_for(".account", account_id=account_id))


def _choices(account: Account, here: str):
    choice = services.choice_of(account)
    form = ChoiceForm(obj=choice, channels=choice.chosen)
    if request.method == "GET" and not current_user.is_admin:
        form.mobile.data = mask_phone(choice.mobile)  # shown masked, kept unless retyped
    saved = submit(
        form,
        lambda: services.save_choice(
            account,
            channels=form.channels.data or [],
            wecom_userid=form.wecom_userid.data,
            mobile=unmasked(form.mobile.data, choice.mobile) or "",
            email=form.email.data,
            daily=form.daily.data,
            weekly=form.weekly.data,
        ),
    )
    if saved:
        flash("提醒设置已保存。", "success")
        return redirect(here, 303)
    sent = db.session.scalars(services.messages(account=account).limit(RECENT)).all()
    page = render_template(
        "reminders/mine.html",
        form=form,
        messages=sent,
        account=account,
        own=account.id == current_user.id,
        instructor_phone=services.instructor_phone(account),
    )
    return page, form_status(form)


@bp.route("/reminders/", methods=["GET", "POST"])
@allow(Role.ADMIN)
def settings():
    """The organization's switches, which channels the deployment has configured (never a
    secret), and how the calendar stands."""
    stored = services.settings()
    form = SettingsForm(obj=stored, channels=stored.enabled)
    saved = submit(
        form,
        lambda: services.save_settings(
            channels=form.channels.data or [],
            daily=form.daily.data,
            weekly=form.weekly.data,
            stuck_days=form.stuck_days.data,
        ),
    )
    if saved:
        flash("提醒设置已保存。", "success")
        return redirect(url_for(".settings"), 303)
    configured = channels.configured(current_app.config)
    today = clock.today()
    page = render_template(
        "reminders/settings.html",
        form=form,
        configured={channel: channel in configured for channel in Channel},
        sms_templates=[
            (kind, current_app.config[f"SMS_TEMPLATE_{kind.value.upper()}"]) for kind in MessageKind
        ],
        notes=schedule.notes(today),
        calendar_known=workdays.is_known(today.replace(month=12, day=31)),
        given_up=services.given_up(),
    )
    return page, form_status(form)


@bp.route("/reminders/outbox")
@allow(Role.ADMIN)
def outbox():
    """What was sent, to whom, and what failed, newest first."""
    state = MessageState.parse(request.args.get("state"))
    channel = Channel.parse(request.args.get("channel"))
    page = paginate(services.messages(state=state, channel=channel, q=search_text()))
    return render_template(
        "reminders/outbox.html",
        page=page,
        state=state,
        channel=channel,
        q=search_text(),
        states=MessageState,
        channels=Channel,
    )
