"""The feed decoders' benchmark: messages decoded per second, per source format.

Run it from the repository root::

    python -m benchmarks.feeds            # 20,000 aircraft states of the Paris file
    python -m benchmarks.feeds --quick    # 2,000

The states are real (the first rows of ``../shared/data/traffic/paris_2021-10-07.csv.gz``
with a velocity); each is written in every format a live feed reads, as a receiver or a
surveillance system would send it: SBS-1 (a velocity line and a position line), Beast
and AVR (a velocity frame and an airborne position frame, even and odd in turn, with
their CRC), ASTERIX CAT021 (one report) and CAT062 (one track), datagrams of 20
records. Each stream is then fed to its decoder in 64 KiB pieces, as
:func:`deconfliction.feeds.live.run_feed` does, one core, no network; the table gives
messages and states per second, and how many states came out (Mode S needs two position
frames before its first fix of each aircraft, so it gives a few fewer).
"""

from __future__ import annotations

import argparse
import math
import time
from collections.abc import Callable, Iterable, Sequence
from datetime import datetime
from pathlib import Path

from rich.console import Console
from rich.table import Table

from deconfliction.core.units import FOOT_M, MetresPerSecond
from deconfliction.feeds.live import Source, StreamDecoder
from deconfliction.feeds.traffic import AircraftState, CsvReplay
from tests.feeds.frames import cat021, cat062, datablock, position_me, squitter, velocity_me

PARIS = (
    Path(__file__).resolve().parents[1]
    / ".."
    / "shared"
    / "data"
    / "traffic"
    / "paris_2021-10-07.csv.gz"
)
_PIECE = 65536
_PER_DATAGRAM = 20
_KNOT: MetresPerSecond = 1852 / 3600


def load_states(path: Path, count: int) -> list[AircraftState]:
    """The first ``count`` airborne states of a replay file, in time order."""
    states: list[AircraftState] = []
    for tick in CsvReplay(path):
        states.extend(tick.states)
        if len(states) >= count:
            break
    return states[:count]


def _sbs1(state: AircraftState) -> bytes:
    day, moment = f"{state.timestamp:%Y/%m/%d}", f"{state.timestamp:%H:%M:%S.%f}"[:-3]
    head = f"MSG,{{}},1,1,{state.id},1,{day},{moment},{day},{moment}"
    vs_fpm = state.vs_mps / FOOT_M * 60
    velocity = f",,,{state.gs_mps / _KNOT:.0f},{state.trk_deg:.1f},,,{vs_fpm:.0f},,,,,0"
    position = f",,{state.alt_m / FOOT_M:.0f},,,{state.lat:.5f},{state.lon:.5f},,,0,0,0,0"
    return (head.format(4) + velocity + "\r\n" + head.format(3) + position + "\r\n").encode()


def _mode_s(state: AircraftState, odd: bool) -> tuple[bytes, bytes]:
    icao = int(state.id, 16)
    east = round(state.gs_mps / _KNOT * math.sin(math.radians(state.trk_deg)))
    north = round(state.gs_mps / _KNOT * math.cos(math.radians(state.trk_deg)))
    velocity = squitter(icao, velocity_me(east, north, round(state.vs_mps / FOOT_M * 60)))
    alt_ft = round(state.alt_m / FOOT_M / 25) * 25
    return velocity, squitter(icao, position_me(state.lat, state.lon, alt_ft, odd))


def _beast(frame: bytes) -> bytes:
    return b"\x1a3" + (bytes(6) + b"\x80" + frame).replace(b"\x1a", b"\x1a\x1a")


def _avr(frame: bytes) -> bytes:
    return f"*{frame.hex().upper()};\n".encode()


def _mode_s_stream(states: Sequence[AircraftState], wrap: Callable[[bytes], bytes]) -> bytes:
    parity: dict[str, bool] = {}
    out = bytearray()
    for state in states:
        odd = parity[state.id] = not parity.get(state.id, False)
        for frame in _mode_s(state, odd):
            out += wrap(frame)
    return bytes(out)


def _asterix(states: Sequence[AircraftState], category: int) -> list[bytes]:
    records = []
    for n, s in enumerate(states):
        fl = s.alt_m / FOOT_M / 100
        vs_fpm = s.vs_mps / FOOT_M * 60
        if category == 21:
            gs_kt = s.gs_mps / _KNOT
            records.append(
                cat021(int(s.id, 16), s.timestamp, s.lat, s.lon, fl, gs_kt, s.trk_deg, vs_fpm, "")
            )
        else:
            records.append(
                cat062(
                    int(s.id, 16),
                    n % 4096,
                    s.timestamp,
                    s.lat,
                    s.lon,
                    fl,
                    s.gs_mps,
                    s.trk_deg,
                    vs_fpm,
                    "",
                )
            )
    return [
        datablock(category, records[k : k + _PER_DATAGRAM])
        for k in range(0, len(records), _PER_DATAGRAM)
    ]


def _pieces(data: bytes) -> list[bytes]:
    return [data[k : k + _PIECE] for k in range(0, len(data), _PIECE)]


def measure(
    decoder: StreamDecoder, pieces: Iterable[bytes], at: datetime
) -> tuple[int, list[AircraftState], float]:
    """Messages, states out and seconds of feeding ``pieces`` to ``decoder``."""
    states: list[AircraftState] = []
    started = time.perf_counter()
    for piece in pieces:
        states += decoder.feed(piece, at)
    return decoder.messages, states, time.perf_counter() - started


def run(states: Sequence[AircraftState]) -> list[tuple[str, int, list[AircraftState], float]]:
    """(format, messages, states out, seconds) for every format."""
    at = states[-1].timestamp
    inputs = {
        "sbs1": _pieces(b"".join(_sbs1(s) for s in states)),
        "beast": _pieces(_mode_s_stream(states, _beast)),
        "avr": _pieces(_mode_s_stream(states, _avr)),
        "asterix CAT021": _asterix(states, 21),
        "asterix CAT062": _asterix(states, 62),
    }
    rows = []
    for name, pieces in inputs.items():
        kind = name.split()[0]
        decoder = Source(kind, "127.0.0.1", 0).decoder()
        rows.append((name, *measure(decoder, pieces, at)))
    return rows


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--states", type=int, default=20_000, help="aircraft states to write")
    parser.add_argument("--quick", action="store_true", help="2,000 states")
    parser.add_argument("--file", type=Path, default=PARIS, help="traffic CSV to take them from")
    args = parser.parse_args(argv)
    states = load_states(args.file, 2_000 if args.quick else args.states)
    table = Table(title=f"feed decoders, {len(states):,} states of {args.file.name}, one core")
    for column in ("format", "messages", "states out", "seconds", "messages/s", "states/s"):
        table.add_column(column, justify="right")
    for name, messages, made, seconds in run(states):
        table.add_row(
            name,
            f"{messages:,}",
            f"{len(made):,}",
            f"{seconds:.2f}",
            f"{messages / seconds:,.0f}",
            f"{len(made) / seconds:,.0f}",
        )
    Console().print(table)


if __name__ == "__main__":
    main()
