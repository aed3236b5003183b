"""What the digests say, and on which days: the instructor's morning list of what is due, the
reviewer's weekly one for their scope, China's working calendar, and nothing of anyone else's
personal data. Expected lines are written out from the records made here."""

import re
from datetime import date, timedelta

import pytest

from crm.core import workdays
from crm.extensions import db
from crm.meetings.models import MeetingKind
from crm.reminders import digests, schedule
from tests.reminders.conftest import DAY


def _lines(digest) -> dict[str, list[tuple[str, str]]]:
    return {
        s.title: [(line.text, digests.url_of(line)) for line in s.lines] for s in digest.sections
    }


def test_the_instructors_digest_lists_what_is_due_each_with_the_page_to_act_on(app, records):
    with app.app_context():
        (digest,) = digests.instructor_digests(DAY, [records["a"]])
        lines = _lines(digest)
    url = "http://localhost:5000"
    all_three = "、".join(kind.label for kind in MeetingKind)
    assert lines == {
        "需实地走访的党组织": [
            # started 1 September, never visited: due 1 October, 48 days overdue
            (
                "从未走访党支部：超期 48 天未实地走访",
                f"{url}/branches/{records['never']}/visits/new",
            ),
            # visited on site 22 October: due 21 November
            (
                "将到期党支部：11 月 21 日前需实地走访",
                f"{url}/branches/{records['soon']}/visits/new",
            ),
        ],
        "临近或超过期限的问题": [
            ("将到期党支部 · 经营发展：已超期 10 天", f"{url}/problems/{records['late']}"),
            ("刚走访党支部 · 发展党员：11 月 20 日到期", f"{url}/problems/{records['due_soon']}"),
        ],
        "退回修改的走访": [
            (
                "从未走访党支部 · 11 月 10 日的走访被退回，请修改",
                f"{url}/visits/{records['returned']}/correct",
            ),
        ],
        "本季度三会未开齐": [
            (
                f"从未走访党支部：本季度尚未召开{all_three}",
                f"{url}/branches/{records['never']}/meetings/new",
            ),
            (
                f"将到期党支部：本季度尚未召开{all_three}",
                f"{url}/branches/{records['soon']}/meetings/new",
            ),
        ],
    }


def test_nothing_is_sent_to_an_instructor_with_nothing_to_do(app, records):
    with app.app_context():
        assert list(digests.instructor_digests(DAY, [records["quiet"]])) == []
        sent_to = {d.account_id for d in digests.instructor_digests(DAY)}
    assert sent_to == {records["a"], records["c"]}


def test_a_digest_holds_no_one_elses_personal_data(app, records):
    """No phone number, no member's name, no free text typed by anyone (a problem's
    description, a reviewer's note): a digest leaves for 企业微信's, an SMS provider's or a mail
    server's hands."""
    with app.app_context():
        texts = [digests.as_text(d) for _, d in schedule.due_on(date(2026, 11, 16))]
    assert len(texts) == 4  # a and c on Monday morning, and the two reviewers' weekly ones
    for text in texts:
        assert not re.search(r"1[3-9]\d{9}", text)
        assert "王小明" not in text
        assert "李书记" not in text  # the factories' secretaries
        assert "转入" not in text
        assert "联系方式" not in text


def test_the_reviewers_digest_keeps_to_their_district(app, records):
    monday = date(2026, 11, 16)
    with app.app_context():
        by_name = {a.username: digests.reviewer_digest(a, monday) for a in digests.reviewers()}
        district = _lines(by_name["reviewer-zg"])["工作滞后的指导员"]
        city = _lines(by_name["reviewer"])["工作滞后的指导员"]
    # On Monday 16 November: 从未走访 (due 1 October) and 将到期 (the problem due 8 November)
    assert [text for text, _ in district] == [
        "甲指导员（章贡区）：1 个党组织超期未走访，1 个问题超期"
    ]
    assert sorted(text for text, _ in city) == [
        "丙指导员（南康区）：1 个党组织超期未走访",
        "甲指导员（章贡区）：1 个党组织超期未走访，1 个问题超期",
    ]


@pytest.mark.parametrize(
    ("day", "working"),
    [
        (date(2026, 9, 20), True),  # Sunday, worked for National Day (调休)
        (date(2026, 9, 25), False),  # 中秋节, a Friday
        (date(2026, 9, 30), True),
        *((date(2026, 10, d), False) for d in range(1, 8)),  # 国庆节 1–7 October
        (date(2026, 10, 8), True),
        (date(2026, 10, 10), True),  # Saturday, worked for National Day (调休)
        (date(2026, 10, 11), False),  # Sunday
    ],
)
def test_the_official_calendar_decides_working_days(day, working):
    assert workdays.is_workday(day) is working


def test_the_weekly_digest_goes_on_the_weeks_first_working_day():
    assert workdays.weekly_day(date(2026, 11, 18)) == date(2026, 11, 16)  # Monday
    # Monday 5 October is in the National Day holiday: Thursday 8 October
    assert workdays.weekly_day(date(2026, 10, 10)) == date(2026, 10, 8)
    # The week of 15 February 2026 (Monday 16th) is wholly 春节: none that week
    assert workdays.weekly_day(date(2026, 2, 18)) is None


def test_on_a_holiday_no_morning_digest_goes_out(app, records):
    with app.app_context():
        assert list(schedule.due_on(date(2026, 10, 5))) == []
        notes = schedule.notes(date(2026, 10, 5))
    assert "2026-10-05 不是工作日（法定节假日或休息日），不发晨间提醒。" in notes
    assert "本周的每周提醒在 2026-10-08 发送。" in notes


def test_a_year_the_calendar_does_not_know_falls_back_to_monday_to_friday():
    later = date(2099, 6, 1)  # a Monday
    assert not workdays.is_known(later)
    assert workdays.is_workday(later)
    assert not workdays.is_workday(later + timedelta(days=5))


def test_every_page_the_morning_digest_links_to_opens_offline(app, records):
    """Each line's page is in the instructor's offline set, so a phone that has it cached opens
    it in a factory yard with no signal."""
    from urllib.parse import urlsplit

    from crm.accounts.models import Account
    from crm.offline.services import offline_set

    with app.app_context():
        (digest,) = digests.instructor_digests(DAY, [records["a"]])
        linked = {urlsplit(digests.url_of(line)).path for s in digest.sections for line in s.lines}
        with app.test_request_context():
            kept = set(offline_set(db.session.get(Account, records["a"])).pages)
    assert len(linked) == 7
    assert linked <= kept, linked - kept


def test_the_preview_prints_each_digest_and_its_reader_and_sends_nothing(app, records, runner):
    result = runner.invoke(args=["reminders", "preview", "--date", "2026-11-16"])
    assert result.exit_code == 0, result.output
    assert result.output.count("=== 08:00 发给 ") == 2
    assert result.output.count("=== 08:30 发给 ") == 2
    assert "=== 08:00 发给 甲指导员（a）===" in result.output
    assert "2026-11-16 共 4 条提醒（预览，未发送）。" in result.output
    one = runner.invoke(args=["reminders", "preview", "--date", "2026-11-16", "--user", "c"])
    assert "2026-11-16 共 1 条提醒" in one.output


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--date", "2026-11-31"], "日期“2026-11-31”应写成 YYYY-MM-DD"),
        (["--date", "下周一"], "日期“下周一”应写成 YYYY-MM-DD"),
        (["--user", "nobody"], "没有用户名为“nobody”的账号。"),
    ],
)
def test_a_bad_date_or_an_unknown_user_exits_2_with_a_message(app, runner, args, message):
    result = runner.invoke(args=["reminders", "preview", *args])
    assert result.exit_code == 2
    assert message in result.output


def test_a_scope_too_large_to_count_reads_the_stored_figures_and_says_the_same(app, records):
    """Beyond REVIEW_LIVE_LIMIT instructors the weekly digest reads what the scheduler stored
    (crm.review.scale): the same lines as counting them."""
    from crm.review import stored_tables

    monday = date(2026, 11, 16)
    with app.app_context():
        reviewer = next(a for a in digests.reviewers() if a.username == "reviewer")
        live = digests.reviewer_digest(reviewer, monday)
        app.config["REVIEW_LIVE_LIMIT"] = 1
        stored_tables.refresh(monday)
        db.session.commit()
        stored = digests.reviewer_digest(reviewer, monday)
        assert _lines(stored) == _lines(live)
    assert [s.total for s in stored.sections] == [s.total for s in live.sections]
