"""Every page, export and PDF the suite produces for a user without the right to see phone
numbers whole is scanned for one (个人信息保护法): the `app` fixture installs the scan and fails
the test at its end when a number got through.

Admins see numbers whole. An instructor's pages carry the tap-to-call link (`tel:`) of their
own branches' contacts, which the phone dials, and anyone may reveal one number of a record
they can see (an audited action): those are the places a whole number is theirs to have, and
the scan leaves them out. Everything else must be masked (138****1234).
"""

import io
import re
import subprocess

from flask import Flask, Response, request
from flask_login import current_user

from crm.accounts.models import Role
from crm.http import XLSX

# A whole mainland mobile number, standing alone (not inside a longer token such as a key).
WHOLE_NUMBER = re.compile(r"(?<![0-9A-Za-z])1[3-9]\d{9}(?![0-9A-Za-z])")
TEL_LINK = re.compile(r'href="tel:[^"]*"')


def install(app: Flask) -> list[tuple[str, str, str]]:
    """Scan every answer to a signed-in user who is not an admin; returns the list of leaks
    (path, username, number) that grows as the test runs."""
    leaks: list[tuple[str, str, str]] = []

    @app.after_request
    def scan(response: Response) -> Response:
        if (not current_user.is_authenticated or current_user.is_admin
                or request.endpoint == "privacy.reveal"):  # fmt: skip
            return response  # (a reveal shows one number whole, on purpose, and is audited)
        text = readable_text(response)
        if current_user.has_role(Role.INSTRUCTOR):
            text = TEL_LINK.sub("", text)
        leaks.extend((request.path, current_user.username, number)
                     for number in WHOLE_NUMBER.findall(text))  # fmt: skip
        return response

    return leaks


def readable_text(response: Response) -> str:
    """What a person could read in the answer: the page, the JSON, the PDF's or workbook's text."""
    response.direct_passthrough = (
        False  # a sent file: read it here, the client gets it all the same
    )
    body = response.get_data()
    if response.mimetype == "application/pdf":
        return subprocess.run(["pdftotext", "-layout", "-", "-"], input=body,
                              capture_output=True, check=True).stdout.decode()  # fmt: skip
    if response.mimetype == XLSX:
        from openpyxl import load_workbook

        workbook = load_workbook(io.BytesIO(body), read_only=True)
        return "\n".join(" ".join(str(v) for v in row if v is not None)
                         for sheet in workbook.worksheets for row in sheet.values)  # fmt: skip
    if response.mimetype.startswith(("text/", "application/json")):
        return body.decode(errors="replace")
    return ""
