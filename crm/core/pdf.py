"""PDF from a Jinja template with WeasyPrint, which may fetch nothing at all."""

import threading

from flask import render_template

# One PDF at a time in a process: WeasyPrint lays text out with Pango, fontconfig and HarfBuzz
# through cffi, which are not safe to use from two threads at once (a threaded server, two
# scheduler jobs, CRM_REPORT_WORKERS=0). Worker processes, each with its own, run in parallel.
_ONE_AT_A_TIME = threading.Lock()


class FetchRefusedError(ValueError):
    """A PDF template asked for an outside resource; everything it needs is inline."""


def _refuse(url: str, *args, **kwargs):
    raise FetchRefusedError(f"PDFs fetch nothing: {url}")


def render_pdf(template: str, **context) -> bytes:
    """The template rendered to PDF. Fonts come from the system (Noto Sans CJK SC, named in
    the template's CSS on `html`); any URL in the page is refused."""
    from weasyprint import HTML  # 0.6 s to import: only where a PDF is made, not at every start

    html = render_template(template, **context)
    with _ONE_AT_A_TIME:
        return HTML(string=html, url_fetcher=_refuse).write_pdf()
