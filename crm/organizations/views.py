from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_login import current_user

from crm.accounts.models import Role
from crm.assignments import listings
from crm.assignments.services import districts_in_scope, visible_organization
from crm.core.access import allow, signed_in
from crm.core.forms import form_status, options, submit
from crm.core.lists import paginate, search_text
from crm.extensions import db
from crm.http import whole_number
from crm.organizations import services
from crm.organizations.forms import OrganizationForm
from crm.organizations.models import Organization, OrganizationKind

bp = Blueprint("organizations", __name__, url_prefix="/organizations")


@bp.route("/")
@signed_in
def index():
    return render_template(
        "organizations/index.html",
        page=paginate(listings.organizations(current_user, request.args)),
        q=search_text(),
        kind=request.args.get("kind", ""),
        district_id=request.args.get("district_id", type=whole_number),
        kinds=OrganizationKind,
        districts=districts_in_scope(current_user),
    )


@bp.route("/<int:organization_id>")
@signed_in
def detail(organization_id: int):
    organization = visible_organization(current_user, organization_id) or abort(404)
    return render_template("organizations/detail.html", organization=organization)


@bp.route("/new", methods=["GET", "POST"])
@allow(Role.ADMIN)
def create():
    form = _form()
    organization = submit(form, lambda: services.create_organization(**form.values()))
    if organization:
        flash(f"已登记“{organization.name}”。", "success")
        return redirect(url_for(".detail", organization_id=organization.id))
    return render_template("organizations/form.html", form=form, organization=None), form_status(
        form
    )


@bp.route("/<int:organization_id>/edit", methods=["GET", "POST"])
@allow(Role.ADMIN)
def edit(organization_id: int):
    organization = db.session.get(Organization, organization_id) or abort(404)
    form = _form(obj=organization)
    if submit(
        form,
        lambda: services.update_organization(organization, **form.values()),
        record=organization,
    ):
        flash("已保存。", "success")
        return redirect(url_for(".detail", organization_id=organization.id))
    return render_template(
        "organizations/form.html", form=form, organization=organization
    ), form_status(form)


def _form(**kwargs) -> OrganizationForm:
    form = OrganizationForm(**kwargs)
    form.district_id.choices = options(services.district_choices())
    return form
