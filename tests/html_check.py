"""Every HTML page the suite produces, for every role that signs in during it, is checked for
the faults that break a form for a screen reader or a click on a label (issue 19.6): an id used
twice, a label pointing at an id that is not there, a field nobody labelled. The `app` fixture
installs the check and fails the test at its end when a page had one, as it does for the
privacy scan.
"""

from collections import Counter
from html.parser import HTMLParser

from flask import Flask, Response, request
from flask_login import current_user

UNLABELLED_TYPES = {"hidden", "submit", "button", "reset", "image"}


class Page(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.ids: Counter[str] = Counter()
        self.label_targets: list[str] = []
        self.fields: list[tuple[str, dict[str, str | None]]] = []  # (tag, attributes)
        self.labelled_by_wrapping: set[int] = set()  # indexes into fields
        self.open_labels = 0

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        attributes = dict(attrs)
        if attributes.get("id"):
            self.ids[attributes["id"]] += 1
        if tag == "label":
            self.open_labels += 1
            if attributes.get("for"):
                self.label_targets.append(attributes["for"])
        elif tag in ("input", "select", "textarea"):
            if tag == "input" and (attributes.get("type") or "text") in UNLABELLED_TYPES:
                return
            if self.open_labels:
                self.labelled_by_wrapping.add(len(self.fields))
            self.fields.append((tag, attributes))

    def handle_endtag(self, tag: str) -> None:
        if tag == "label" and self.open_labels:
            self.open_labels -= 1

    def faults(self) -> list[str]:
        found = [f"id “{name}” used {n} times" for name, n in self.ids.items() if n > 1]
        found += [f"label for “{target}”, no such id" for target in self.label_targets
                  if target not in self.ids]  # fmt: skip
        targets = set(self.label_targets)
        for index, (tag, attributes) in enumerate(self.fields):
            if (index in self.labelled_by_wrapping or attributes.get("id") in targets
                    or attributes.get("aria-label") or attributes.get("aria-labelledby")
                    or attributes.get("title")):  # fmt: skip
                continue
            name = attributes.get("name") or attributes.get("id") or ""
            found.append(f"<{tag} name=“{name}”> has no label")
        return found


def faults_of(html: str) -> list[str]:
    page = Page()
    page.feed(html)
    page.close()
    return page.faults()


def install(app: Flask) -> list[tuple[str, str, str]]:
    """Check every HTML answer; returns the list of faults (path, username, fault), which grows
    as the test runs."""
    faults: list[tuple[str, str, str]] = []

    @app.after_request
    def check(response: Response) -> Response:
        if response.mimetype != "text/html" or response.direct_passthrough:
            return response
        who = current_user.username if current_user.is_authenticated else "anonymous"
        faults.extend((request.path, who, fault)
                      for fault in faults_of(response.get_data(as_text=True)))  # fmt: skip
        return response

    return faults
