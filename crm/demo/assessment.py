"""The demo's annual assessments: last year's completed (the scheme locked, the branches'
ratings, the committee's scores, the grades confirmed, one appeal decided) and this year's in
progress (its scheme saved; started, with ratings coming in, from the rating window's first
day). Made through the assessment's own services, as the committee would."""

import random
from collections import Counter
from datetime import date, datetime, time, timedelta

from sqlalchemy import bindparam, select, update

from crm import clock
from crm.accounts.models import Account
from crm.assessment import grading, ratings, services
from crm.assessment.indicators import Year
from crm.assessment.models import Grade, Rating, RatingLink, Result, Verdict
from crm.core import links
from crm.demo import bulk
from crm.extensions import db

COMMENTS = (
    "指导员来得勤，帮我们理顺了组织生活。",
    "协调解决了用工难题，很及时。",
    "希望多组织一些党员培训。",
    "对企业情况很熟悉，建议很实在。",
    "联系少了一些，希望多来指导。",
)


def load(rng: random.Random, today: date, counts: Counter) -> None:
    admin = db.session.scalar(select(Account).where(Account.username == "admin"))
    city = db.session.scalar(select(Account).where(Account.username == "reviewer"))
    _last_year(rng, today, admin, city, counts)
    _this_year(rng, today, admin, counts)


def _at(day: date, hour: int = 10) -> datetime:
    return datetime.combine(day, time(hour), clock.LOCAL_TIME)


def _last_year(
    rng: random.Random, today: date, admin: Account, city: Account, counts: Counter
) -> None:
    number = today.year - 1
    year = Year.of(number, today)
    scheme = services.scheme_for(number)
    scheme.locked_at, scheme.locked_by_id = _at(date(number, 11, 25)), admin.id
    db.session.add(scheme)
    db.session.flush()
    _ratings(rng, number, today, admin, share=0.9, counts=counts)
    for row in services.daily_part(None, year):
        base = row.score if row.score is not None else 75
        score = max(50, min(100, round(50 + 0.6 * base + rng.gauss(0, 8))))
        grading.save_score(number, row.instructor_id, score, "", by=city)
        counts["assessment_scores"] += 1
    counts["assessment_results"] += grading.confirm_proposals(year, by=city)
    after = grading.standings(year)
    for standing in after:  # the ties at the quota's edge, by hand
        if standing.result is None and standing.total is not None:
            grade = Grade.COMPETENT
            grading.confirm(
                year,
                standing.instructor_id,
                grade,
                "优秀名额边缘并列，委员会按日常工作得分确定。",
                by=city,
            )
            counts["assessment_results"] += 1
    lowest = min((s for s in after if s.result is not None), key=lambda s: s.total)
    appeal = grading.file_appeal(number, lowest.instructor_id, "部分走访因补录未计入，请复核。")
    grading.decide(
        year, appeal, lowest.result.grade, "经核实，补录走访已按规定计入，维持原等次。", by=city
    )
    counts["assessment_appeals"] += 1
    # Made now through the services; dated as the committee worked: confirmed on 20 January,
    # appealed three days later, decided a week after that.
    confirmed = _at(date(today.year, 1, 20))
    db.session.execute(update(Result).where(Result.year == number).values(at=confirmed))
    appeal.filed_at = confirmed + timedelta(days=3)
    appeal.decided_at = confirmed + timedelta(days=10)
    db.session.flush()


def _this_year(rng: random.Random, today: date, admin: Account, counts: Counter) -> None:
    scheme = services.scheme_for(today.year)
    db.session.add(scheme)
    if today > scheme.rating_from:  # started; the ratings coming in since its first day
        scheme.locked_at, scheme.locked_by_id = (
            _at(scheme.rating_from - timedelta(days=5)),
            admin.id,
        )
        db.session.flush()
        _ratings(rng, today.year, today, admin, share=0.4, counts=counts)
    db.session.flush()


def _ratings(
    rng: random.Random, number: int, today: date, admin: Account, share: float, counts: Counter
) -> None:
    """Links for every branch and instructor; `share` of them rated, most 满意."""
    scheme = services.scheme_for(number)
    issued = ratings.issue(number, ratings.pairs(number), by=admin)
    ids = dict(
        db.session.execute(
            select(RatingLink.token_hash, RatingLink.id).where(RatingLink.year == number)
        )
        .tuples()
        .all()
    )
    last = min(scheme.rating_until, today - timedelta(days=1))
    rated, used = [], []
    for one in issued:
        pair, token = one.pair, one.token
        counts["rating_links"] += 1
        if rng.random() < share:
            verdict = rng.choices(list(Verdict), weights=(75, 20, 5))[0]
            comment = rng.choice(COMMENTS) if rng.random() < 0.3 else ""
            # Rated on a day of the window (up to yesterday for the year in progress).
            day = scheme.rating_from + timedelta(
                days=rng.randint(0, (last - scheme.rating_from).days)
            )
            at = _at(day, rng.randint(8, 20))
            link_id = ids[links.digest(token)]
            rated.append(
                {
                    "link_id": link_id,
                    "year": number,
                    "branch_id": pair.branch_id,
                    "instructor_id": pair.instructor_id,
                    "verdict": verdict,
                    "comment": comment,
                    "rated_at": at,
                }
            )
            used.append({"key": link_id, "used_at": at})
    # The made-up history in bulk, as the rest of the demo (crm.demo.bulk): the secretaries'
    # own submissions go through ratings.rate().
    bulk.insert(Rating, rated)
    table = RatingLink.__table__
    db.session.execute(
        update(table).where(table.c.id == bindparam("key")).values(used_at=bindparam("used_at")),
        used,
    )
    db.session.execute(
        update(table)
        .where(table.c.year == number)
        .values(created_at=_at(scheme.rating_from - timedelta(days=3)))
    )
    counts["ratings"] += len(rated)
