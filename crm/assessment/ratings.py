"""服务对象评议: each branch's secretary rates the instructor who guided the branch that year,
once, through a personal link (crm.core.links), with no account.

A branch rates each instructor who held it for at least RATING_MIN_DAYS of the year (a branch
handed over mid-year rates both). The instructor never learns who rated what: they see counts;
reviewers see the comments without the branch.

Links are printed (with a QR code) or sent by SMS to the secretary's mobile through the
reminders' outbox (crm.reminders.outbox), the link sealed until it is sent; revoking a link
stops its message if it has not gone yet.
"""

from collections import Counter, defaultdict
from dataclasses import dataclass
from datetime import date

from flask import current_app
from sqlalchemy import select, tuple_, update
from sqlalchemy.orm import selectinload

from crm import clock
from crm.accounts.models import Account
from crm.assessment import indicators
from crm.assessment.models import Rating, RatingLink, Scheme, Verdict
from crm.assessment.services import scheme_for
from crm.branches.models import Branch
from crm.core import links
from crm.core.links import LinkError
from crm.core.masking import mask_phone
from crm.extensions import db
from crm.instructors.models import Instructor
from crm.instructors.services import mobile_number
from crm.reminders import channels, digests, outbox
from crm.reminders import services as reminders
from crm.reminders.models import Channel, MessageKind, MessageState
from crm.rules import RuleError

# The rating part's points for each verdict; the part's score is their mean.
POINTS = {Verdict.SATISFIED: 100, Verdict.FAIRLY: 60, Verdict.UNSATISFIED: 0}
FORMULA = "每个评议：满意 100 分，基本满意 60 分，不满意 0 分；服务对象评议得分为其平均分。"


@dataclass(frozen=True)
class Pair:
    """A branch and an instructor it rates for the year, and the state of its link."""

    branch_id: int
    branch: str
    secretary: str
    mobile: str | None  # the secretary's, when their phone is a mobile (an SMS can go)
    instructor_id: int
    instructor: str
    days: int
    link: RatingLink | None  # the latest issued
    rated: bool

    @property
    def has_open_link(self) -> bool:
        """A link issued, not used or revoked: it may be in the secretary's hands."""
        return self.link is not None and self.link.revoked_at is None and not self.rated

    @property
    def state(self) -> str:
        if self.rated:
            return "已评议"
        if self.link is None:
            return "未发放链接"
        if self.link.revoked_at is not None:
            return "链接已收回"
        issued = f"已发放（{clock.day_of(self.link.created_at):%Y-%m-%d}），未评议"
        return f"{issued}；{_sms_state(self.link)}" if self.link.message else issued


def _sms_state(link: RatingLink) -> str:
    """What became of the link's SMS."""
    message = link.message
    if message.state is MessageState.SENT:
        return f"短信已于 {clock.day_of(message.sent_at):%Y-%m-%d} 发送"
    if message.state is MessageState.GIVEN_UP:
        return f"短信未能发送：{message.last_error}"
    return f"短信{message.state.label}"


def pairs(year: int, instructor_ids: list[int] | None = None) -> list[Pair]:
    """Each branch and each instructor who held it for RATING_MIN_DAYS of the year or more,
    by branch name (held days counted over the whole year, as assessments.held_at)."""
    chosen = _held_long_enough(year, instructor_ids)
    if not chosen:
        return []
    branch_ids = {b for b, _ in chosen}
    branches = {
        row.id: row
        for row in db.session.execute(
            select(Branch.id, Branch.name, Branch.secretary_name, Branch.secretary_phone).where(
                Branch.id.in_(branch_ids)
            )
        )
    }
    names = dict(
        db.session.execute(
            select(Instructor.id, Account.name)
            .join(Account, Account.id == Instructor.account_id)
            .where(Instructor.id.in_({i for _, i in chosen}))
        )
        .tuples()
        .all()
    )
    latest, rated = _links_and_ratings(year, branch_ids)
    found = [
        Pair(
            b,
            branches[b].name,
            branches[b].secretary_name,
            mobile_number(branches[b].secretary_phone),
            i,
            names[i],
            days,
            latest.get((b, i)),
            (b, i) in rated,
        )
        for (b, i), days in chosen.items()
    ]
    return sorted(found, key=lambda p: (p.branch, p.branch_id, p.instructor, p.instructor_id))


def _held_long_enough(year: int, instructor_ids: list[int] | None) -> dict[tuple[int, int], int]:
    """(branch, instructor) → days held in the year, for those held RATING_MIN_DAYS or more."""
    whole = indicators.Year(year, date(year, 12, 31))
    if instructor_ids is None:
        instructor_ids = list(db.session.scalars(select(Instructor.id)))
    held: Counter = Counter()
    for span in indicators.held_spans(whole, instructor_ids):
        held[(span.branch_id, span.instructor_id)] += span.days
    return {pair: days for pair, days in held.items() if days >= _min_days()}


def _links_and_ratings(year: int, branch_ids: set[int]):
    """The latest link issued for each (branch, instructor), and the pairs already rated."""
    latest: dict[tuple[int, int], RatingLink] = {}
    for link in db.session.scalars(
        select(RatingLink)
        .where(RatingLink.year == year, RatingLink.branch_id.in_(branch_ids))
        .options(selectinload(RatingLink.message))
        .order_by(RatingLink.id)
    ):
        latest[(link.branch_id, link.instructor_id)] = link
    rated = set(
        db.session.execute(
            select(Rating.branch_id, Rating.instructor_id).where(
                Rating.year == year, Rating.branch_id.in_(branch_ids)
            )
        )
        .tuples()
        .all()
    )
    return latest, rated


def _min_days() -> int:
    return current_app.config["RATING_MIN_DAYS"]


@dataclass(frozen=True)
class Issued:
    """A link just issued, with its token (shown this once), and whether an SMS carries it."""

    pair: Pair
    token: str
    url: str
    sms: str = ""  # "已排队发送至 138****1234", or why it could not be sent


def issue(year: int, chosen: list[Pair], *, by: Account, send: bool = False) -> list[Issued]:
    """A new link for each chosen pair not yet rated; an open link of the pair is revoked
    first (a reissue) and its SMS stopped if it has not gone. With `send`, each link whose
    branch's secretary has a mobile number is queued as an SMS to them. Raises RuleError
    before the year's assessment has started, or (on `send`) when SMS cannot be sent here."""
    scheme = scheme_for(year)
    if scheme.locked_at is None:
        raise RuleError(f"请先开始{year}年度考核（锁定考核方案），再发放评议链接。")
    if send and (refused := sms_refusal()):
        raise RuleError(refused, "send")
    chosen = [pair for pair in chosen if not pair.rated]
    _revoke_open(year, chosen)
    urls = digests.public_urls()
    issued = []
    for pair in chosen:
        token, token_hash = links.new_token()
        link = RatingLink(
            year=year,
            branch_id=pair.branch_id,
            instructor_id=pair.instructor_id,
            token_hash=token_hash,
            issued_by_id=by.id,
        )
        db.session.add(link)
        url = urls.build("assessment.rate", {"token": token}, force_external=True)
        sms = _send(scheme, pair, link, url) if send else ""
        issued.append(Issued(pair, token, url, sms))
    db.session.flush()
    return issued


def issue_missing(year: int, found: list[Pair], *, by: Account, send: bool = False) -> list[Issued]:
    """Links for the pairs not rated that have none open: those issued before (printed,
    handed out, sent) stay valid, so issuing again a week later, or a retried request, adds
    only what is missing. Replacing an open link is one pair's reissue (issue()). Raises
    RuleError when nothing is missing, and as issue()."""
    missing = [pair for pair in found if not pair.rated and not pair.has_open_link]
    if not missing:
        raise RuleError("未评议的都已有有效的评议链接；如需更换某个链接，请在该行“重新生成”。")
    return issue(year, missing, by=by, send=send)


def _revoke_open(year: int, chosen: list[Pair]) -> None:
    """Revoke the open links of the chosen pairs (one statement), and stop their SMS."""
    if not chosen:
        return
    open_links = (
        RatingLink.year == year,
        tuple_(RatingLink.branch_id, RatingLink.instructor_id).in_(
            [(pair.branch_id, pair.instructor_id) for pair in chosen]
        ),
        RatingLink.used_at.is_(None),
        RatingLink.revoked_at.is_(None),
    )
    messages = db.session.scalars(
        select(RatingLink.message_id).where(*open_links, RatingLink.message_id.is_not(None))
    ).all()
    db.session.execute(update(RatingLink).where(*open_links).values(revoked_at=clock.now()))
    outbox.withdraw(messages, WITHDRAWN)


WITHDRAWN = "链接已收回，未发送。"


def sms_refusal() -> str | None:
    """Why rating links cannot go by SMS here and now, or None when they can."""
    if Channel.SMS not in reminders.settings().enabled:
        return "短信渠道已在提醒设置中停用，请先启用，或打印评议链接转交书记。"
    if Channel.SMS not in channels.configured(current_app.config):
        return "本系统尚未配置短信服务（CRM_SMS_ACCESS_KEY_ID 等），请打印评议链接转交书记。"
    if not current_app.config["SMS_TEMPLATE_RATING"]:
        return "尚未配置评议链接的短信模板（CRM_SMS_TEMPLATE_RATING），请打印评议链接转交书记。"
    return None


def _send(scheme: Scheme, pair: Pair, link: RatingLink, url: str) -> str:
    """Queue the link as an SMS to the pair's secretary; says what was done."""
    if pair.mobile is None:
        return "没有书记的手机号（固定电话不能收短信），请打印转交。"
    params = {
        "branch": pair.branch,
        "instructor": pair.instructor,
        "year": str(scheme.year),
        "until": f"{scheme.rating_until:%Y-%m-%d}",  # as the link's own refusals say it
        "url": url,
    }
    link.message = outbox.queue_one(
        kind=MessageKind.RATING,
        channel=Channel.SMS,
        recipient=pair.mobile,
        addressee=f"{pair.branch} {pair.secretary}书记" if pair.secretary else pair.branch,
        subject=f"{scheme.year}年度评议指导员{pair.instructor}",
        body=outbox.sms_body(current_app.config["SMS_TEMPLATE_RATING"], params),
        secret=True,
    )
    return f"已排队发送至 {mask_phone(pair.mobile)}"


def revoke(link: RatingLink) -> bool:
    """Take back a link not used yet (sent to the wrong person, lost), and stop its SMS if it
    has not gone. True when it was open."""
    if link.used_at is not None or link.revoked_at is not None:
        return False
    link.revoked_at = clock.now()
    if link.message_id is not None:
        outbox.withdraw([link.message_id], WITHDRAWN)
    db.session.flush()
    return True


def link_by_token(token: str) -> RatingLink:
    """The link a token opens, in its year's rating window. Raises LinkError saying why not."""
    link = db.session.scalar(select(RatingLink).where(RatingLink.token_hash == links.digest(token)))
    if link is None:
        raise LinkError.unknown("链接无效。请核对链接，或向考核办公室索取新的评议链接。")
    if link.revoked_at is not None:
        raise LinkError("这个链接已被收回，请使用考核办公室新发给您的链接。")
    if link.used_at is not None:
        raise LinkError(
            f"这个链接已于 {clock.day_of(link.used_at):%Y-%m-%d} 提交过评议，每个链接只能使用一次。"
        )
    _check_window(scheme_for(link.year))
    return link


def names_of(link: RatingLink) -> dict[str, str]:
    """What the rating page names: the branch rating and the instructor rated."""
    branch = db.session.get(Branch, link.branch_id)
    instructor = db.session.get(Instructor, link.instructor_id)
    return {"branch": branch.name, "instructor": instructor.name}


def _check_window(scheme: Scheme) -> None:
    today = clock.today()
    if today < scheme.rating_from:
        raise LinkError(
            f"{scheme.year}年度评议将于 {scheme.rating_from:%Y-%m-%d} 开始，请届时再打开此链接。"
        )
    if today > scheme.rating_until:
        raise LinkError(f"{scheme.year}年度评议已于 {scheme.rating_until:%Y-%m-%d} 截止。")


def rate(link: RatingLink, verdict: Verdict | None, comment: str) -> Rating:
    """The secretary's rating; the link is used up, in the same transaction. Claimed by a
    conditional update, so two submissions at once record one. Raises RuleError."""
    if verdict is None:
        raise RuleError("请选择满意、基本满意或不满意。", "verdict")
    claimed = db.session.execute(
        update(RatingLink)
        .where(
            RatingLink.id == link.id,
            RatingLink.used_at.is_(None),
            RatingLink.revoked_at.is_(None),
        )
        .values(used_at=clock.now())
    ).rowcount
    if claimed != 1:
        raise LinkError("这个链接已提交过评议，每个链接只能使用一次。")
    rating = Rating(
        link_id=link.id,
        year=link.year,
        branch_id=link.branch_id,
        instructor_id=link.instructor_id,
        verdict=verdict,
        comment=comment.strip()[:500],
    )
    db.session.add(rating)
    db.session.flush()
    return rating


@dataclass(frozen=True)
class Summary:
    """An instructor's ratings for a year: how many of each verdict, and the part's score
    (None with no rating)."""

    counts: dict[Verdict, int]

    @property
    def total(self) -> int:
        return sum(self.counts.values())

    @property
    def score(self) -> float | None:
        if not self.total:
            return None
        return sum(POINTS[v] * n for v, n in self.counts.items()) / self.total


def summaries(year: int, instructor_ids: list[int]) -> dict[int, Summary]:
    counts: dict[int, Counter] = defaultdict(Counter)
    for instructor_id, verdict, n in db.session.execute(
        select(Rating.instructor_id, Rating.verdict, db.func.count())
        .where(Rating.year == year, Rating.instructor_id.in_(instructor_ids))
        .group_by(Rating.instructor_id, Rating.verdict)
    ):
        counts[instructor_id][verdict] = n
    return {i: Summary({v: counts[i].get(v, 0) for v in Verdict}) for i in instructor_ids}


def comments(year: int, instructor_id: int) -> list[tuple[Verdict, str]]:
    """The comments an instructor received, without the branch that wrote each, in an order
    that says nothing of who wrote it (by verdict, then text)."""
    rows = db.session.execute(
        select(Rating.verdict, Rating.comment).where(
            Rating.year == year, Rating.instructor_id == instructor_id, Rating.comment != ""
        )
    ).all()
    order = list(Verdict)
    return sorted(((v, c) for v, c in rows), key=lambda row: (order.index(row[0]), row[1]))
