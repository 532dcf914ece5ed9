"""Merkle tree hashing and proofs of RFC 9162 (Certificate Transparency v2), section 2.1.

Pure: bytes in, bytes out. A leaf's hash is ``SHA-256(0x00 || data)``, an interior node's
``SHA-256(0x01 || left || right)``; the tree of ``n`` leaves splits at ``k``, the largest
power of two below ``n`` (:func:`split`). Every subtree the RFC's recursions visit is a run
of *perfect* subtrees, each aligned to its size (:func:`pieces`), so a store that keeps the
hash of every perfect subtree by ``(level, index)`` can answer any proof with a few reads:
:func:`inclusion_ranges` and :func:`consistency_ranges` name the leaf ranges whose hashes
make a proof, and :func:`range_hash` folds their pieces.

>>> leaves = [leaf_hash(bytes([i])) for i in range(5)]
>>> root = tree_hash(leaves)
>>> verify_inclusion(leaves[3], 3, 5, inclusion_proof(leaves, 3), root)
True
>>> verify_consistency(3, 5, tree_hash(leaves[:3]), root, consistency_proof(leaves, 3))
True
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping, Sequence

__all__ = [
    "EMPTY_ROOT",
    "Frontier",
    "Piece",
    "consistency_proof",
    "consistency_ranges",
    "inclusion_proof",
    "inclusion_ranges",
    "leaf_hash",
    "level_up",
    "node_hash",
    "pieces",
    "range_hash",
    "split",
    "tree_hash",
    "verify_consistency",
    "verify_inclusion",
]

Piece = tuple[int, int]
"""A perfect subtree: ``(level, index)``, covering leaves ``[index << level,
(index + 1) << level)``."""

EMPTY_ROOT = hashlib.sha256(b"").digest()
"""The root of the empty tree (RFC 9162 2.1.1)."""

_sha256 = hashlib.sha256


def leaf_hash(data: bytes) -> bytes:
    """``SHA-256(0x00 || data)``."""
    return _sha256(b"\x00" + data).digest()


def node_hash(left: bytes, right: bytes) -> bytes:
    """``SHA-256(0x01 || left || right)``."""
    return _sha256(b"\x01" + left + right).digest()


def level_up(hashes: Sequence[bytes]) -> list[bytes]:
    """The parents of an even-length run of sibling hashes, pair by pair."""
    return [
        _sha256(b"\x01" + hashes[i] + hashes[i + 1]).digest() for i in range(0, len(hashes) - 1, 2)
    ]


def split(n: int) -> int:
    """The largest power of two strictly below ``n`` (``n >= 2``).

    >>> [split(n) for n in (2, 3, 4, 5, 8, 9)]
    [1, 2, 2, 4, 4, 8]
    """
    return 1 << ((n - 1).bit_length() - 1)


def pieces(lo: int, hi: int) -> list[Piece]:
    """The perfect subtrees that make ``MTH(D[lo:hi])``, left to right, for a range the
    RFC's recursions visit (``lo`` a multiple of the first piece's size).

    >>> pieces(0, 7)
    [(2, 0), (1, 2), (0, 6)]
    """
    out: list[Piece] = []
    while hi > lo:
        size = 1 << ((hi - lo).bit_length() - 1)  # the largest power of two <= hi - lo
        if lo % size:
            raise ValueError(f"[{lo}, {hi}) is not a range of an RFC 9162 tree")
        out.append((size.bit_length() - 1, lo // size))
        lo += size
    return out


def range_hash(lo: int, hi: int, known: Mapping[Piece, bytes]) -> bytes:
    """``MTH(D[lo:hi])`` from the hashes of its :func:`pieces`."""
    hashes = [known[p] for p in pieces(lo, hi)]
    if not hashes:
        return EMPTY_ROOT
    out = hashes[-1]
    for h in reversed(hashes[:-1]):
        out = node_hash(h, out)
    return out


def inclusion_ranges(index: int, size: int) -> list[tuple[int, int]]:
    """The leaf ranges whose hashes make the inclusion proof of leaf ``index`` in a tree
    of ``size`` leaves (``PATH(m, D[n])``), in proof order (nearest the leaf first)."""
    if not 0 <= index < size:
        raise ValueError(f"leaf {index} is not in a tree of {size} leaves")
    out: list[tuple[int, int]] = []
    lo, hi = 0, size
    while hi - lo > 1:
        k = split(hi - lo)
        if index < lo + k:
            out.append((lo + k, hi))
            hi = lo + k
        else:
            out.append((lo, lo + k))
            lo += k
    return out[::-1]


def consistency_ranges(first: int, second: int) -> list[tuple[int, int]]:
    """The leaf ranges whose hashes make the consistency proof from the tree of ``first``
    leaves to that of ``second`` (``PROOF(m, D[n])``), in proof order."""
    if not 0 < first <= second:
        raise ValueError(f"no consistency proof from {first} to {second} leaves")
    appended: list[tuple[int, int]] = []
    m, lo, hi, whole = first, 0, second, True  # m: leaves of the first tree within [lo, hi)
    while m != hi - lo:
        k = split(hi - lo)
        if m <= k:
            appended.append((lo + k, hi))
            hi = lo + k
        else:
            appended.append((lo, lo + k))
            m, lo, whole = m - k, lo + k, False
    head = [] if whole else [(lo, hi)]
    return head + appended[::-1]


def _needed(ranges: Sequence[tuple[int, int]]) -> set[Piece]:
    return {p for lo, hi in ranges for p in pieces(lo, hi)}


def _perfect(leaves: Sequence[bytes], wanted: set[Piece]) -> dict[Piece, bytes]:
    """Hashes of the ``wanted`` perfect subtrees over in-memory leaf hashes."""
    out: dict[Piece, bytes] = {}
    for level, index in wanted:
        hashes = list(leaves[index << level : (index + 1) << level])
        while len(hashes) > 1:
            hashes = level_up(hashes)
        out[(level, index)] = hashes[0]
    return out


def tree_hash(leaves: Sequence[bytes]) -> bytes:
    """``MTH`` over leaf hashes (not leaf data)."""
    return range_hash(0, len(leaves), _perfect(leaves, set(pieces(0, len(leaves)))))


def inclusion_proof(leaves: Sequence[bytes], index: int) -> list[bytes]:
    """The inclusion proof of leaf ``index`` over in-memory leaf hashes."""
    ranges = inclusion_ranges(index, len(leaves))
    known = _perfect(leaves, _needed(ranges))
    return [range_hash(lo, hi, known) for lo, hi in ranges]


def consistency_proof(leaves: Sequence[bytes], first: int) -> list[bytes]:
    """The consistency proof from the first ``first`` leaves to all of ``leaves``."""
    ranges = consistency_ranges(first, len(leaves))
    known = _perfect(leaves, _needed(ranges))
    return [range_hash(lo, hi, known) for lo, hi in ranges]


def verify_inclusion(
    leaf: bytes, index: int, size: int, proof: Sequence[bytes], root: bytes
) -> bool:
    """RFC 9162 2.1.3.2: does ``proof`` put the leaf hash ``leaf`` at ``index`` of the tree
    of ``size`` leaves whose root is ``root``?"""
    if not 0 <= index < size:
        return False
    fn, sn, r = index, size - 1, leaf
    for p in proof:
        if sn == 0:
            return False
        if fn & 1 or fn == sn:
            r = node_hash(p, r)
            if not fn & 1:
                while fn and not fn & 1:
                    fn >>= 1
                    sn >>= 1
        else:
            r = node_hash(r, p)
        fn >>= 1
        sn >>= 1
    return sn == 0 and r == root


def verify_consistency(
    first: int, second: int, first_root: bytes, second_root: bytes, proof: Sequence[bytes]
) -> bool:
    """RFC 9162 2.1.4.2: does ``proof`` show the tree of ``first`` leaves rooted at
    ``first_root`` to be a prefix of the tree of ``second`` leaves rooted at
    ``second_root``?"""
    if not 0 < first <= second:
        return False
    if first == second:
        return not proof and first_root == second_root
    path = list(proof)
    if first & (first - 1) == 0:  # a power of two: the first tree is the proof's start
        path.insert(0, first_root)
    if not path:
        return False
    fn, sn = first - 1, second - 1
    while fn & 1:
        fn >>= 1
        sn >>= 1
    fr = sr = path[0]
    for c in path[1:]:
        if sn == 0:
            return False
        if fn & 1 or fn == sn:
            fr = node_hash(c, fr)
            sr = node_hash(c, sr)
            if not fn & 1:
                while fn and not fn & 1:
                    fn >>= 1
                    sn >>= 1
        else:
            sr = node_hash(sr, c)
        fn >>= 1
        sn >>= 1
    return sn == 0 and fr == first_root and sr == second_root


class Frontier:
    """A tree grown one leaf at a time in ``O(log n)`` memory: the hashes of the perfect
    subtrees its size decomposes into, so its root is known at any size."""

    def __init__(self) -> None:
        self.size = 0
        self._stack: list[bytes] = []

    def append(self, leaf: bytes) -> None:
        """Add one leaf hash."""
        h, n = leaf, self.size
        while n & 1:
            h = node_hash(self._stack.pop(), h)
            n >>= 1
        self._stack.append(h)
        self.size += 1

    def root(self) -> bytes:
        """``MTH`` of the leaves so far."""
        if not self._stack:
            return EMPTY_ROOT
        out = self._stack[-1]
        for h in reversed(self._stack[:-1]):
            out = node_hash(h, out)
        return out
