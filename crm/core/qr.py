"""QR codes drawn on the server (nothing fetched), for a phone's camera."""

import segno


def qr_data_uri(text: str) -> str:
    """A QR code of `text` as an SVG data URI for an <img>. segno's data URI carries the SVG
    namespace: without it (svg_inline's output) a browser draws nothing."""
    return segno.make(text, error="m").svg_data_uri(scale=4, border=2)
