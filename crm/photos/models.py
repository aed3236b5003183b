import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from crm.db import Audited, TimestampMixin
from crm.extensions import db


class Photo(Audited, TimestampMixin, db.Model):
    """照片: an image attached to a record, re-encoded (no EXIF) and stored under a random name.

    Who may see it is decided by the record it belongs to, never by the photo itself.
    """

    __tablename__ = "photo"

    id: Mapped[int] = mapped_column(primary_key=True)
    stored_name: Mapped[str] = mapped_column(sa.String(64), unique=True)
    content_type: Mapped[str] = mapped_column(sa.String(20))
    width: Mapped[int]
    height: Mapped[int]
    byte_size: Mapped[int]
    sha256: Mapped[str] = mapped_column(sa.String(64))
    uploaded_by_id: Mapped[int] = mapped_column(sa.ForeignKey("account.id"))

    def __str__(self) -> str:
        return self.stored_name
