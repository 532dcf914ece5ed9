"""Mode S frames out of the byte streams receivers serve: Beast binary and AVR text.

dump1090 and readsb serve every frame they hear on port 30005 in the **Beast** binary
format (Mode-S Beast receiver, documented by its maker and in the dump1090 source):
``0x1A``, a type byte (``'1'`` Mode A/C, ``'2'`` Mode S short, ``'3'`` Mode S long),
a 6-byte timestamp (12 MHz counter), a signal byte and the 2, 7 or 14 frame bytes; an
``0x1A`` inside those is sent twice. On port 30002 they serve **AVR** text, one frame a
line as hex between ``*`` and ``;`` (``@`` adds a 12-digit timestamp first).

:class:`BeastStream` and :class:`AvrStream` take the stream in pieces as they arrive
(a frame may straddle two reads) and hand each Mode S frame to a
:class:`~deconfliction.feeds.modes.ModesDecoder`; ``messages`` counts frames and
``dropped`` what led nowhere, framing and decoding reasons together.

>>> stream = BeastStream()
>>> frame = bytes.fromhex("8D4840D6202CC371C32CE0576098")
>>> data = b"\\x1a3" + bytes(6) + b"\\x80" + frame
>>> from datetime import UTC, datetime
>>> stream.feed(data[:10], datetime.now(UTC)) + stream.feed(data[10:], datetime.now(UTC))
[]
>>> stream.messages, stream.decoder.frames
(1, 1)
"""

from __future__ import annotations

from collections import Counter
from datetime import datetime

from deconfliction.feeds.modes import ModesDecoder
from deconfliction.feeds.traffic import AircraftState

__all__ = ["AvrStream", "BeastStream"]

_ESCAPE = 0x1A
_PAYLOAD = {ord("1"): 2, ord("2"): 7, ord("3"): 14}
_HEADER = 7  # timestamp and signal
_MAX_LINE = 256


class BeastStream:
    """Beast binary frames to aircraft states (see the module)."""

    def __init__(self, decoder: ModesDecoder | None = None) -> None:
        self.decoder = decoder or ModesDecoder()
        self.messages = 0
        self._dropped: Counter[str] = Counter()
        self._buffer = bytearray()

    @property
    def dropped(self) -> Counter[str]:
        return self._dropped + self.decoder.dropped

    def restart(self) -> None:
        """A new connection: a frame cut off by the one before is dropped; the Mode S
        decoder keeps what it knows of each aircraft."""
        self._buffer.clear()

    def feed(self, data: bytes, at: datetime) -> list[AircraftState]:
        """Take the next bytes of the stream, received at ``at``; the states completed."""
        self._buffer += data
        states: list[AircraftState] = []
        while True:
            start = self._buffer.find(_ESCAPE)
            if start < 0:
                if self._buffer:
                    self._dropped["bytes outside a frame"] += 1
                self._buffer.clear()
                return states
            if start > 0:
                self._dropped["bytes outside a frame"] += 1
                del self._buffer[:start]
            if len(self._buffer) < 2:
                return states
            kind = self._buffer[1]
            if kind not in _PAYLOAD and kind != ord("4"):
                self._dropped["unknown Beast frame type"] += 1
                del self._buffer[: 2 if kind == _ESCAPE else 1]
                continue
            size = _HEADER + (_PAYLOAD.get(kind) or 14)
            body, used = _unescape(self._buffer, 2, size)
            if body is None:
                if used < 0:  # an unpaired 0x1A: a new frame starts there
                    self._dropped["broken Beast frame"] += 1
                    del self._buffer[:-used]
                    continue
                return states  # wait for the rest
            del self._buffer[:used]
            if kind == ord("4") or kind == ord("1"):
                continue  # receiver status, Mode A/C: no position
            self.messages += 1
            state = self.decoder.feed(bytes(body[_HEADER:]), at)
            if state is not None:
                states.append(state)


def _unescape(buffer: bytearray, start: int, size: int) -> tuple[bytearray | None, int]:
    """``size`` bytes from ``start`` with doubled 0x1A made single, and the index after
    them; ``(None, 0)`` when the buffer ends first, ``(None, -k)`` when a lone 0x1A at
    ``k`` breaks the frame."""
    body = bytearray()
    i = start
    while len(body) < size:
        if i >= len(buffer):
            return None, 0
        byte = buffer[i]
        if byte == _ESCAPE:
            if i + 1 >= len(buffer):
                return None, 0
            if buffer[i + 1] != _ESCAPE:
                return None, -i
            i += 1
        body.append(byte)
        i += 1
    return body, i


class AvrStream:
    """AVR text lines (``*HEX;`` or ``@TIMESTAMPHEX;``) to aircraft states."""

    def __init__(self, decoder: ModesDecoder | None = None) -> None:
        self.decoder = decoder or ModesDecoder()
        self.messages = 0
        self._dropped: Counter[str] = Counter()
        self._buffer = b""

    @property
    def dropped(self) -> Counter[str]:
        return self._dropped + self.decoder.dropped

    def restart(self) -> None:
        """A new connection: a line cut off by the one before is dropped."""
        self._buffer = b""

    def feed(self, data: bytes, at: datetime) -> list[AircraftState]:
        """Take the next bytes of the stream, received at ``at``; the states completed."""
        *lines, self._buffer = (self._buffer + data).split(b"\n")
        if len(self._buffer) > _MAX_LINE:
            self._dropped["line too long"] += 1
            self._buffer = b""
        states = []
        for raw in lines:
            line = raw.strip()
            if not line:
                continue
            frame = _avr_frame(line)
            if frame is None:
                self._dropped["unreadable AVR line"] += 1
                continue
            self.messages += 1
            state = self.decoder.feed(frame, at)
            if state is not None:
                states.append(state)
        return states


def _avr_frame(line: bytes) -> bytes | None:
    if not line.endswith(b";") or line[:1] not in (b"*", b"@"):
        return None
    digits = line[1:-1].decode("ascii", "replace")
    if line[:1] == b"@":
        digits = digits[12:]
    try:
        frame = bytes.fromhex(digits)
    except ValueError:
        return None
    return frame if len(frame) in (2, 7, 14) else None
