"""The two cards' rules: goal cards locked once rated; vanguard entries counted once confirmed."""

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, timedelta

from flask import current_app
from sqlalchemy import func, select
from sqlalchemy.orm import selectinload

from crm import clock
from crm.accounts.models import Account, Role
from crm.assignments.services import guides
from crm.audit import services as audit
from crm.branches.models import Branch
from crm.cards.models import (
    ConfirmationLink,
    Goal,
    GoalCard,
    GoalNote,
    Rating,
    VanguardCard,
    VanguardCategory,
    VanguardEntry,
)
from crm.core import links
from crm.core.links import LinkError
from crm.core.names import pinyin_order
from crm.corrections import services as corrections
from crm.corrections.models import Correction
from crm.db import as_utc
from crm.extensions import add_once, db
from crm.members.models import Member, MemberRole
from crm.members.services import SECRETARY_CHANGED, members_of, secretary_of
from crm.rules import RuleError

LOCKED = "目标卡已评定并锁定；如需修改，请审阅人员先解锁。"


# --- 党组织书记履职目标卡 ------------------------------------------------------------------------


@dataclass(frozen=True)
class NewGoal:
    title: str
    target: str = ""
    measure: str = ""


def goal_card(member_id: int, year: int) -> GoalCard | None:
    return db.session.execute(
        select(GoalCard)
        .where(GoalCard.member_id == member_id, GoalCard.year == year)
        .options(selectinload(GoalCard.goals), selectinload(GoalCard.notes))
    ).scalar_one_or_none()


def open_goal_card(secretary: Member, year: int, goals: Sequence[NewGoal]) -> GoalCard:
    """Open a secretary's card for a year with its goals: one card per secretary per year,
    at least one goal, no year past the next. Raises RuleError."""
    if secretary.role is not MemberRole.SECRETARY or not secretary.active:
        raise RuleError(f"{secretary.name}不是本支部书记，履职目标卡只为书记建立。")
    if not 2000 <= year <= clock.today().year + 1:
        raise RuleError(f"年度应在 2000 年到 {clock.today().year + 1} 年之间。", "year")
    if goal_card(secretary.id, year) is not None:
        raise RuleError(
            f"书记{secretary.name} {year} 年的履职目标卡已经建立，不能重复建立。", "year"
        )
    if not goals:
        raise RuleError("请至少填写一项履职目标。", "goals")
    card = GoalCard(
        branch_id=secretary.branch_id,
        member=secretary,
        year=year,
        goals=[Goal(title=g.title, target=g.target, measure=g.measure) for g in goals],
    )
    db.session.add(card)
    db.session.flush()
    return card


def cards_of_branch(branch_id: int) -> list[GoalCard]:
    """Every goal card the branch has had, of every year and every secretary, newest first."""
    return list(
        db.session.execute(
            select(GoalCard)
            .where(GoalCard.branch_id == branch_id)
            .options(selectinload(GoalCard.member))
            .order_by(GoalCard.year.desc(), GoalCard.id.desc())
        ).scalars()
    )


def year_end_opens(year: int) -> date:
    """The first day of a card's year-end window (self-assessment and rating): GOAL_CARD_YEAR_END,
    "MM-DD", of the card's own year."""
    month, day = (int(part) for part in current_app.config["GOAL_CARD_YEAR_END"].split("-"))
    return date(year, month, day)


def _year_end(card: GoalCard, field: str) -> None:
    opens = year_end_opens(card.year)
    if clock.today() < opens:
        raise RuleError(f"{card.year} 年的年终自评和评定自 {opens:%Y-%m-%d} 起开放。", field)


def _unlocked(card: GoalCard) -> None:
    if card.locked:
        raise RuleError(LOCKED)
    if card.term_ended_on is not None:
        raise RuleError(
            f"书记已于 {card.term_ended_on:%Y-%m-%d} 换届，这张目标卡已结束，不能再修改。"
        )


def install() -> None:
    """Goal cards follow the secretary's term: see follow_term."""
    if follow_term not in SECRETARY_CHANGED:
        SECRETARY_CHANGED.append(follow_term)


def follow_term(branch: Branch, before: Member | None, after: Member | None, on: date) -> None:
    """换届: the outgoing secretary's card of this year closes on the day (unless rated, which
    stands), and the incoming secretary's card opens with the same goals, once."""
    closed = _close_term(before, on) if before is not None else None
    if after is None or goal_card(after.id, on.year) is not None:
        return
    closed = closed or _last_card_before(branch, after, on.year)
    if closed is not None:  # else no card this year yet: the instructor opens one as usual
        _open_term(branch, after, closed, on)


def _close_term(before: Member, on: date) -> GoalCard | None:
    """The outgoing secretary's card of the year, ended on the day unless it is rated."""
    card = goal_card(before.id, on.year)
    if card is not None and not card.locked and card.term_ended_on is None:
        card.term_ended_on = on
        audit.record(
            "goal_card.term_end",
            object_type="goal_card",
            object_id=card.id,
            summary=f"换届：书记{before.name}的 {on.year} 年目标卡于 {on:%Y-%m-%d} 结束",
        )
    return card


def _last_card_before(branch: Branch, after: Member, year: int) -> GoalCard | None:
    return db.session.execute(
        select(GoalCard)
        .where(
            GoalCard.branch_id == branch.id, GoalCard.year == year, GoalCard.member_id != after.id
        )
        .order_by(GoalCard.id.desc())
        .limit(1)
    ).scalar_one_or_none()


def _open_term(branch: Branch, after: Member, closed: GoalCard, on: date) -> None:
    """The incoming secretary's card, with the standing goals of the card before."""
    goals = [
        Goal(title=g.title, target=g.target, measure=g.measure) for g in closed.goals if g.standing
    ]
    card = GoalCard(branch_id=branch.id, member=after, year=on.year, goals=goals)
    db.session.add(card)
    db.session.flush()
    audit.record(
        "goal_card.term_start",
        object_type="goal_card",
        object_id=card.id,
        summary=f"换届：书记{after.name}的 {on.year} 年目标卡自 {on:%Y-%m-%d} 起，沿用原目标",
    )


def add_goal(card: GoalCard, goal: NewGoal) -> Goal:
    """Add a goal to a card that is not locked. Raises RuleError."""
    _unlocked(card)
    added = Goal(title=goal.title, target=goal.target, measure=goal.measure)
    card.goals.append(added)
    db.session.flush()
    return added


def add_note(card: GoalCard, *, on: date, text: str, by: Account) -> GoalNote:
    """A dated note of progress, within the card's year and not in the future, on a card
    that is not locked. Raises RuleError."""
    _unlocked(card)
    if on > clock.today():
        raise RuleError("日期不能晚于今天。", "on")
    if on.year != card.year:
        raise RuleError(f"进展日期应在 {card.year} 年内。", "on")
    note = GoalNote(noted_on=on, text=text.strip(), by_id=by.id)
    card.notes.append(note)
    db.session.flush()
    return note


def self_assess(card: GoalCard, text: str) -> GoalCard:
    """Record the year-end self-assessment on a card that is not locked. Raises RuleError."""
    _unlocked(card)
    _year_end(card, "self_assessment")
    if not text.strip():
        raise RuleError("请填写年终自评。", "self_assessment")
    card.self_assessment, card.assessed_on = text.strip(), clock.today()
    db.session.flush()
    return card


def rate(card: GoalCard, rating: Rating, comment: str, *, by: Account) -> GoalCard:
    """The instructor's rating, after the self-assessment; it locks the card and is audited.
    Raises RuleError."""
    _unlocked(card)
    _year_end(card, "rating")
    if not card.self_assessment:
        raise RuleError("书记尚未填写年终自评，暂不能评定。", "rating")
    card.rating, card.rating_comment = rating, comment.strip()
    card.rated_on, card.rated_by_id, card.locked = clock.today(), by.id, True
    audit.record(
        "goal_card.rate",
        object_type="goal_card",
        object_id=card.id,
        summary=f"评定为{rating.label}并锁定",
    )
    db.session.flush()
    return card


def unlock(card: GoalCard, reason: str, *, by: Account) -> GoalCard:
    """A reviewer unlocks a rated card for changes, saying why; audited. Raises RuleError."""
    if not card.locked:
        raise RuleError("目标卡没有锁定。")
    if not reason.strip():
        raise RuleError("请说明解锁原因。", "reason")
    card.locked = False
    card.unlocked_on, card.unlocked_by_id = clock.today(), by.id
    card.unlock_reason = reason.strip()[:200]
    audit.record(
        "goal_card.unlock",
        object_type="goal_card",
        object_id=card.id,
        summary=f"解锁：{reason.strip()}"[:200],
    )
    db.session.flush()
    return card


# --- corrections of a goal card's goals and notes ---------------------------------------------

GOAL_NAMES = {"title": "目标", "target": "指标", "measure": "衡量方式"}
NOTE_NAMES = {"noted_on": "日期", "text": "进展"}


def _card_subject(
    card: GoalCard,
    record: Goal | GoalNote,
    what: str,
    day: date,
    author_id: int | None,
    by: Account,
) -> corrections.Subject:
    """A card's goals and notes settle when the card is first rated: from then on (once a
    reviewer has unlocked it) each change is a version with a reason."""
    free = card.rated_on is None and author_id in (None, by.id)
    return corrections.Subject(record, what, card.branch_id, day, free=free)


def correct_goal(goal: Goal, new: NewGoal, *, reason: str, by: Account) -> Goal:
    card = db.session.get(GoalCard, goal.card_id)
    _unlocked(card)
    subject = _card_subject(
        card, goal, f"{card.year} 年目标“{goal.title}”", clock.today(), None, by
    )
    values = {
        "title": new.title.strip(),
        "target": new.target.strip(),
        "measure": new.measure.strip(),
    }
    corrections.amend(subject, values, GOAL_NAMES, reason=reason, by=by)
    return goal


def withdraw_goal(goal: Goal, *, reason: str, by: Account) -> Correction:
    """撤回 a goal set by mistake; a card keeps at least one goal. Raises RuleError."""
    card = db.session.get(GoalCard, goal.card_id)
    _unlocked(card)
    if goal.standing and sum(g.standing for g in card.goals) == 1:
        raise RuleError("目标卡至少保留一项目标；请先添加正确的目标，再撤回这一项。", "reason")
    subject = _card_subject(
        card, goal, f"{card.year} 年目标“{goal.title}”", clock.today(), None, by
    )
    return corrections.withdraw(subject, reason=reason, by=by)


def correct_note(note: GoalNote, *, on: date, text: str, reason: str, by: Account) -> GoalNote:
    card = db.session.get(GoalCard, note.card_id)
    _unlocked(card)
    if on > clock.today():
        raise RuleError("日期不能晚于今天。", "on")
    if on.year != card.year:
        raise RuleError(f"进展日期应在 {card.year} 年内。", "on")
    subject = _card_subject(
        card, note, f"{note.noted_on:%Y-%m-%d} 的履职进展", note.noted_on, note.by_id, by
    )
    corrections.amend(
        subject, {"noted_on": on, "text": text.strip()}, NOTE_NAMES, reason=reason, by=by
    )
    return note


def withdraw_note(note: GoalNote, *, reason: str, by: Account) -> Correction:
    card = db.session.get(GoalCard, note.card_id)
    _unlocked(card)
    subject = _card_subject(
        card, note, f"{note.noted_on:%Y-%m-%d} 的履职进展", note.noted_on, note.by_id, by
    )
    return corrections.withdraw(subject, reason=reason, by=by)


# --- 党员个人先锋储绩卡 --------------------------------------------------------------------------


@dataclass(frozen=True)
class NewEntry:
    client_key: str
    done_on: date
    deed: str
    category: VanguardCategory
    points: int


def vanguard_card(member: Member, year: int) -> VanguardCard | None:
    return db.session.execute(
        select(VanguardCard)
        .where(VanguardCard.member_id == member.id, VanguardCard.year == year)
        .options(selectinload(VanguardCard.entries))
    ).scalar_one_or_none()


def entry_by_key(account_id: int, client_key: str) -> VanguardEntry | None:
    return db.session.execute(
        select(VanguardEntry).where(
            VanguardEntry.created_by_id == account_id, VanguardEntry.client_key == client_key
        )
    ).scalar_one_or_none()


def points_bounds() -> tuple[int, int]:
    return current_app.config["VANGUARD_POINTS_MIN"], current_app.config["VANGUARD_POINTS_MAX"]


def member_for_entry(branch: Branch, member_id: int | None) -> Member:
    """The member a deed is banked for: one of this branch's, still in it. Raises RuleError."""
    member = db.session.get(Member, member_id) if member_id else None
    if member is None or member.branch_id != branch.id:
        raise RuleError("请选择本支部的党员。", "member_id")
    _still_here(member)
    return member


def _still_here(member: Member) -> None:
    if not member.active:
        left = f"已于 {member.left_on:%Y-%m-%d} 转出本支部" if member.left_on else "已转出本支部"
        raise RuleError(f"{member.name}{left}，不能再记储绩。", "member_id")


def add_entry(member: Member, new: NewEntry, *, by: Account) -> VanguardEntry:
    """Bank a deed on the member's card for its year, once per client key. Points within the
    configured bounds; not in the future; a member still in the branch. It counts only once
    confirmed. Raises RuleError."""
    if existing := entry_by_key(by.id, new.client_key):
        return existing
    low, high = points_bounds()
    if not low <= new.points <= high:
        raise RuleError(f"积分应在 {low} 到 {high} 分之间。", "points")
    if new.done_on > clock.today():
        raise RuleError("日期不能晚于今天。", "done_on")
    _still_here(member)
    year = new.done_on.year
    card = vanguard_card(member, year) or add_once(
        VanguardCard(member=member, year=year), lambda: vanguard_card(member, year)
    )
    entry = VanguardEntry(
        card_id=card.id,
        done_on=new.done_on,
        deed=new.deed.strip(),
        category=new.category,
        points=new.points,
        client_key=new.client_key,
        created_by_id=by.id,
    )
    if (stored := add_once(entry, lambda: entry_by_key(by.id, new.client_key))) is not entry:
        return stored
    db.session.flush()
    return entry


ENTRY_NAMES = {"done_on": "日期", "category": "类别", "deed": "事迹", "points": "积分"}


def _entry_subject(entry: VanguardEntry, by: Account) -> corrections.Subject:
    """A deed settles when it is confirmed: from then on its recorder corrects it only with a
    reason, as a version."""
    member = entry.card.member
    what = f"{member.name} {entry.done_on:%Y-%m-%d} 的储绩记录"
    free = entry.created_by_id == by.id and not entry.confirmed
    return corrections.Subject(entry, what, member.branch_id, entry.done_on, free=free)


def correct_entry(
    entry: VanguardEntry, new: NewEntry, *, reason: str, by: Account
) -> VanguardEntry:
    """Correct a deed by the rule of crm.corrections. A confirmed deed corrected goes back to
    待确认: what was confirmed is not what it says now (the version keeps who confirmed what).
    The year stays (each year is its own card). Raises RuleError."""
    low, high = points_bounds()
    if not low <= new.points <= high:
        raise RuleError(f"积分应在 {low} 到 {high} 分之间。", "points")
    if new.done_on > clock.today():
        raise RuleError("日期不能晚于今天。", "done_on")
    if new.done_on.year != entry.card.year:
        raise RuleError(
            f"日期应在 {entry.card.year} 年内；记到另一年，请撤回这条后重新登记。", "done_on"
        )
    values = {
        "done_on": new.done_on,
        "category": new.category,
        "deed": new.deed.strip(),
        "points": new.points,
    }
    undone = (["确认", entry.confirmed_as, "待重新确认"],) if entry.confirmed else ()
    subject = _entry_subject(entry, by)
    corrections.amend(subject, values, ENTRY_NAMES, reason=reason, by=by, also=undone)
    if undone:
        entry.confirmed_on, entry.confirmed_by_id, entry.confirmed_as = None, None, ""
        db.session.flush()
    return entry


def withdraw_entry(entry: VanguardEntry, *, reason: str, by: Account) -> Correction:
    """撤回 a deed: kept on the card, marked, and out of its total and every count."""
    return corrections.withdraw(_entry_subject(entry, by), reason=reason, by=by)


def keeps_cards(account: Account, branch_id: int) -> bool:
    """Who keeps a branch's cards (opens goal cards, records progress and deeds): the branch's
    instructor and admins."""
    return account.is_admin or (account.has_role(Role.INSTRUCTOR) and guides(account, branch_id))


def may_confirm(account: Account, entry: VanguardEntry) -> bool:
    """Who may confirm a deed with an account: a reviewer or an admin, never its recorder (the
    secretary confirms through a link, confirm_by_link)."""
    return account.has_role(Role.REVIEWER, Role.ADMIN) and entry.created_by_id != account.id


CONFIRMERS = {Role.REVIEWER: "审阅人员", Role.ADMIN: "管理员"}


def confirm(entry: VanguardEntry, *, by: Account) -> VanguardEntry:
    """Confirm an entry so it counts, by someone other than who recorded it. Raises RuleError."""
    if entry.confirmed:
        raise RuleError("这条记录已经确认。")
    if not entry.standing:
        raise RuleError(corrections.WITHDRAWN)
    if entry.created_by_id == by.id:
        raise RuleError("储绩须由记录人以外的人确认：请书记通过确认链接确认，或由审阅人员确认。")
    if not by.has_role(*CONFIRMERS):
        raise RuleError("储绩由书记通过确认链接确认，或由审阅人员确认。")
    role = next(role for role in CONFIRMERS if by.has_role(role))
    entry.confirmed_on, entry.confirmed_by_id = clock.today(), by.id
    entry.confirmed_as = f"{CONFIRMERS[role]}{by.name}"[:40]
    db.session.flush()
    return entry


# --- the secretary's confirmation link --------------------------------------------------------


def issue_link(branch: Branch, *, by: Account) -> tuple[str, ConfirmationLink]:
    """A new personal link for the branch's secretary; any earlier open link of the branch is
    revoked. The token is returned once and only its hash kept. Raises RuleError."""
    secretary = secretary_of(branch.id)
    if secretary is None:
        raise RuleError("本支部还没有登记书记，无法生成确认链接。")
    now = clock.now()
    for old in db.session.scalars(
        select(ConfirmationLink).where(
            ConfirmationLink.branch_id == branch.id,
            ConfirmationLink.used_at.is_(None),
            ConfirmationLink.revoked_at.is_(None),
        )
    ):
        old.revoked_at = now
    token, token_hash = links.new_token()
    link = ConfirmationLink(
        token_hash=token_hash,
        branch_id=branch.id,
        member_id=secretary.id,
        issued_by_id=by.id,
        expires_at=now + timedelta(days=current_app.config["CONFIRMATION_LINK_DAYS"]),
    )
    db.session.add(link)
    db.session.flush()
    audit.record(
        "confirmation_link.issue",
        object_type="confirmation_link",
        object_id=link.id,
        summary=f"为书记{secretary.name}生成储绩确认链接",
    )
    return token, link


def revoke_link(link: ConfirmationLink) -> bool:
    """Take back a link not used yet; audited. True when it was open."""
    if link.used_at is not None or link.revoked_at is not None:
        return False
    link.revoked_at = clock.now()
    audit.record(
        "confirmation_link.revoke",
        object_type="confirmation_link",
        object_id=link.id,
        summary=f"收回书记{link.member.name}的储绩确认链接",
    )
    db.session.flush()
    return True


def open_links(branch_id: int) -> list[ConfirmationLink]:
    """The branch's links not used, revoked or expired."""
    return list(
        db.session.scalars(
            select(ConfirmationLink).where(
                ConfirmationLink.branch_id == branch_id,
                ConfirmationLink.used_at.is_(None),
                ConfirmationLink.revoked_at.is_(None),
                ConfirmationLink.expires_at > clock.now(),
            )
        )
    )


def link_by_token(token: str) -> ConfirmationLink:
    """The link a token opens. Raises LinkError saying why it cannot be used."""
    link = db.session.scalar(
        select(ConfirmationLink).where(ConfirmationLink.token_hash == links.digest(token))
    )
    if link is None:
        raise LinkError.unknown("链接无效，请向指导员索取新的确认链接。")
    if link.revoked_at is not None:
        raise LinkError("这个链接已被收回，请使用指导员新发给您的链接。")
    if link.used_at is not None:
        raise LinkError(
            f"这个链接已于 {clock.day_of(link.used_at):%Y-%m-%d} 使用过，每个链接只能使用一次。"
        )
    if as_utc(link.expires_at) <= clock.now():
        raise LinkError("这个链接已过期，请向指导员索取新的确认链接。")
    secretary = secretary_of(link.branch_id)
    if secretary is None or secretary.id != link.member_id:
        raise LinkError("本支部书记已变更，这个链接不再有效。")
    return link


def pending_for_link(link: ConfirmationLink) -> list[VanguardEntry]:
    """The deeds a secretary may confirm: unconfirmed ones of the branch's members, but not the
    secretary's own (those go to a reviewer)."""
    return list(
        db.session.scalars(
            select(VanguardEntry)
            .join(VanguardEntry.card)
            .join(Member, Member.id == VanguardCard.member_id)
            .where(
                Member.branch_id == link.branch_id,
                Member.id != link.member_id,
                VanguardEntry.confirmed_on.is_(None),
                VanguardEntry.standing,
            )
            .options(selectinload(VanguardEntry.card).selectinload(VanguardCard.member))
            .order_by(Member.id, VanguardEntry.done_on, VanguardEntry.id)
        )
    )


def confirm_by_link(link: ConfirmationLink, entry_ids: Sequence[int]) -> list[VanguardEntry]:
    """The secretary confirms the chosen deeds; the link is used up. Raises RuleError."""
    chosen = [entry for entry in pending_for_link(link) if entry.id in set(entry_ids)]
    if not chosen:
        raise RuleError("请至少勾选一条要确认的储绩记录。", "entry_ids")
    secretary = db.session.get(Member, link.member_id)
    for entry in chosen:
        entry.confirmed_on, entry.confirmed_by_id = clock.today(), None
        entry.confirmed_as = f"书记{secretary.name}（确认链接）"[:40]
    link.used_at = clock.now()
    audit.record(
        "confirmation_link.use",
        object_type="confirmation_link",
        object_id=link.id,
        summary=f"书记{secretary.name}通过确认链接确认 {len(chosen)} 条储绩",
    )
    db.session.flush()
    return chosen


@dataclass(frozen=True)
class Standing:
    member: Member
    total: int
    rank: int


def ranking(branch_id: int, year: int) -> list[Standing]:
    """The branch's members by their confirmed points for the year; ties share a rank (1, 1, 3)."""
    totals = dict(
        db.session.execute(
            select(VanguardCard.member_id, func.sum(VanguardEntry.points))
            .join(VanguardEntry.card)
            .join(Member, Member.id == VanguardCard.member_id)
            .where(
                Member.branch_id == branch_id,
                VanguardCard.year == year,
                VanguardEntry.counts,
            )
            .group_by(VanguardCard.member_id)
        ).all()
    )
    members = sorted(
        members_of(branch_id), key=lambda m: (-totals.get(m.id, 0), pinyin_order(m.name))
    )
    standings: list[Standing] = []
    for position, member in enumerate(members, start=1):
        total = int(totals.get(member.id, 0))
        tied = standings and standings[-1].total == total
        standings.append(Standing(member, total, standings[-1].rank if tied else position))
    return standings
