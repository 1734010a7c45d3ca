"""The analysis module's own table: sealed blocks of responses kept as columns."""

from datetime import datetime

from sqlalchemy import LargeBinary, String
from sqlalchemy.orm import Mapped, mapped_column

from core.extensions import db
from core.models import utcnow


class ResponseBlock(db.Model):
    """The figures' columns of the responses with first_id <= id <= last_id (see blocks.py)."""

    __tablename__ = "response_block"

    id: Mapped[int] = mapped_column(primary_key=True)
    first_id: Mapped[int] = mapped_column(unique=True)
    last_id: Mapped[int]
    count: Mapped[int]
    layout: Mapped[str] = mapped_column(String(200))
    data: Mapped[bytes] = mapped_column(LargeBinary)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
