"""The analysis module's own tables: sealed blocks of responses kept as columns, and the count
of changes to the responses that the blocks and servers' frames must notice."""

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
    # The responses' version (ResponseVersion) the block was read at.
    data_version: Mapped[int] = mapped_column(server_default="0")
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class ResponseVersion(db.Model):
    """One row, counting the changes to the responses that a count of them cannot see.

    Written only by the triggers of migration 0008, on any DELETE of a response, any UPDATE of
    what the figures read of one, and any UPDATE of response_block, made by the app or by hand.
    No row yet reads as version 0.
    """

    __tablename__ = "response_version"

    id: Mapped[int] = mapped_column(primary_key=True)
    version: Mapped[int]
