"""SQL tables. Portable types only (no PostGIS): SQLite by default, PostgreSQL alike.

Tables are storage, never API models; converters live in the services and the API.
Times are stored as naive UTC by :class:`UTCDateTime` and come back aware (UTC).
Geometry is GeoJSON text; the coarse spatial pass uses integer H3 cells.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import (
    BigInteger,
    DateTime,
    Float,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    MetaData,
    SmallInteger,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.engine import Dialect
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column
from sqlalchemy.types import TypeDecorator

__all__ = [
    "Alert",
    "Base",
    "Conflict",
    "IdempotencyRecord",
    "JournalEntry",
    "JournalHead",
    "Notice",
    "Party",
    "Token",
    "UTCDateTime",
    "Volume",
    "VolumeCell",
]


class UTCDateTime(TypeDecorator[datetime]):
    """Aware UTC datetimes in, stored naive UTC (sortable on every backend), aware out."""

    impl = DateTime
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to the store; use UTC with tzinfo")
        return value.astimezone(UTC).replace(tzinfo=None)

    def process_result_value(self, value: Any, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        assert isinstance(value, datetime)
        return value.replace(tzinfo=UTC)


_NAMING = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=_NAMING)


class Party(Base):
    __tablename__ = "parties"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(100), unique=True)
    role: Mapped[str] = mapped_column(String(20))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)


class Token(Base):
    """A party's bearer token, kept as its SHA-256 only."""

    __tablename__ = "tokens"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    party_id: Mapped[int] = mapped_column(ForeignKey("parties.id"), index=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)


class Notice(Base):
    __tablename__ = "notices"
    id: Mapped[str] = mapped_column(String(40), primary_key=True)
    party_id: Mapped[int] = mapped_column(ForeignKey("parties.id"), index=True)
    title: Mapped[str] = mapped_column(String(200), default="")
    state: Mapped[str] = mapped_column(String(20))
    version: Mapped[int] = mapped_column(Integer)
    filed_at: Mapped[datetime] = mapped_column(UTCDateTime)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime)
    lead_time_s: Mapped[float] = mapped_column(Float)


class Volume(Base):
    """One Volume4D of a notice (``position`` is its index in the notice).

    ``geometry`` is the GeoJSON as filed; ``shape_wkb`` the validated lon/lat polygon the
    core tests with (for a circle, the polygon that contains it), so a search need not
    validate stored volumes again.
    """

    __tablename__ = "volumes"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    notice_id: Mapped[str] = mapped_column(ForeignKey("notices.id"), index=True)
    party_id: Mapped[int] = mapped_column(ForeignKey("parties.id"))
    position: Mapped[int] = mapped_column(Integer)
    geometry: Mapped[str] = mapped_column(Text)
    radius_m: Mapped[float | None] = mapped_column(Float, nullable=True)
    shape_wkb: Mapped[bytes] = mapped_column(LargeBinary)
    lower_m: Mapped[float] = mapped_column(Float)
    upper_m: Mapped[float] = mapped_column(Float)
    start_at: Mapped[datetime] = mapped_column(UTCDateTime)
    end_at: Mapped[datetime] = mapped_column(UTCDateTime)


class VolumeCell(Base):
    """The coarse index: one row per H3 cell covering a live volume's footprint.

    ``span_class`` bounds the window's length (see ``notices.cells``), so a search can
    range-scan ``start_at`` instead of reading every row of a cell.
    """

    __tablename__ = "volume_cells"
    cell: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    span_class: Mapped[int] = mapped_column(SmallInteger, primary_key=True)
    start_at: Mapped[datetime] = mapped_column(UTCDateTime, primary_key=True)
    volume_id: Mapped[int] = mapped_column(
        ForeignKey("volumes.id", ondelete="CASCADE"), primary_key=True, index=True
    )
    end_at: Mapped[datetime] = mapped_column(UTCDateTime)
    lower_m: Mapped[float] = mapped_column(Float)
    upper_m: Mapped[float] = mapped_column(Float)
    party_id: Mapped[int] = mapped_column(Integer)


class Conflict(Base):
    """Two things of different parties that meet; ``a`` is the one filed later."""

    __tablename__ = "conflicts"
    id: Mapped[str] = mapped_column(String(40), primary_key=True)
    kind: Mapped[str] = mapped_column(String(30))
    state: Mapped[str] = mapped_column(String(20))
    a_party_id: Mapped[int] = mapped_column(ForeignKey("parties.id"))
    b_party_id: Mapped[int] = mapped_column(ForeignKey("parties.id"))
    a_notice_id: Mapped[str | None] = mapped_column(String(40), nullable=True, index=True)
    b_notice_id: Mapped[str | None] = mapped_column(String(40), nullable=True, index=True)
    a_position: Mapped[int | None] = mapped_column(Integer, nullable=True)
    b_position: Mapped[int | None] = mapped_column(Integer, nullable=True)
    geometry: Mapped[str] = mapped_column(Text)
    lower_m: Mapped[float] = mapped_column(Float)
    upper_m: Mapped[float] = mapped_column(Float)
    start_at: Mapped[datetime] = mapped_column(UTCDateTime)
    end_at: Mapped[datetime] = mapped_column(UTCDateTime)
    detected_at: Mapped[datetime] = mapped_column(UTCDateTime)
    resolved_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)


class Alert(Base):
    """One party's need-to-know view of a conflict: never the counterpart's whole plan."""

    __tablename__ = "alerts"
    id: Mapped[str] = mapped_column(String(40), primary_key=True)
    party_id: Mapped[int] = mapped_column(ForeignKey("parties.id"))
    conflict_id: Mapped[str] = mapped_column(ForeignKey("conflicts.id"), index=True)
    kind: Mapped[str] = mapped_column(String(30))
    state: Mapped[str] = mapped_column(String(20))
    priority: Mapped[str] = mapped_column(String(10))
    counterpart: Mapped[str] = mapped_column(String(100))
    notice_id: Mapped[str | None] = mapped_column(String(40), nullable=True)
    position: Mapped[int | None] = mapped_column(Integer, nullable=True)
    geometry: Mapped[str] = mapped_column(Text)
    lower_m: Mapped[float] = mapped_column(Float)
    upper_m: Mapped[float] = mapped_column(Float)
    start_at: Mapped[datetime] = mapped_column(UTCDateTime)
    end_at: Mapped[datetime] = mapped_column(UTCDateTime)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    acknowledged_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)

    __table_args__ = (Index("ix_alerts_party_created", "party_id", "created_at"),)


class IdempotencyRecord(Base):
    """The first answer to a request made with an ``Idempotency-Key``, per party."""

    __tablename__ = "idempotency_keys"
    party_id: Mapped[int] = mapped_column(ForeignKey("parties.id"), primary_key=True)
    key: Mapped[str] = mapped_column(String(200), primary_key=True)
    request_hash: Mapped[str] = mapped_column(String(64))
    status: Mapped[int] = mapped_column(Integer)
    response: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)


class JournalEntry(Base):
    """One event; ``hash`` = SHA-256 over the previous hash and this entry's canonical JSON."""

    __tablename__ = "journal"
    seq: Mapped[int] = mapped_column(BigInteger().with_variant(Integer, "sqlite"), primary_key=True)
    at: Mapped[datetime] = mapped_column(UTCDateTime)
    kind: Mapped[str] = mapped_column(String(50))
    party: Mapped[str | None] = mapped_column(String(100), nullable=True)
    subject: Mapped[str | None] = mapped_column(String(100), nullable=True)
    payload: Mapped[str] = mapped_column(Text)
    prev_hash: Mapped[str] = mapped_column(String(64))
    hash: Mapped[str] = mapped_column(String(64), unique=True)


class JournalHead(Base):
    """The chain's head, one row: its lock serialises appends on every backend."""

    __tablename__ = "journal_head"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    seq: Mapped[int] = mapped_column(BigInteger)
    hash: Mapped[str] = mapped_column(String(64))

    __table_args__ = (UniqueConstraint("seq"),)
