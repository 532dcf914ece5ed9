"""Settings, from arguments or ``DECONFLICTION_*`` environment variables; read once, passed down."""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, fields

from deconfliction.agreements.terms import DEFAULT_ACK_DEADLINES_S, AckDeadlines, Disclosure
from deconfliction.core.footprint import DEFAULT_MAX_AREA_M2, MAX_VERTICES, FootprintLimits
from deconfliction.errors import ValidationError
from deconfliction.tactical.params import (
    DEFAULT_HPZ_M,
    DEFAULT_LOOKAHEAD_S,
    DEFAULT_RPZ_M,
    PredictionModel,
)

__all__ = ["DEFAULT_DATABASE_URL", "Settings"]

DEFAULT_DATABASE_URL = "sqlite:///deconfliction.db"


@dataclass(frozen=True)
class Settings:
    """Everything the service is configured with. Units: metres, square metres, seconds."""

    database_url: str = DEFAULT_DATABASE_URL
    nats_url: str | None = None
    max_footprint_area_m2: float = DEFAULT_MAX_AREA_M2
    max_vertices: int = MAX_VERTICES
    max_volumes_per_notice: int = 100
    max_body_bytes: int = 4_000_000
    idempotency_ttl_s: float = 86_400.0
    """Seconds a request's Idempotency-Key keeps its first answer (a retry within it gets
    that answer); then the scheduler forgets it and the key may be used afresh."""
    auth_cache_s: float = 10.0
    """Seconds the service may go on accepting a token without asking the store again
    (a token revoked in the store is refused at most this much later); 0: ask every time."""
    tick_s: float = 1.0
    """Seconds between scheduler runs (lifecycle, escalation); 0 or less: no scheduler."""
    ack_routine_s: float = DEFAULT_ACK_DEADLINES_S["routine"]
    ack_urgent_s: float = DEFAULT_ACK_DEADLINES_S["urgent"]
    ack_flash_s: float = DEFAULT_ACK_DEADLINES_S["flash"]
    """Acknowledgment deadlines per priority (seconds) between parties with no agreement."""
    track_tick_s: float = 1.0
    """Seconds between ticks of the tactical engine; 0 or less: no engine loop."""
    track_max_age_s: float = 60.0
    """Seconds after which an aircraft's last state ages out (and older states are refused)."""
    track_max_ahead_s: float = 30.0
    """States stamped more than this many seconds after the service's clock are refused."""
    track_max_batch: int = 10_000
    """Most aircraft states in one batch (HTTP request or WebSocket message)."""
    track_resolve_ticks: int = 3
    """Consecutive ticks without a tactical conflict before it resolves."""
    track_update_s: float = 15.0
    track_update_m: float = 500.0
    track_update_every_s: float = 30.0
    """An open tactical conflict's parties hear of a changed prediction at most every
    ``track_update_every_s`` seconds, when its moment moved by more than ``track_update_s``
    seconds or its distance at closest approach by ``track_update_m`` metres (and 20 % of
    what was left; see ``deconfliction.tracks.conflicts``)."""
    track_max_writes: int = 200
    """Most tactical conflicts opened, updated or resolved in one tick (the most urgent
    first, the rest in the next ticks): a burst cannot hold a tick up for long."""
    track_rpz_m: float = DEFAULT_RPZ_M
    track_hpz_m: float = DEFAULT_HPZ_M
    track_lookahead_s: float = DEFAULT_LOOKAHEAD_S
    """Tactical minima (metres) and look-ahead (seconds) between parties with no agreement."""
    # Issue 9: bounded tick
    track_cluster_pairs: int = 10
    """Two parties with so many aircraft in one cell (R/2 across, H/2 high) that their
    pairs there number this many or more are told as one ``track-cluster`` alert per
    pair of parties instead of their pairs (see ``deconfliction.tracks.crowds``); 0: no
    clusters, every pair is its own alert."""
    track_tick_budget_s: float = 0.0
    """Seconds one tick of the tactical engine may take before it sheds work: writes
    left when the budget is spent wait for the next ticks, the least urgent first, each
    pair of parties in turn (one write of every pair still goes out), and the parties
    whose writes wait get a ``tracks.shed`` event; 0: 80 % of ``track_tick_s`` (of 1 s
    when there is no tick loop)."""
    # Issue 9: prediction model (see README, "Tactical alerts on real feeds")
    track_floor_m: float = 0.0
    """Floor under aircraft where the feed gives none, metres above mean sea level (the
    feed's own reports lower it where they read lower; see ``deconfliction.tracks.floors``).
    Descents are predicted to land there."""
    track_altitude_quantum_m: float = 7.62
    """Altitude resolution of the feeds (25 ft): separated vertically when |dz| >= H - q."""
    track_level_vs_mps: float = 0.5
    """Vertical speeds within this band (m/s) are level flight (64 ft/min feed steps)."""
    track_ground_height_m: float = 30.48
    track_takeoff_speed_mps: float = 30.0
    """Within this height of its floor (m) and slower than this speed (m/s) an aircraft is
    on the ground and takes no part in track-track prediction."""
    track_ground_hold_s: float = 20.0
    """An aircraft reported on the ground is still on the ground this long after (s), its
    airborne reports meanwhile notwithstanding (a feed's air/ground flag flickers on the
    runway), unless it climbs fast enough to clear the ground height within it."""
    track_gate_speed_mps: float = 600.0
    track_gate_vs_mps: float = 200.0
    """Plausibility gate: a state implying a move faster than these from the aircraft's
    last accepted state (horizontally, vertically; m/s) is suspect, not predicted from."""
    tactical_device: str = "cpu"
    """Where the tactical engine's pairwise work runs: cpu, gpu (CuPy) or auto."""
    # Issue 12: disclosure
    disclosure_default: str = "anonymous"
    """What each side of a pair with no agreement learns of their conflicts: anonymous
    (the overlap and window, never the other's name), named or full."""
    disclosure_exact_after_s: float = 0.0
    """Progressive disclosure between parties with no agreement (and agreements that do
    not say): seconds before a conflict's overlap starts when it is told exactly; until
    then only coarse cells and band. 0: exact at once."""
    disclosure_h3_level: int = 6
    """The H3 level of the coarse cells told before the exact disclosure (6: ~36 km²)."""
    disclosure_band_ft: float = 1000.0
    """The coarse band is rounded out to blocks of this many feet (flight levels)."""
    # Issue 12: transparency log
    journal_checkpoint_s: float = 60.0
    """Seconds between scheduled checkpoints of the journal's Merkle tree (made only when
    entries came since the last, and counted from the first entry for the first one);
    0 or less: only on demand."""
    signature_window_s: float = 300.0
    """Seconds a party's request signature (RFC 9421 ``created``) may lie before or after
    the service's clock; older ones are refused as replays (``signature-invalid``)."""
    # Issue 10: limits. What a deployment starts from; each may be set per party
    # (``deconfliction party limits``), the notice window also per pair (agreement terms).
    max_track_body_bytes: int = 16_000_000
    """Largest body of ``POST /v1/tracks`` (bytes); every other route: ``max_body_bytes``."""
    rate_per_s: float = 20.0
    rate_burst: int = 40
    """Requests a party may make per second on average, and at once (token bucket);
    0 or less: no rate limit."""
    max_active_notices: int = 1_000
    """Live notices (filed, acknowledged, active) a party may hold; standing zones apart."""
    max_aircraft: int = 5_000
    """Aircraft a party may have tracked at once."""
    max_streams: int = 8
    """WebSocket connections (event and track streams) a party may hold open at once."""
    max_unacked: int = 10_000
    """Events a stream sends without an acknowledgment before it ends."""
    notice_horizon_s: float = 30 * 86_400.0
    """How far ahead (seconds) a notice's window may end."""
    notice_max_duration_s: float = 7 * 86_400.0
    """The longest window (earliest start to latest end, seconds) of a notice."""

    # Issue 11: F3548
    f3548_public_keys: str = ""
    """Files (PEM public keys or a JWKS document), separated by ``,`` or ``:``, whose RSA
    keys sign the RS256 access tokens of the F3548 DSS API; empty: no token is accepted."""
    f3548_audiences: str = ""
    """Audiences (``aud``) an F3548 token may name, comma-separated (the DSS's host
    names); empty: the audience is not checked."""
    f3548_max_subscription_s: float = 86_400.0
    """Longest time window of an F3548 subscription, seconds."""

    def __post_init__(self) -> None:
        self.disclosure  # noqa: B018 -- a bad disclosure_default is refused at start

    @property
    def prediction_model(self) -> PredictionModel:
        """The prediction model for the feeds of this deployment."""
        return PredictionModel(
            floor_m=self.track_floor_m,
            altitude_quantum_m=self.track_altitude_quantum_m,
            level_vs_mps=self.track_level_vs_mps,
            ground_height_m=self.track_ground_height_m,
            takeoff_speed_mps=self.track_takeoff_speed_mps,
        )

    @property
    def footprint_limits(self) -> FootprintLimits:
        return FootprintLimits(self.max_footprint_area_m2, self.max_vertices)

    @property
    def ack_deadlines(self) -> AckDeadlines:
        """The acknowledgment deadlines between parties with no agreement."""
        return AckDeadlines(self.ack_routine_s, self.ack_urgent_s, self.ack_flash_s)

    @property
    def disclosure(self) -> Disclosure:
        """The disclosure between parties with no agreement (``disclosure_default``)."""
        return Disclosure.parse(self.disclosure_default, "disclosure_default")

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None, **overrides: object) -> Settings:
        """Settings from ``DECONFLICTION_<FIELD>`` variables, then explicit overrides."""
        environ = os.environ if environ is None else environ
        values: dict[str, object] = {}
        for f in fields(cls):
            raw = environ.get(f"DECONFLICTION_{f.name.upper()}")
            if raw is None:
                continue
            kind = type(getattr(cls, f.name, "")) if f.name != "nats_url" else str
            try:
                values[f.name] = kind(raw) if kind in (int, float) else raw
            except ValueError:
                raise ValidationError(
                    f"DECONFLICTION_{f.name.upper()}={raw!r} is not a valid {kind.__name__}; "
                    "fix or unset that environment variable"
                ) from None
        values.update({k: v for k, v in overrides.items() if v is not None})
        return cls(**values)  # type: ignore[arg-type]
