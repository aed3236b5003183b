from flask import Blueprint, abort, flash, redirect, render_template, url_for
from flask_login import current_user

from crm import clock
from crm.accounts.models import Role
from crm.assignments.services import visible_branch
from crm.cards import services as cards
from crm.core.access import allow, signed_in
from crm.core.forms import form_status, submit
from crm.core.masking import mask_phone, sees_whole_numbers, unmasked
from crm.corrections import services as corrections
from crm.http import year_arg
from crm.members import services
from crm.members.forms import MemberForm

bp = Blueprint("members", __name__)


@bp.route("/branches/<int:branch_id>/members")
@signed_in
def index(branch_id: int):
    branch = visible_branch(current_user, branch_id) or abort(404)
    year = clock.today().year
    members = services.members_of(branch.id, include_left=True)
    return render_template(
        "members/index.html",
        branch=branch,
        members=members,
        year=year,
        standings=cards.ranking(branch.id, year),
    )


@bp.route("/members/<int:member_id>")
@signed_in
def detail(member_id: int):
    member = services.visible_member(current_user, member_id) or abort(404)
    year = year_arg(clock.today().year)
    card = cards.vanguard_card(member, year)
    return render_template(
        "members/detail.html",
        member=member,
        year=year,
        card=card,
        may_confirm=cards.may_confirm,
        keeps_cards=cards.keeps_cards(current_user, member.branch_id),
        versions=corrections.traces("vanguard_entry", [e.id for e in card.entries] if card else []),
    )


@bp.route("/branches/<int:branch_id>/members/new", methods=["GET", "POST"])
@allow(Role.INSTRUCTOR, Role.ADMIN)
def create(branch_id: int):
    branch = visible_branch(current_user, branch_id) or abort(404)
    form = MemberForm()
    member = submit(form, lambda: services.add_member(branch, **form.values()))
    if member:
        flash(f"已添加党员 {member.name}。", "success")
        return redirect(url_for(".index", branch_id=branch.id), 303)
    return render_template("members/form.html", form=form, branch=branch, member=None), form_status(
        form
    )


@bp.route("/members/<int:member_id>/edit", methods=["GET", "POST"])
@allow(Role.INSTRUCTOR, Role.ADMIN)
def edit(member_id: int):
    member = services.visible_member(current_user, member_id) or abort(404)
    form = MemberForm(obj=member)
    masked = not sees_whole_numbers(current_user)  # the form shows it masked, as pages do
    if masked:
        form.phone.data = unmasked(form.phone.data, member.phone)
    if submit(form, lambda: services.update_member(member, **form.values()), record=member):
        flash("已保存。", "success")
        return redirect(url_for(".index", branch_id=member.branch_id), 303)
    if masked and form.phone.data == member.phone:
        form.phone.data = mask_phone(member.phone)
    return render_template(
        "members/form.html", form=form, branch=member.branch, member=member
    ), form_status(form)
