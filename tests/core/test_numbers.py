"""Numbers too big for the database, negative or not numbers at all, in every place a request
carries one (issue 17.6): in the path, in the query string and in every form's fields. Each
gets the answer an unknown id gets (404, or the form again with a message beside the field),
never an overflow's 500, and nothing is written."""

import re
from html.parser import HTMLParser

import pytest
from flask import request
from werkzeug.datastructures import ImmutableMultiDict

from crm import ROOT
from crm.core.access import PUBLIC, SIGNED_IN, declared_access
from crm.extensions import db
from tests.core.test_access import ROLES, build, every_rule, url_ids
from tests.core.test_hostile_input import FIELD, SKIPPED
from tests.core.test_security import row_counts

HUGE = [str(2**31), str(2**63), "99999999999999999999"]
BAD = [*HUGE, "-1", "-99999999999999999999", "abc", "1e9", "１２"]
# Every name a page reads as a number from its query string.
QUERY_NUMBERS = ["page", "district_id", "year", "branch", "branch_id", "instructor_id",
                 "member_id", "agency_branch_id", "month", "quarter", "kind"]  # fmt: skip


def test_every_number_read_from_a_query_string_is_bounded_as_an_id():
    """`type=int` lets 2**63 through to the database (an overflow, a 500 on PostgreSQL);
    `type=whole_number` (crm.http) answers it as not given. The names the walk below asks
    are a list; this finds a page that reads a number the list does not name."""
    unbounded = [
        f"{path}: {found.group(0)}"
        for path in sorted((ROOT / "crm").rglob("*.py"))
        for found in re.finditer(
            r"args\.get(?:list)?\((?:[^()]|\([^()]*\))*?type=(?:int|float)\b", path.read_text()
        )
    ]
    assert unbounded == []


def allowed(app, rule, username) -> bool:
    access = declared_access(app.view_functions[rule.endpoint])
    return access in (PUBLIC, SIGNED_IN) or ROLES[username] in access


@pytest.mark.parametrize("username", ["admin", "zdy-a", "security"])
def test_a_huge_id_in_the_path_is_an_unknown_id(app, client, auth, world, username):
    auth.login(username)
    ids = url_ids(world)
    walked = 0
    for rule, method in every_rule(app):
        numbered = [name for name, kind in _converters(rule) if kind == "int"]
        if not numbered or rule.endpoint == "accounts.logout" or not allowed(app, rule, username):
            continue
        for value in HUGE:
            url = build(rule, ids | dict.fromkeys(numbered, value))
            response = client.open(url, method=method)
            assert response.status_code == 404, (method, url, response.status_code)
            walked += 1
    assert walked > 60


def _converters(rule):
    return [(m.group(2), m.group(1)) for m in re.finditer(r"<(\w+):(\w+)>", rule.rule)]


EVERY_NAME = "*"


class _NotedArgs(ImmutableMultiDict):
    """A request's query string that notes each name the page reads (EVERY_NAME when the page
    goes through them all)."""

    noted: set[str]

    def __getitem__(self, key):
        self.noted.add(key)
        return super().__getitem__(key)

    def get(self, key, default=None, type=None):
        self.noted.add(key)
        return super().get(key, default, type)

    def getlist(self, key, type=None):
        self.noted.add(key)
        return super().getlist(key, type)

    def __contains__(self, key):
        self.noted.add(key)
        return super().__contains__(key)

    def _every(self, method, *args, **kwargs):
        self.noted.add(EVERY_NAME)
        return getattr(super(), method)(*args, **kwargs)

    def __iter__(self):
        return self._every("__iter__")

    def __len__(self):
        return self._every("__len__")

    def keys(self):
        return self._every("keys")

    def values(self):
        return self._every("values")

    def items(self, multi=False):
        return self._every("items", multi)

    def lists(self):
        return self._every("lists")

    def to_dict(self, flat=True):
        return self._every("to_dict", flat)

    def copy(self):
        return self._every("copy")


def noting_query_names(app) -> set[str]:
    """From now on each request's query string notes what its page reads, into the set
    returned (emptied by the caller between requests)."""
    noted: set[str] = set()

    def note() -> None:
        args = _NotedArgs(request.args)
        args.noted = noted
        request.args = args

    # last of the app's own: the guard against NUL bytes before it reads every value of every
    # request, and is no page reading them
    app.before_request_funcs.setdefault(None, []).append(note)
    return noted


@pytest.mark.parametrize("username", ["admin", "zdy-a", "reviewer-zg", "security", "auditor"])
def test_bad_numbers_in_the_query_string_never_break_a_page(app, client, auth, world, username):
    """Every bad value in every name a page reads as a number. A page that reads none of them
    is asked once: it answers the same whatever they hold."""
    auth.login(username)
    ids = url_ids(world)
    noted = noting_query_names(app)
    asked_again = 0
    for rule, method in every_rule(app):
        if method != "GET" or not allowed(app, rule, username):
            continue
        for value in BAD:
            noted.clear()
            query = dict.fromkeys(QUERY_NUMBERS, value)
            response = client.get(build(rule, ids), query_string=query)
            assert response.status_code < 500, (rule.rule, value)
            assert response.status_code != 403, (rule.rule, value)
            if not noted & {EVERY_NAME, *QUERY_NUMBERS}:
                break
            asked_again += 1
    assert asked_again > 0


class _FormReader(HTMLParser):
    """The values a page's POST forms would send as they stand: inputs, the chosen options,
    text areas; keyed by the form's action."""

    def __init__(self):
        super().__init__()
        self.forms: dict[str, dict[str, list[str]]] = {}
        self.current: dict[str, list[str]] | None = None
        self.select: str | None = None
        self.first_option: str | None = None
        self.area: str | None = None

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if tag == "form" and (a.get("method") or "").lower() == "post":
            self.current = self.forms.setdefault(a.get("action") or "", {})
        elif self.current is None:
            return
        elif tag == "input" and a.get("name"):
            kind = (a.get("type") or "text").lower()
            if kind in ("checkbox", "radio") and "checked" not in a:
                return
            if kind != "file":
                self.current.setdefault(a["name"], []).append(a.get("value") or "")
        elif tag == "select":
            self.select, self.first_option = a.get("name"), None
        elif tag == "option" and self.select:
            if self.first_option is None and a.get("value"):
                self.first_option = a["value"]
            if "selected" in a:
                self.current[self.select] = [a.get("value") or ""]
        elif tag == "textarea" and a.get("name"):
            self.area = a["name"]
            self.current[self.area] = [""]

    def handle_data(self, data):
        if self.area and self.current is not None:
            self.current[self.area] = [self.current[self.area][0] + data]

    def handle_endtag(self, tag):
        if tag == "form":
            self.current = None
        elif tag == "select" and self.current is not None and self.select:
            if self.select not in self.current and self.first_option:
                self.current[self.select] = [self.first_option]
            self.select = None
        elif tag == "textarea":
            self.area = None


def forms_on(html: str) -> dict[str, dict[str, list[str]]]:
    reader = _FormReader()
    reader.feed(html)
    return reader.forms


NUMERIC = re.compile(r"(^|_)(id|ids|year|points|page|to|people_reached|count|number)$|^\d+$")


@pytest.mark.parametrize("username", ["admin", "zdy-a"])
def test_a_bad_number_in_an_otherwise_good_form_is_refused_beside_it(
    app, client, auth, world, username
):
    """Each numeric field of each form, alone made huge or negative, the rest as the page
    fills them in: the one place an overflow would reach the database."""
    auth.login(username)
    ids = url_ids(world)
    tried = 0
    for rule, method in every_rule(app):
        if method != "GET" or rule.endpoint in SKIPPED or not allowed(app, rule, username):
            continue
        url = build(rule, ids)
        page = client.get(url)
        if page.status_code != 200 or page.mimetype != "text/html" or "<form" not in page.text:
            continue
        fill = {"agency_branch_id": world.agency_branch, "branch_id": world.branch_a,
                "instructor_id": world.instructor_a, "member_id": world.member_a,
                "object_id": world.branch_a, "to": world.instructor_a}  # fmt: skip
        for action, found in forms_on(page.text).items():
            target = action or url
            fields = {n: v if any(v) else [str(fill.get(n, "2026-11-02" if n.endswith("_on")
                                                        else "测试"))]
                      for n, v in found.items()}  # fmt: skip
            if target.startswith(("/logout", "http")):
                continue
            for name in [n for n, v in fields.items() if NUMERIC.search(n) or
                         (all(x.isdigit() for x in v if x) and any(v))]:  # fmt: skip
                for value in (HUGE[0], HUGE[2]):
                    data = {**fields, name: [value]}
                    with app.app_context():
                        before = row_counts()
                        db.session.rollback()
                    response = client.post(target, data=data)
                    assert response.status_code < 500, (target, name, value)
                    if response.status_code in (400, 404, 422):
                        with app.app_context():
                            assert row_counts() == before, (target, name, value)
                    tried += 1
    assert tried > 10, tried


@pytest.mark.parametrize("username", ["admin", "zdy-a", "reviewer-zg", "security"])
def test_bad_numbers_in_every_form_are_refused_beside_the_field(app, client, auth, world, username):
    auth.login(username)
    ids = url_ids(world)
    posted = 0
    for rule, method in every_rule(app):
        if method != "POST" or rule.endpoint in SKIPPED or not allowed(app, rule, username):
            continue
        url = build(rule, ids)
        page = client.get(url) if "GET" in rule.methods else None
        names = set(FIELD.findall(page.text)) - {"csrf_token"} if page is not None else set()
        for value in [*HUGE, "-1", "abc"]:
            form = dict.fromkeys(names or {"object_id", "rule", "note"}, value)
            with app.app_context():
                before = row_counts()
                db.session.rollback()
            response = client.post(url, data=form)
            assert response.status_code < 500, (url, value, sorted(form))
            if response.status_code in (400, 404, 422):
                with app.app_context():
                    assert row_counts() == before, (url, value)
            posted += 1
    assert posted > 20
