"""PDF from a Jinja template with WeasyPrint, which may fetch nothing at all."""

from flask import render_template


class FetchRefusedError(ValueError):
    """A PDF template asked for an outside resource; everything it needs is inline."""


def _refuse(url: str, *args, **kwargs):
    raise FetchRefusedError(f"PDFs fetch nothing: {url}")


def render_pdf(template: str, **context) -> bytes:
    """The template rendered to PDF. Fonts come from the system (Noto Sans CJK SC, named in
    the template's CSS on `html`); any URL in the page is refused."""
    from weasyprint import HTML  # 0.6 s to import: only where a PDF is made, not at every start

    html = render_template(template, **context)
    return HTML(string=html, url_fetcher=_refuse).write_pdf()
