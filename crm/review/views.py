from datetime import date

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_login import current_user

from crm import charts, clock
from crm.accounts.models import Role
from crm.core.access import allow
from crm.core.forms import Form, form_status, submit
from crm.core.lists import paginate, paginate_list, search_text, sorted_items, sorted_list
from crm.corrections import services as corrections
from crm.extensions import db
from crm.http import local_target
from crm.meetings.models import MeetingKind
from crm.organizations.services import districts
from crm.review import alerts, figures, quarter, scale, services, tally
from crm.review.forms import AlertNoteForm, CheckForm, CommentForm
from crm.review.models import SpotCheck
from crm.visits import services as visits
from crm.visits.services import visible_visit

bp = Blueprint("review", __name__, url_prefix="/review")


def _scope() -> int | None:
    """The reviewer's district, or None for the whole city."""
    return None if current_user.sees_everything else current_user.scope_district_id


def _chosen_month(today: date) -> figures.Period:
    text = request.args.get("month", "")
    try:
        year, number = (int(part) for part in text.split("-"))
        if date(year, number, 1) <= today:
            return figures.month(year, number, today)
    except ValueError:
        pass
    return figures.month(today.year, today.month, today)


@bp.route("/")
@allow(Role.REVIEWER, Role.ADMIN)
def overview():
    """The reviewer's home: the month and the year to date against the periods before, by
    district, with charts, and the quarter's 三会."""
    today = clock.today()
    scope = _scope()
    chosen = _chosen_month(today)
    recent_stored = not scale.counted_live(current_user)
    counted_at = scale.counted_at_or_now(tally.RECENT_TABLE, today) if recent_stored else None
    spans = figures.overview_spans(chosen, today, scope, recent_stored=recent_stored)
    names = [d for d in districts() if scope is None or d.id == scope]
    return render_template(
        "review/overview.html",
        spans=spans,
        districts=names,
        chosen=chosen,
        metrics=figures.OVERVIEW_METRICS,
        counted_at=counted_at,
        **_charts(spans[0], names, today, scope, recent_stored),
        **_quarter(chosen, today, scope),
    )


def _charts(month: figures.Span, names: list, today: date, scope, recent_stored: bool) -> dict:
    """The month's visits by district beside the month before's, and the last twelve months."""
    months = figures.last_twelve_months(today)
    visits, solved = figures.by_month(months, scope, recent_stored=recent_stored)
    labels = [d.name for d in names]
    return {
        "district_chart": charts.bar_chart(
            f"{month.period.label}各县市区走访次数",
            labels,
            [
                (month.period.label, month.visits(names)),
                (month.before.label, month.visits(names, earlier=True)),
            ],
        ),
        "trend_chart": charts.line_chart(
            "近 12 个月走访与解决问题",
            [m.short_label for m in months],
            [("走访", visits), ("解决问题", solved)],
        ),
    }


def _quarter(chosen: figures.Period, today: date, scope) -> dict:
    """The quarter the reviewer chose (`quarter`; else the chosen month's), its 三会 by district."""
    quarters = quarter.recent_quarters(today)
    shown = next(
        (q for q in quarters if q.key == request.args.get("quarter")),
        quarter.quarter_of(chosen.first, today),
    )
    lines = quarter.by_district(shown, scope)
    return {
        "quarters": quarters,
        "quarter": shown,
        "meeting_lines": lines,
        "meeting_total": quarter.total(lines),
        "kinds": list(MeetingKind),
        "is_current_quarter": shown.key == clock.quarter_of(today),
    }


@bp.route("/alerts")
@allow(Role.REVIEWER, Role.ADMIN)
def alerts_page():
    """What needs acting on, by rule; each flagged object with what was last done about it,
    searched and sorted as the reviewer chooses."""
    today = clock.today()
    rule = request.args.get("rule", alerts.RULES[0].key)
    if rule not in alerts.BY_KEY:
        abort(404)
    found = alerts.flagged(rule, current_user, today)
    text = search_text()
    listing = alerts.listing(rule, stored=found.counted_at is not None)
    model = alerts.MODELS[alerts.BY_KEY[rule].object_type]
    rows, sorting = sorted_list(
        alerts.searched(found.rows, rule, text),
        listing.sorts,
        listing.default,
        tiebreak=model.id,
        newest_first=listing.newest_first,
    )
    page = paginate(rows, total=None if text else found.counts[rule])
    ids = [item.id for item in page.items]
    return render_template(
        "review/alerts.html",
        rules=alerts.RULES,
        rule=alerts.BY_KEY[rule],
        page=page,
        sorting=sorting,
        listing=listing,
        q=text,
        counts=found.counts,
        today=today,
        form=AlertNoteForm(rule=rule),
        counted_at=found.counted_at,
        notes=alerts.latest_notes(rule, ids),
        due=visits.due_by_branch(ids, today) if rule == "overdue_visits" else {},
    )


@bp.route("/alerts/notes", methods=["POST"])
@allow(Role.REVIEWER)
def note_alert():
    form = AlertNoteForm()
    rule = form.rule.data or ""
    if submit(
        form,
        lambda: alerts.record(
            rule, form.object_id.data or 0, form.note.data or "", by=current_user
        ),
    ):
        flash("已记录处理情况。", "success")
    else:
        flash("；".join(m for ms in form.errors.values() for m in ms) or "记录失败。", "warning")
    return redirect(
        _back_to(".alerts_page")
        or url_for(".alerts_page", rule=rule if rule in alerts.BY_KEY else None),
        303,
    )


def _back_to(endpoint: str) -> str | None:
    """The page, filter and row the reviewer acted on (the form's `back`), when it is on this
    list: after recording, they stay where they were instead of the list's start."""
    back = local_target(request.form.get("back"))
    return back if back and back.startswith(url_for(endpoint)) else None


@bp.route("/visits/<int:visit_id>", methods=["GET", "POST"])
@allow(Role.REVIEWER)
def visit(visit_id: int):
    """Comment on a visit, or send it back to its instructor for correction."""
    found = visible_visit(current_user, visit_id) or abort(404)
    form = CommentForm()
    if submit(
        form,
        lambda: services.comment(
            found, form.text.data, by=current_user, send_back=form.action.data == "return"
        ),
    ):
        flash("已退回指导员修改。" if form.action.data == "return" else "已留言。", "success")
        return redirect(url_for("visits.detail", visit_id=found.id), 303)
    # The reviewers' comments and send-backs and the instructor's corrections, as they came.
    history = sorted(
        [
            *services.comments_on(found.id),
            *corrections.traces("visit", [found.id]).get(found.id, []),
        ],
        key=lambda event: getattr(event, "at", None) or event.made_at,
    )
    page = render_template("review/visit.html", visit=found, form=form, history=history)
    return page, form_status(form)


@bp.route("/checks", methods=["GET", "POST"])
@allow(Role.REVIEWER)
def checks():
    """Spot checks of a quarter: draw a sample, then record what each check found."""
    quarter = request.values.get("quarter") or clock.quarter_of(clock.today())
    if request.method == "POST":
        form = Form()
        drawn = submit(form, lambda: services.draw_sample(quarter, by=current_user))
        if drawn is None:  # a quarter not written like 2026Q3
            flash("；".join(m for ms in form.errors.values() for m in ms), "warning")
        else:
            flash(f"已抽取 {len(drawn)} 条走访。" if drawn else "没有新的可抽取的走访。", "success")
        return redirect(url_for(".checks", quarter=quarter), 303)
    found, sorting = sorted_items(services.checks(quarter, current_user), CHECK_SORTS, "visited")
    quarters = clock.recent_quarters(clock.today())
    if not clock.is_quarter(quarter):  # a hand-written address: the current quarter instead
        quarter = quarters[0]
    return render_template(
        "review/checks.html",
        quarter=quarter,
        page=paginate_list(found),
        sorting=sorting,
        form=CheckForm(),
        quarter_name=clock.quarter_name,
        quarters=quarters if quarter in quarters else [quarter, *quarters],
    )


CHECK_SORTS = {
    "visited": ("走访", lambda check: (check.visit.visited_at, check.id)),
    "instructor": ("指导员", lambda check: (check.visit.instructor.name, check.id)),
    "outcome": ("结果", lambda check: (check.outcome.label, check.id)),
}


@bp.route("/checks/<int:check_id>", methods=["POST"])
@allow(Role.REVIEWER)
def record_check(check_id: int):
    check = db.session.get(SpotCheck, check_id)
    if check is None or visible_visit(current_user, check.visit_id) is None:
        abort(404)
    form = CheckForm()
    if submit(form, lambda: services.record_check(check, form.outcome.data, form.note.data or "")):
        flash("已记录核查结果。", "success")
    else:
        flash("；".join(m for ms in form.errors.values() for m in ms), "warning")
    return redirect(_back_to(".checks") or url_for(".checks", quarter=check.quarter), 303)
