from uuid import uuid4

from flask import (
    Blueprint,
    abort,
    flash,
    redirect,
    render_template,
    request,
    url_for,
)
from flask_login import current_user

from crm import clock
from crm.accounts.models import Role
from crm.assignments.services import visible_branch
from crm.audit import services as audit
from crm.cards import services
from crm.cards.forms import (
    AssessmentForm,
    ConfirmForm,
    EntryEditForm,
    EntryForm,
    GoalCardForm,
    GoalEditForm,
    GoalForm,
    LinkConfirmForm,
    NoteEditForm,
    NoteForm,
    RatingForm,
    UnlockForm,
)
from crm.cards.models import ConfirmationLink, Goal, GoalCard, GoalNote, VanguardEntry
from crm.core.access import allow, public, signed_in
from crm.core.forms import form_status, options, shown_again, submit
from crm.core.pdf import render_pdf
from crm.core.qr import qr_data_uri
from crm.core.security import limiter, link_rate
from crm.corrections import services as corrections
from crm.corrections.forms import WithdrawForm
from crm.corrections.pages import correction_page
from crm.extensions import db
from crm.http import answer_saved, whole_number, year_arg
from crm.members.services import members_of, secretary_of, visible_member

bp = Blueprint("cards", __name__)


# --- 履职目标卡 ---------------------------------------------------------------------------------


@bp.route("/branches/<int:branch_id>/goal-card", methods=["GET", "POST"])
@signed_in
def goal_card(branch_id: int):
    """The branch secretary's goal card for a year; its instructor opens it if there is none."""
    branch = visible_branch(current_user, branch_id) or abort(404)
    year = year_arg(clock.today().year)
    secretary = secretary_of(branch.id)
    card = services.goal_card(secretary.id, year) if secretary else None
    if card is not None:
        return _card_page(card)
    form = GoalCardForm() if services.keeps_cards(current_user, branch.id) else None
    if form is not None and request.method == "GET":
        form.year.data = year

    def open_card():
        return services.open_goal_card(secretary, form.year.data, form.new_goals())

    if form is not None and secretary is not None:
        card = submit(form, open_card)
    if card:
        flash(f"已建立 {card.year} 年履职目标卡。", "success")
        return redirect(url_for(".goal_card", branch_id=branch.id, year=card.year), 303)
    if request.method == "POST" and form is None:
        abort(403)
    page = render_template(
        "cards/goal_card_new.html",
        branch=branch,
        secretary=secretary,
        year=year,
        form=form,
        all_cards=services.cards_of_branch(branch.id),
        current_year=clock.today().year,
    )
    return page, form_status(form) if form else 200


@bp.route("/goal-cards/<int:card_id>")
@signed_in
def card(card_id: int):
    """One goal card, of any year and any secretary the branch has had."""
    return _card_page(_visible_card(card_id))


@bp.route("/goal-cards/<int:card_id>.pdf")
@signed_in
def goal_card_pdf(card_id: int):
    """The 党组织书记履职目标卡 on A4: goals, progress, self-assessment, rating, signatures."""
    card = _visible_card(card_id)
    pdf = render_pdf("cards/goal_card_pdf.html", card=card, printed=clock.now())
    return _pdf(
        pdf,
        f"履职目标卡-{card.branch.name}-{card.member.name}-{card.year}.pdf",
        "goal_card",
        card.id,
    )


def _card_page(card: GoalCard, status: int = 200, **forms):
    editable = not card.locked and services.keeps_cards(current_user, card.branch_id)
    defaults = {
        "goal_form": GoalForm() if editable else None,
        "note_form": NoteForm(on=clock.today()) if editable else None,
        "assessment_form": AssessmentForm(obj=card) if editable else None,
        "rating_form": RatingForm() if editable and card.self_assessment else None,
        "unlock_form": UnlockForm()
        if card.locked and current_user.has_role(Role.REVIEWER)
        else None,
    }
    page = render_template(
        "cards/goal_card.html",
        card=card,
        all_cards=services.cards_of_branch(card.branch_id),
        goal_versions=corrections.traces("goal", [g.id for g in card.goals]),
        note_versions=corrections.traces("goal_note", [n.id for n in card.notes]),
        keeps=services.keeps_cards(current_user, card.branch_id),
        year_end=services.year_end_opens(card.year),
        today=clock.today(),
        **(defaults | forms),
    )
    return page, status


def _visible_card(card_id: int) -> GoalCard:
    card = db.session.get(GoalCard, card_id)
    if card is None or visible_branch(current_user, card.branch_id) is None:
        abort(404)
    return card


def _card_change(card_id: int, form_name: str, form, action, done: str):
    """One change to a goal card from one of its forms: saved, or shown again with why not."""
    card = _visible_card(card_id)
    if not services.keeps_cards(current_user, card.branch_id):
        abort(403)
    if submit(form, lambda: action(card)):
        flash(done, "success")
        return redirect(url_for(".goal_card", branch_id=card.branch_id, year=card.year), 303)
    return _card_page(card, 422, **{form_name: form})


@bp.route("/goal-cards/<int:card_id>/goals", methods=["POST"])
@allow(Role.INSTRUCTOR, Role.ADMIN)
def add_goal(card_id: int):
    form = GoalForm()
    return _card_change(
        card_id,
        "goal_form",
        form,
        lambda card: services.add_goal(
            card, services.NewGoal(form.title.data, form.target.data or "", form.measure.data or "")
        ),
        "已添加目标。",
    )


@bp.route("/goal-cards/<int:card_id>/notes", methods=["POST"])
@allow(Role.INSTRUCTOR, Role.ADMIN)
def add_note(card_id: int):
    form = NoteForm()
    return _card_change(
        card_id,
        "note_form",
        form,
        lambda card: services.add_note(card, on=form.on.data, text=form.text.data, by=current_user),
        "已记录进展。",
    )


@bp.route("/goal-cards/<int:card_id>/assessment", methods=["POST"])
@allow(Role.INSTRUCTOR, Role.ADMIN)
def assess(card_id: int):
    form = AssessmentForm()
    return _card_change(
        card_id,
        "assessment_form",
        form,
        lambda card: services.self_assess(card, form.self_assessment.data or ""),
        "已保存年终自评。",
    )


@bp.route("/goal-cards/<int:card_id>/rating", methods=["POST"])
@allow(Role.INSTRUCTOR)
def rate(card_id: int):
    form = RatingForm()
    return _card_change(
        card_id,
        "rating_form",
        form,
        lambda card: services.rate(
            card, form.rating.data, form.comment.data or "", by=current_user
        ),
        "已评定，目标卡已锁定。",
    )


@bp.route("/goal-cards/<int:card_id>/unlock", methods=["POST"])
@allow(Role.REVIEWER)
def unlock(card_id: int):
    card = _visible_card(card_id)
    form = UnlockForm()
    if submit(form, lambda: services.unlock(card, form.reason.data or "", by=current_user)):
        flash("已解锁，指导员可以修改。", "success")
        return redirect(url_for(".goal_card", branch_id=card.branch_id, year=card.year), 303)
    return _card_page(card, 422, unlock_form=form)


# --- 先锋储绩卡 ---------------------------------------------------------------------------------


@bp.route("/branches/<int:branch_id>/entries/new", methods=["GET", "POST"])
@allow(Role.INSTRUCTOR, Role.ADMIN)
def create_entry(branch_id: int):
    """Bank a member's deed, from a phone as quickly as a visit, and only once."""
    branch = visible_branch(current_user, branch_id) or abort(404)
    form = EntryForm()
    present = members_of(branch.id)
    form.member_id.choices = options(
        [("", "请选择党员")] + [(m.id, f"{m.name}（{m.role.label}）") for m in present]
    )
    low, high = services.points_bounds()
    if request.method == "GET":
        form.client_key.data, form.done_on.data = uuid4().hex, clock.today()
        chosen = request.args.get(
            "member_id", type=whole_number
        )  # only a member still here, else nobody
        form.member_id.data = chosen if chosen in {m.id for m in present} else None
        form.points.data = low
    elif done := services.entry_by_key(current_user.id, form.client_key.data or ""):
        return _entry_answer(done)
    entry = submit(
        form,
        lambda: services.add_entry(
            services.member_for_entry(branch, form.member_id.data),
            _new_entry(form),
            by=current_user,
        ),
    )
    if entry:
        return _entry_answer(entry)
    return shown_again(form, "cards/entry_form.html", branch=branch, low=low, high=high)


def _new_entry(form: EntryForm) -> services.NewEntry:
    return services.NewEntry(
        form.client_key.data,
        form.done_on.data,
        form.deed.data,
        form.category.data,
        form.points.data,
    )


def _entry_answer(entry: VanguardEntry):
    member = entry.card.member
    return answer_saved(
        url_for("members.detail", member_id=member.id, year=entry.card.year),
        url_for("members.detail", member_id=member.id, year=entry.card.year),
        "储绩记录已登记，确认后计入积分。",
    )


@bp.route("/entries/<int:entry_id>/confirm", methods=["POST"])
@allow(Role.REVIEWER, Role.ADMIN)
def confirm(entry_id: int):
    entry = db.session.get(VanguardEntry, entry_id)
    member = entry and visible_member(current_user, entry.card.member_id)
    if member is None:
        abort(404)
    if not current_user.has_role(*services.CONFIRMERS):
        abort(403)
    form = ConfirmForm()
    if submit(form, lambda: services.confirm(entry, by=current_user)):
        flash("已确认，计入积分。", "success")
    else:
        flash("；".join(form.form_errors) or "确认失败，请重试。", "warning")
    return redirect(url_for("members.detail", member_id=member.id, year=entry.card.year), 303)


# --- corrections and withdrawals (crm.corrections) ---------------------------------------------


def _kept(record, branch_id: int):
    """A record of a branch the user may see (else 404) and keeps the cards of (else 403)."""
    if record is None or visible_branch(current_user, branch_id) is None:
        abort(404)
    if not services.keeps_cards(current_user, branch_id):
        abort(403)
    return record


def _goal(goal_id: int) -> tuple[Goal, GoalCard]:
    goal = db.session.get(Goal, goal_id)
    card = goal and db.session.get(GoalCard, goal.card_id)
    return _kept(goal, card.branch_id if card else 0), card


def _note(note_id: int) -> tuple[GoalNote, GoalCard]:
    note = db.session.get(GoalNote, note_id)
    card = note and db.session.get(GoalCard, note.card_id)
    return _kept(note, card.branch_id if card else 0), card


def _entry(entry_id: int) -> VanguardEntry:
    entry = db.session.get(VanguardEntry, entry_id)
    member = entry and visible_member(current_user, entry.card.member_id)
    return _kept(entry, member.branch_id if member else 0)


def _correction(record, form, endpoint: str, title: str, back: str, withdraw_form=None):
    """The shared correction page of one of the cards' records; `endpoint` names its pair of
    routes ("goal" → .edit_goal and .withdraw_goal)."""
    return correction_page(
        record,
        form,
        title=title,
        back=back,
        action=url_for(f".edit_{endpoint}", **{f"{endpoint}_id": record.id}),
        withdraw_action=url_for(f".withdraw_{endpoint}", **{f"{endpoint}_id": record.id}),
        withdraw_form=withdraw_form,
    )


def _card_url(card: GoalCard) -> str:
    return url_for(".card", card_id=card.id)


@bp.route("/goals/<int:goal_id>/edit", methods=["GET", "POST"])
@allow(Role.INSTRUCTOR, Role.ADMIN)
def edit_goal(goal_id: int):
    goal, card = _goal(goal_id)
    form = GoalEditForm(obj=goal)
    if submit(
        form,
        lambda: services.correct_goal(
            goal,
            services.NewGoal(form.title.data, form.target.data or "", form.measure.data or ""),
            reason=form.reason.data or "",
            by=current_user,
        ),
    ):
        flash("已保存更正。", "success")
        return redirect(_card_url(card), 303)
    return _correction(goal, form, "goal", "更正履职目标", _card_url(card))


@bp.route("/goals/<int:goal_id>/withdraw", methods=["POST"])
@allow(Role.INSTRUCTOR, Role.ADMIN)
def withdraw_goal(goal_id: int):
    goal, card = _goal(goal_id)
    form = WithdrawForm()
    if submit(
        form, lambda: services.withdraw_goal(goal, reason=form.reason.data or "", by=current_user)
    ):
        flash("已撤回这项目标。", "success")
        return redirect(_card_url(card), 303)
    return _correction(
        goal, GoalEditForm(formdata=None, obj=goal), "goal", "更正履职目标", _card_url(card), form
    )


@bp.route("/goal-notes/<int:note_id>/edit", methods=["GET", "POST"])
@allow(Role.INSTRUCTOR, Role.ADMIN)
def edit_note(note_id: int):
    note, card = _note(note_id)
    form = NoteEditForm(obj=note, on=note.noted_on)
    if submit(
        form,
        lambda: services.correct_note(
            note,
            on=form.on.data,
            text=form.text.data,
            reason=form.reason.data or "",
            by=current_user,
        ),
    ):
        flash("已保存更正。", "success")
        return redirect(_card_url(card), 303)
    return _correction(note, form, "note", "更正履职进展", _card_url(card))


@bp.route("/goal-notes/<int:note_id>/withdraw", methods=["POST"])
@allow(Role.INSTRUCTOR, Role.ADMIN)
def withdraw_note(note_id: int):
    note, card = _note(note_id)
    form = WithdrawForm()
    if submit(
        form, lambda: services.withdraw_note(note, reason=form.reason.data or "", by=current_user)
    ):
        flash("已撤回这条进展。", "success")
        return redirect(_card_url(card), 303)
    return _correction(
        note,
        NoteEditForm(formdata=None, obj=note, on=note.noted_on),
        "note",
        "更正履职进展",
        _card_url(card),
        form,
    )


def _member_url(entry: VanguardEntry) -> str:
    return url_for("members.detail", member_id=entry.card.member_id, year=entry.card.year)


@bp.route("/entries/<int:entry_id>/edit", methods=["GET", "POST"])
@allow(Role.INSTRUCTOR, Role.ADMIN)
def edit_entry(entry_id: int):
    entry = _entry(entry_id)
    form = EntryEditForm(obj=entry)
    if submit(
        form,
        lambda: services.correct_entry(
            entry,
            services.NewEntry(
                entry.client_key,
                form.done_on.data,
                form.deed.data,
                form.category.data,
                form.points.data,
            ),
            reason=form.reason.data or "",
            by=current_user,
        ),
    ):
        flash("已保存更正。" + ("" if entry.confirmed else "确认后计入积分。"), "success")
        return redirect(_member_url(entry), 303)
    return _correction(
        entry, form, "entry", f"更正{entry.card.member.name}的储绩记录", _member_url(entry)
    )


@bp.route("/entries/<int:entry_id>/withdraw", methods=["POST"])
@allow(Role.INSTRUCTOR, Role.ADMIN)
def withdraw_entry(entry_id: int):
    entry = _entry(entry_id)
    form = WithdrawForm()
    if submit(
        form, lambda: services.withdraw_entry(entry, reason=form.reason.data or "", by=current_user)
    ):
        flash("已撤回这条储绩记录，不再计分。", "success")
        return redirect(_member_url(entry), 303)
    return _correction(
        entry,
        EntryEditForm(formdata=None, obj=entry),
        "entry",
        f"更正{entry.card.member.name}的储绩记录",
        _member_url(entry),
        form,
    )


# --- the secretary's confirmation link ---------------------------------------------------------


@bp.route("/branches/<int:branch_id>/confirmation-link", methods=["GET", "POST"])
@allow(Role.INSTRUCTOR, Role.ADMIN)
def confirmation_link(branch_id: int):
    """Give the branch secretary a personal link (and its QR code) to confirm the deeds recorded
    for the members; a new link revokes the earlier one."""
    branch = visible_branch(current_user, branch_id) or abort(404)
    if not services.keeps_cards(current_user, branch.id):
        abort(403)
    form = ConfirmForm()
    issued = submit(form, lambda: services.issue_link(branch, by=current_user))
    token, link = issued if issued else (None, None)
    url = url_for(".confirm_page", token=token, _external=True) if token else None
    return render_template(
        "cards/link.html",
        branch=branch,
        form=form,
        url=url,
        link=link,
        qr=qr_data_uri(url) if url else None,
        open_links=services.open_links(branch.id),
        secretary=secretary_of(branch.id),
    ), form_status(form)


@bp.route("/confirmation-links/<int:link_id>/revoke", methods=["POST"])
@allow(Role.INSTRUCTOR, Role.ADMIN)
def revoke_link(link_id: int):
    """Take a link back before it is used (a phone lost, a message sent to the wrong person)."""
    link = db.session.get(ConfirmationLink, link_id)
    if link is None or visible_branch(current_user, link.branch_id) is None:
        abort(404)
    if not services.keeps_cards(current_user, link.branch_id):
        abort(403)
    if submit(ConfirmForm(), lambda: services.revoke_link(link)):
        flash("已收回这个确认链接。", "success")
    else:
        flash("这个链接已使用或已收回。", "warning")
    return redirect(url_for(".confirmation_link", branch_id=link.branch_id), 303)


@bp.route("/confirm/<token>", methods=["GET", "POST"])
@public
@limiter.limit(link_rate)
def confirm_page(token: str):
    """The secretary's page: no account, only the link. Confirms the chosen deeds once."""
    try:
        link = services.link_by_token(token)
    except services.LinkError as error:
        return render_template("link_refused.html", message=error.message), error.status
    entries = services.pending_for_link(link)
    form = LinkConfirmForm()
    form.entry_ids.choices = options(
        (
            entry.id,
            f"{entry.card.member.name} · {entry.done_on:%Y-%m-%d} · "
            f"{entry.category.label} {entry.points} 分：{entry.deed}",
        )
        for entry in entries
    )
    if request.method == "GET":
        form.entry_ids.data = [entry.id for entry in entries]
    done = submit(form, lambda: services.confirm_by_link(link, form.entry_ids.data or []))
    if done:
        return render_template("cards/confirm_done.html", count=len(done), link=link)
    return render_template(
        "cards/confirm.html", link=link, entries=entries, form=form
    ), form_status(form)


# --- A4 PDFs ------------------------------------------------------------------------------------


@bp.route("/members/<int:member_id>/card.pdf")
@signed_in
def card_pdf(member_id: int):
    """A member's vanguard card for a year on one A4 page."""
    member = visible_member(current_user, member_id) or abort(404)
    year = year_arg(clock.today().year)
    standing = next(
        (s for s in services.ranking(member.branch_id, year) if s.member.id == member.id), None
    )
    pdf = render_pdf(
        "cards/vanguard_pdf.html",
        member=member,
        year=year,
        card=services.vanguard_card(member, year),
        standing=standing,
        printed=clock.now(),
    )
    return _pdf(pdf, f"先锋储绩卡-{member.name}-{year}.pdf", "member", member.id)


@bp.route("/branches/<int:branch_id>/ranking.pdf")
@signed_in
def ranking_pdf(branch_id: int):
    """The branch's members ranked by their year's confirmed points, on one A4 page."""
    branch = visible_branch(current_user, branch_id) or abort(404)
    year = year_arg(clock.today().year)
    pdf = render_pdf(
        "cards/ranking_pdf.html",
        branch=branch,
        year=year,
        standings=services.ranking(branch.id, year),
        printed=clock.now(),
    )
    return _pdf(pdf, f"先锋储绩排名-{branch.name}-{year}.pdf", "branch", branch.id)


def _pdf(body: bytes, filename: str, object_type: str, object_id: int):
    return audit.downloaded(
        body, filename, "application/pdf", object_type=object_type, object_id=object_id, inline=True
    )
