"""Taking an uploaded photo: judge it by its bytes, re-encode it, store it, hand out a token.

A photo is written to disk before the record it belongs to is committed; until then the form
carries a signed token naming the file, so a form shown again with errors keeps its photos
without anything written to the database. Files no record claims are swept later.
"""

import hashlib
import io
import os
import secrets
import time
from dataclasses import asdict, dataclass
from datetime import timedelta
from pathlib import Path
from typing import IO

from flask import current_app
from itsdangerous import BadSignature, URLSafeSerializer
from PIL import Image, ImageOps, UnidentifiedImageError
from sqlalchemy import select

from crm.extensions import db
from crm.photos.models import Photo
from crm.rules import RuleError

FORMATS = {  # Pillow's format name: (content type, file ending, save options)
    "JPEG": ("image/jpeg", ".jpg", {"quality": 85, "optimize": True}),
    "PNG": ("image/png", ".png", {"compress_level": 6}),  # optimize: seconds on a big picture
    "WEBP": ("image/webp", ".webp", {"quality": 85}),
}
# Judged from the header, before any pixel is decoded. A JPEG is decoded at a reduced scale
# (Pillow's draft mode: 1/2, 1/4, 1/8), so a phone's 50 MP photo costs what a 12 MP one does;
# PNG and WebP have no such mode and are decoded whole, so they are held to less
# (bench/photo_cost.py: within these, ≤ 1 s and ≤ 150 MB each).
MAX_PIXELS = {"JPEG": 60_000_000, "PNG": 8_000_000, "WEBP": 8_000_000}
THUMB_SIDE = 320  # drawn at 96-160 CSS px: sharp on a phone's 2x screen
THUMB_MAX_BYTES = 30_000
THUMB_SUFFIX = ".thumb.jpg"


class PhotoError(RuleError):
    field = "photos"


@dataclass(frozen=True)
class StoredPhoto:
    """A re-encoded photo on disk that no record holds yet."""

    stored_name: str
    content_type: str
    width: int
    height: int
    byte_size: int
    sha256: str


def photo_folder() -> Path:
    folder = Path(current_app.config["MEDIA_DIR"]) / "photos"
    folder.mkdir(parents=True, exist_ok=True)
    return folder


def path_of(stored_name: str) -> Path:
    return photo_folder() / stored_name


@dataclass(frozen=True)
class Upload:
    """An upload judged by its size and its header, not decoded yet."""

    data: bytes
    label: str


def store_upload(stream: IO[bytes], filename: str) -> StoredPhoto:
    """Check, re-encode and write one upload (judge, then store)."""
    return store(judge(stream, filename))


def judge(stream: IO[bytes], filename: str) -> Upload:
    """Read an upload and judge it without decoding it: at most PHOTO_MAX_BYTES, a JPEG, PNG or
    WebP by its content, within MAX_PIXELS by its header. Raises PhotoError."""
    limit = current_app.config["PHOTO_MAX_BYTES"]
    data = stream.read(limit + 1)
    label = filename or "照片"
    if len(data) > limit:
        raise PhotoError(f"“{label}”超过 {limit // 1_000_000} MB，请换一张或压缩后再传。")
    _header(data, label)
    return Upload(data, label)


def store(upload: Upload) -> StoredPhoto:
    """Decode a judged upload, re-encode it without metadata and write it with its thumbnail.
    Raises PhotoError for a file whose pixels are broken."""
    image = _open_image(upload.data, upload.label)
    encoded, content_type, ending, (width, height) = _reencode(image)
    stored_name = secrets.token_hex(16) + ending
    _write_durably(path_of(stored_name), encoded)
    _write_durably(path_of(stored_name + THUMB_SUFFIX), _thumbnail(image))
    return StoredPhoto(
        stored_name, content_type, width, height, len(encoded), hashlib.sha256(encoded).hexdigest()
    )


def _header(data: bytes, label: str) -> None:
    """Format and pixel count from the header alone. Raises PhotoError."""
    refusal = PhotoError(f"“{label}”不是 JPEG、PNG 或 WebP 图片。")
    try:
        with Image.open(io.BytesIO(data)) as probe:
            if probe.format not in FORMATS:
                raise refusal
            cap = MAX_PIXELS[probe.format]
            if probe.width * probe.height > cap:
                raise PhotoError(
                    f"“{label}”有 {probe.width}×{probe.height} 像素，超过 {cap // 1_000_000} 百万像素，"
                    "请缩小后再传。"
                )
            probe.verify()
    except (UnidentifiedImageError, OSError, SyntaxError, Image.DecompressionBombError) as error:
        raise refusal from error


def _open_image(data: bytes, label: str) -> Image.Image:
    """The picture of a judged upload, decoded: a JPEG at the smallest scale that still gives
    PHOTO_MAX_SIDE."""
    refusal = PhotoError(f"“{label}”不是 JPEG、PNG 或 WebP 图片。")
    try:
        image = Image.open(io.BytesIO(data))
        if image.format == "JPEG":
            side = current_app.config["PHOTO_MAX_SIDE"]
            image.draft(image.mode if image.mode in ("RGB", "L") else "RGB", (side, side))
        image.load()
    except (UnidentifiedImageError, OSError, SyntaxError, Image.DecompressionBombError) as error:
        raise refusal from error
    return image


def _reencode(image: Image.Image) -> tuple[bytes, str, str, tuple[int, int]]:
    """Turn the picture upright, shrink it to PHOTO_MAX_SIDE and save it without metadata."""
    content_type, ending, options = FORMATS[image.format]
    side = current_app.config["PHOTO_MAX_SIDE"]
    image.thumbnail((side, side))  # first, in place: turning a full-size picture would copy it
    pixels = ImageOps.exif_transpose(image)  # keep the orientation EXIF gave, then drop EXIF
    if image.format == "JPEG" and pixels.mode not in ("RGB", "L"):
        pixels = pixels.convert("RGB")
    out = io.BytesIO()
    pixels.save(out, format=image.format, **options)  # no exif= given: none is written
    return out.getvalue(), content_type, ending, pixels.size


def thumbnail_path(stored_name: str) -> Path:
    """The small rendition of a stored photo (made now if an older photo has none)."""
    path = path_of(stored_name + THUMB_SUFFIX)
    if not path.exists():
        with Image.open(path_of(stored_name)) as image:
            image.load()
            _write_durably(path, _thumbnail(image))
    return path


def _thumbnail(image: Image.Image) -> bytes:
    """A JPEG of at most THUMB_SIDE px a side and THUMB_MAX_BYTES, upright, without metadata."""
    pixels = ImageOps.exif_transpose(image)
    pixels.thumbnail((THUMB_SIDE, THUMB_SIDE))
    if pixels.mode in ("RGBA", "LA", "P"):
        pixels = pixels.convert("RGBA")
        flat = Image.new("RGB", pixels.size, "white")
        flat.paste(pixels, mask=pixels.getchannel("A"))
        pixels = flat
    elif pixels.mode != "RGB":
        pixels = pixels.convert("RGB")
    for quality in (75, 60, 45, 30):
        out = io.BytesIO()
        pixels.save(out, format="JPEG", quality=quality, optimize=True, progressive=True)
        if out.tell() <= THUMB_MAX_BYTES:
            break
    return out.getvalue()


def _write_durably(path: Path, data: bytes) -> None:
    partial = path.with_suffix(path.suffix + ".part")
    with open(partial, "wb") as file:
        file.write(data)
        file.flush()
        os.fsync(file.fileno())
    os.replace(partial, path)


def _serializer() -> URLSafeSerializer:
    return URLSafeSerializer(current_app.config["SECRET_KEY"], salt="pending-photo")


def pending_token(photo: StoredPhoto, account_id: int) -> str:
    """A token naming a stored photo that only `account_id` can redeem."""
    return _serializer().dumps({**asdict(photo), "account": account_id})


def redeem(token: str, account_id: int) -> StoredPhoto:
    """The stored photo a token names; raises PhotoError if the token is forged, someone
    else's, or its file is gone."""
    try:
        fields = _serializer().loads(token)
    except BadSignature as error:
        raise PhotoError("照片信息无效，请重新选择照片。") from error
    if fields.pop("account", None) != account_id or not path_of(fields["stored_name"]).exists():
        raise PhotoError("照片已失效，请重新选择照片。")
    return StoredPhoto(**fields)


def save_rows(photos: list[StoredPhoto], uploaded_by_id: int) -> list[Photo]:
    """Create the rows of stored photos as their record is saved."""
    rows = [Photo(**asdict(photo), uploaded_by_id=uploaded_by_id) for photo in photos]
    db.session.add_all(rows)
    return rows


def sweep(older_than: timedelta) -> int:
    """Delete photo files no record claims that are older than `older_than`: uploads of forms
    never saved, and `.part` files of writes a crash cut short. Returns how many went."""
    cutoff = time.time() - older_than.total_seconds()
    old = [p for p in photo_folder().iterdir() if p.is_file() and p.stat().st_mtime < cutoff]
    originals = {
        p.name: p.name.removesuffix(THUMB_SUFFIX) for p in old
    }  # a thumbnail goes with its photo
    claimed = (
        set(
            db.session.scalars(
                select(Photo.stored_name).where(Photo.stored_name.in_(set(originals.values())))
            )
        )
        if old
        else set()
    )
    gone = [p for p in old if originals[p.name] not in claimed]
    for path in gone:
        path.unlink(missing_ok=True)
    return len(gone)
