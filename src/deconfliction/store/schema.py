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
    Boolean,
    DateTime,
    Float,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    MetaData,
    PrimaryKeyConstraint,
    SmallInteger,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.engine import Dialect
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column
from sqlalchemy.sql.expression import false
from sqlalchemy.types import TypeDecorator

__all__ = [
    "Agreement",
    "Alert",
    "Base",
    "Conflict",
    "Event",
    "F3548Availability",
    "F3548Entity",
    "F3548Subscription",
    "IdempotencyRecord",
    "JournalCheckpoint",
    "JournalEntry",
    "JournalHead",
    "JournalNode",
    "Message",
    "Notice",
    "NoticeApproval",
    "Party",
    "PartyKey",
    "PartyLimit",
    "Receipt",
    "ServiceKey",
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
    event_seq: Mapped[int] = mapped_column(BigInteger, default=0, server_default="0")
    """The last sequence number given to an event for this party (see :class:`Event`)."""


class Token(Base):
    """A party's bearer token, kept as its SHA-256 only."""

    __tablename__ = "tokens"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    party_id: Mapped[int] = mapped_column(ForeignKey("parties.id"), index=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    expires_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    """When it stops being accepted, if it was issued with an expiry."""


class PartyLimit(Base):
    """One limit set for one party (see :mod:`deconfliction.limits`); the others are
    the settings' defaults."""

    __tablename__ = "party_limits"
    party_id: Mapped[int] = mapped_column(ForeignKey("parties.id"), primary_key=True)
    name: Mapped[str] = mapped_column(String(50), primary_key=True)
    value: Mapped[float] = mapped_column(Float)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime)


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
    short_notice: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())
    starts_at: Mapped[datetime] = mapped_column(UTCDateTime)
    """The earliest start of its volumes: when it should activate."""
    ends_at: Mapped[datetime] = mapped_column(UTCDateTime)
    """The latest end of its volumes: when it closes."""
    activation_blocked_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    """When its start came with acknowledgments or approvals missing (told once)."""
    standing: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())
    """An authority's standing zone (airspace structure, filed by ``zones import``)."""

    __table_args__ = (
        Index("ix_notices_state_starts", "state", "starts_at"),
        Index("ix_notices_state_ends", "state", "ends_at"),
    )


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
    floor_m: Mapped[float | None] = mapped_column(Float, nullable=True)
    """The ground elevation under a standing zone's volume, metres in the feeds'
    reference, where its authority gives one (the tracks service's floor there)."""


class VolumeCell(Base):
    """The coarse index: one row per H3 cell covering a live volume's footprint.

    ``span_class`` bounds the window's length (see ``notices.cells``), so a search can
    range-scan ``start_at`` instead of reading every row of a cell. The search reads
    every column from the primary key's index alone: on SQLite the rows live in it
    (``WITHOUT ROWID``), on PostgreSQL it includes the other columns (index-only scans).
    """

    __tablename__ = "volume_cells"
    __table_args__ = (
        PrimaryKeyConstraint(
            "cell",
            "span_class",
            "start_at",
            "volume_id",
            postgresql_include=["end_at", "lower_m", "upper_m", "party_id"],
        ),
        {"sqlite_with_rowid": False},
    )
    cell: Mapped[int] = mapped_column(BigInteger)
    span_class: Mapped[int] = mapped_column(SmallInteger)
    start_at: Mapped[datetime] = mapped_column(UTCDateTime)
    volume_id: Mapped[int] = mapped_column(ForeignKey("volumes.id", ondelete="CASCADE"), index=True)
    end_at: Mapped[datetime] = mapped_column(UTCDateTime)
    lower_m: Mapped[float] = mapped_column(Float)
    upper_m: Mapped[float] = mapped_column(Float)
    party_id: Mapped[int] = mapped_column(Integer)


class Conflict(Base):
    """Two things that meet. Which side is ``a``, by ``kind``:

    * ``notice-notice``: ``a`` is the notice filed later, ``b`` the stored one;
    * ``track-track``: ``a`` is the party of the aircraft with the lower id;
    * ``track-volume``: ``a`` is the aircraft's party, ``b`` the volume's owner;
    * ``nonconforming``: both are the aircraft's party (its own notice).
    """

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
    """One party's need-to-know view of a conflict: never the counterpart's whole plan.

    ``ack_deadline`` is the current tier's deadline; ``escalation_state`` is ``none``,
    ``escalated`` (at ``escalation_tier``), ``stopped`` (acknowledged or resolved) or
    ``unacknowledged`` (the ladder ran out), see ``deconfliction.hotline.escalation``.
    """

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
    ack_deadline: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    escalation_tier: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    escalation_state: Mapped[str] = mapped_column(String(20), default="none", server_default="none")

    __table_args__ = (
        Index("ix_alerts_party_created", "party_id", "created_at"),
        Index("ix_alerts_escalation_due", "escalation_state", "ack_deadline"),
    )


class IdempotencyRecord(Base):
    """The first answer to a request made with an ``Idempotency-Key``, per party."""

    __tablename__ = "idempotency_keys"
    party_id: Mapped[int] = mapped_column(ForeignKey("parties.id"), primary_key=True)
    key: Mapped[str] = mapped_column(String(200), primary_key=True)
    request_hash: Mapped[str] = mapped_column(String(64))
    status: Mapped[int] = mapped_column(Integer)
    response: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, index=True)


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


class JournalNode(Base):
    """The hash of one perfect subtree of the journal's Merkle tree (RFC 9162): ``level``
    ``L`` and ``idx`` ``i`` cover entries ``i * 2**L + 1`` to ``(i + 1) * 2**L`` (seq).
    Only levels from ``deconfliction.journal.log.STORED_LEVEL`` up are kept; lower ones
    are hashed again from the entries when a proof needs them."""

    __tablename__ = "journal_nodes"
    level: Mapped[int] = mapped_column(SmallInteger, primary_key=True)
    idx: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    hash: Mapped[bytes] = mapped_column(LargeBinary)


class JournalCheckpoint(Base):
    """A signed checkpoint of the journal's Merkle tree: its size (entries), root hash and
    time; ``body`` is the canonical JSON signed (Ed25519, hex) by :class:`ServiceKey`."""

    __tablename__ = "journal_checkpoints"
    tree_size: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)
    root_hash: Mapped[str] = mapped_column(String(64))
    at: Mapped[datetime] = mapped_column(UTCDateTime, index=True)
    body: Mapped[str] = mapped_column(Text)
    signature: Mapped[str] = mapped_column(String(128))


class Event(Base):
    """The outbox: one row per thing a party must see, numbered per party (1, 2, 3, ...).

    Written in the same transaction as the change it reports; a client resumes from the
    last ``seq`` it has, so nothing is lost or seen twice. ``Party.event_seq`` holds the
    last number given, incremented under the party row's lock.
    """

    __tablename__ = "events"
    party_id: Mapped[int] = mapped_column(ForeignKey("parties.id"), primary_key=True)
    seq: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    kind: Mapped[str] = mapped_column(String(50))
    item_id: Mapped[str | None] = mapped_column(String(40), nullable=True, index=True)
    payload: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)


class Agreement(Base):
    """What two parties agreed; ``terms`` is JSON read by ``deconfliction.agreements``.

    One row per pair, ``party_a_id < party_b_id``; ``version`` counts changes.
    """

    __tablename__ = "agreements"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    party_a_id: Mapped[int] = mapped_column(ForeignKey("parties.id"))
    party_b_id: Mapped[int] = mapped_column(ForeignKey("parties.id"), index=True)
    version: Mapped[int] = mapped_column(Integer)
    terms: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime)

    __table_args__ = (UniqueConstraint("party_a_id", "party_b_id"),)


class NoticeApproval(Base):
    """A party's required acknowledgment or approval of a notice before it may activate.

    ``kind`` is ``acknowledgment`` (a counterpart under an agreement) or ``approval``
    (an authority whose zone the notice enters); ``state`` is ``pending``,
    ``acknowledged``, ``approved`` or ``rejected`` (with ``reason``).
    """

    __tablename__ = "notice_approvals"
    notice_id: Mapped[str] = mapped_column(ForeignKey("notices.id"), primary_key=True)
    party_id: Mapped[int] = mapped_column(ForeignKey("parties.id"), primary_key=True)
    kind: Mapped[str] = mapped_column(String(20), primary_key=True)
    state: Mapped[str] = mapped_column(String(20))
    reason: Mapped[str | None] = mapped_column(Text, nullable=True)
    requested_at: Mapped[datetime] = mapped_column(UTCDateTime)
    decided_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)


class Message(Base):
    """A hotline message, party to party, with its receipts' times and escalation state.

    ``ack_deadline`` and ``escalation_state`` work as for :class:`Alert`. ``handle`` is
    the conflict id of a message between the two sides of an anonymous conflict: neither
    side is shown the other's name.
    """

    __tablename__ = "messages"
    id: Mapped[str] = mapped_column(String(40), primary_key=True)
    thread_id: Mapped[str] = mapped_column(String(40), index=True)
    in_reply_to: Mapped[str | None] = mapped_column(String(40), nullable=True)
    sender_id: Mapped[int] = mapped_column(ForeignKey("parties.id"), index=True)
    recipient_id: Mapped[int] = mapped_column(ForeignKey("parties.id"), index=True)
    priority: Mapped[str] = mapped_column(String(10))
    text: Mapped[str] = mapped_column(Text)
    ref_kind: Mapped[str | None] = mapped_column(String(20), nullable=True)
    ref_id: Mapped[str | None] = mapped_column(String(100), nullable=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    delivered_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    read_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    acknowledged_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    ack_deadline: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    escalation_tier: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    escalation_state: Mapped[str] = mapped_column(String(20), default="none", server_default="none")
    handle: Mapped[str | None] = mapped_column(String(40), nullable=True)

    __table_args__ = (Index("ix_messages_escalation_due", "escalation_state", "ack_deadline"),)


class Receipt(Base):
    """A signed statement that an item reached (or was acknowledged by) a party, and when.

    ``body`` is the canonical JSON that was signed (item hash, party, event, time,
    journal position); ``signature`` is Ed25519 over it, hex, by :class:`ServiceKey`.
    """

    __tablename__ = "receipts"
    id: Mapped[str] = mapped_column(String(40), primary_key=True)
    party_id: Mapped[int] = mapped_column(ForeignKey("parties.id"), index=True)
    item_kind: Mapped[str] = mapped_column(String(20))
    item_id: Mapped[str] = mapped_column(String(40), index=True)
    event: Mapped[str] = mapped_column(String(20))
    at: Mapped[datetime] = mapped_column(UTCDateTime)
    item_hash: Mapped[str] = mapped_column(String(64))
    journal_seq: Mapped[int] = mapped_column(BigInteger)
    body: Mapped[str] = mapped_column(Text)
    signature: Mapped[str] = mapped_column(String(128))

    __table_args__ = (UniqueConstraint("party_id", "item_id", "event"),)


class ServiceKey(Base):
    """The service's Ed25519 signing key, made on first start and kept with the data."""

    __tablename__ = "service_keys"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    algorithm: Mapped[str] = mapped_column(String(20))
    public_key: Mapped[str] = mapped_column(String(128))
    private_key: Mapped[str] = mapped_column(String(128))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)


class PartyKey(Base):
    """A party's Ed25519 public key (hex), with which it signs its requests (RFC 9421);
    ``id`` is the ``keyid`` its signatures name. A revoked key verifies nothing signed
    after ``revoked_at``."""

    __tablename__ = "party_keys"
    id: Mapped[str] = mapped_column(String(100), primary_key=True)
    party_id: Mapped[int] = mapped_column(ForeignKey("parties.id"), index=True)
    algorithm: Mapped[str] = mapped_column(String(20))
    public_key: Mapped[str] = mapped_column(String(128))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)


# Issue 11: F3548 -- the DSS's own records beside the notices they stand for.


class F3548Entity(Base):
    """An F3548 operational intent or constraint reference: the notice of its USS's
    party that holds its volumes (searched and journaled as every notice is), and what
    the standard adds (OVN, version, state, base URL, subscription)."""

    __tablename__ = "f3548_entities"
    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    kind: Mapped[str] = mapped_column(String(20))
    notice_id: Mapped[str] = mapped_column(ForeignKey("notices.id"), unique=True)
    party_id: Mapped[int] = mapped_column(ForeignKey("parties.id"), index=True)
    manager: Mapped[str] = mapped_column(String(100))
    version: Mapped[int] = mapped_column(Integer)
    ovn: Mapped[str] = mapped_column(String(64))
    state: Mapped[str] = mapped_column(String(20))
    uss_base_url: Mapped[str] = mapped_column(Text)
    subscription_id: Mapped[str | None] = mapped_column(String(36), nullable=True, index=True)
    time_start: Mapped[datetime] = mapped_column(UTCDateTime)
    time_end: Mapped[datetime] = mapped_column(UTCDateTime)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime)


class F3548Subscription(Base):
    """An F3548 subscription: its 4D area (footprint as WKB, bounding box for the coarse
    pass), what it is notified of, and its notification index (0, then +1 a notice)."""

    __tablename__ = "f3548_subscriptions"
    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    party_id: Mapped[int] = mapped_column(ForeignKey("parties.id"), index=True)
    manager: Mapped[str] = mapped_column(String(100))
    version: Mapped[str] = mapped_column(String(40))
    notification_index: Mapped[int] = mapped_column(Integer)
    uss_base_url: Mapped[str] = mapped_column(Text)
    notify_for_operational_intents: Mapped[bool] = mapped_column(Boolean)
    notify_for_constraints: Mapped[bool] = mapped_column(Boolean)
    implicit: Mapped[bool] = mapped_column(Boolean)
    shape_wkb: Mapped[bytes] = mapped_column(LargeBinary)
    min_lon: Mapped[float] = mapped_column(Float)
    min_lat: Mapped[float] = mapped_column(Float)
    max_lon: Mapped[float] = mapped_column(Float)
    max_lat: Mapped[float] = mapped_column(Float)
    lower_m: Mapped[float] = mapped_column(Float)
    upper_m: Mapped[float] = mapped_column(Float)
    time_start: Mapped[datetime] = mapped_column(UTCDateTime)
    time_end: Mapped[datetime] = mapped_column(UTCDateTime, index=True)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime)


class F3548Availability(Base):
    """A USS's availability as arbitrated (``Unknown``, ``Normal``, ``Down``) and the
    version of that record (empty until first set)."""

    __tablename__ = "f3548_availability"
    uss: Mapped[str] = mapped_column(String(100), primary_key=True)
    availability: Mapped[str] = mapped_column(String(10))
    version: Mapped[str] = mapped_column(String(40))
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime)
