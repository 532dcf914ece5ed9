"""Signed checkpoints of the journal's Merkle tree, and their offline checks.

A checkpoint is the service's signed statement (``{"body", "signature"}``, as receipts
are, see :mod:`deconfliction.journal.receipts`) that the journal's first ``tree_size``
entries make the RFC 9162 tree whose root is ``root_hash``, at time ``at``. A leaf is
``SHA-256(0x00 || h)`` where ``h`` is an entry's chain hash (32 bytes): the chain hash
covers the entry's content and its predecessor, so the root covers every entry.

A party that keeps checkpoints holds the operator to them: a later journal must contain
the same first ``tree_size`` entries (a consistency proof between two checkpoints, or the
root recomputed from the entries), and any entry can be shown to be in one (an inclusion
proof). Cutting entries from the end, or editing one and recomputing every hash after
it, changes the root of every checkpoint that covered them, and the operator cannot sign
the old roots again over the new entries.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from deconfliction.journal import merkle
from deconfliction.journal.receipts import verify_signed

__all__ = [
    "CHECKPOINT_TYPE",
    "CheckpointBody",
    "check_consistency",
    "check_inclusion",
    "entry_leaf",
    "log_problems",
    "read_checkpoint",
]

CHECKPOINT_TYPE = "deconfliction.checkpoint/1"


def entry_leaf(entry_hash_hex: str) -> bytes:
    """The Merkle leaf hash of the journal entry whose chain hash is ``entry_hash_hex``."""
    return merkle.leaf_hash(bytes.fromhex(entry_hash_hex))


class CheckpointBody:
    """A checkpoint's signed fields, once its signature held."""

    def __init__(self, body: Mapping[str, Any]) -> None:
        self.tree_size = int(body["tree_size"])
        self.root = bytes.fromhex(str(body["root_hash"]))
        self.at = str(body["at"])
        self.key = str(body.get("key", ""))


def read_checkpoint(document: Any, public_key_hex: str) -> tuple[CheckpointBody | None, str | None]:
    """A checkpoint checked against the service's public key: its body, or what is
    wrong with it."""
    problem = verify_signed(document, public_key_hex, CHECKPOINT_TYPE)
    if problem is not None:
        return None, problem
    try:
        body = CheckpointBody(document["body"])
    except (KeyError, TypeError, ValueError) as exc:
        return None, f"the checkpoint is malformed ({type(exc).__name__}: {exc})"
    if body.tree_size < 1 or len(body.root) != 32:
        return None, "the checkpoint's tree size or root hash is malformed"
    return body, None


def _hashes(proof: Sequence[Any]) -> list[bytes] | None:
    try:
        out = [bytes.fromhex(str(p)) for p in proof]
    except ValueError:
        return None
    return out if all(len(h) == 32 for h in out) else None


def check_inclusion(
    entry_hash_hex: str, seq: int, proof: Sequence[Any], checkpoint: CheckpointBody
) -> str | None:
    """``None`` when ``proof`` puts entry ``seq`` (chain hash ``entry_hash_hex``) in the
    checkpoint's tree; otherwise what is wrong."""
    if not 1 <= seq <= checkpoint.tree_size:
        return f"entry {seq} is not among the checkpoint's {checkpoint.tree_size} entries"
    hashes = _hashes(proof)
    try:
        leaf = entry_leaf(entry_hash_hex)
    except ValueError:
        return f"entry {seq}'s hash is not hex"
    if hashes is None or not merkle.verify_inclusion(
        leaf, seq - 1, checkpoint.tree_size, hashes, checkpoint.root
    ):
        return (
            f"the inclusion proof does not put entry {seq} with this hash in the tree of "
            f"{checkpoint.tree_size} entries the checkpoint signed"
        )
    return None


def check_consistency(old: CheckpointBody, new: CheckpointBody, proof: Sequence[Any]) -> str | None:
    """``None`` when ``proof`` shows the old checkpoint's tree to be the first entries of
    the new one's; otherwise what is wrong (truncated or rewritten)."""
    if new.tree_size < old.tree_size:
        return (
            f"the new checkpoint has {new.tree_size} entries, fewer than the old one's "
            f"{old.tree_size}: the journal was truncated"
        )
    hashes = _hashes(proof)
    if hashes is None or not merkle.verify_consistency(
        old.tree_size, new.tree_size, old.root, new.root, hashes
    ):
        return (
            f"the first {old.tree_size} entries under the new checkpoint are not those the "
            "old one signed: the journal was rewritten"
        )
    return None


def log_problems(document: Any, public_key_hex: str) -> list[str]:
    """What is wrong with the ``log`` part of a receipt or an export (a signed checkpoint
    and the inclusion proofs of its journal entries in it); none when it holds, or when
    the document has none (a receipt older than every checkpoint)."""
    log = document.get("log") if isinstance(document, dict) else None
    if log is None:
        return []
    if not isinstance(log, dict):
        return ["its log is not an object"]
    checkpoint, problem = read_checkpoint(log.get("checkpoint"), public_key_hex)
    if checkpoint is None:
        return [f"its checkpoint: {problem}"]
    if "proofs" in log:  # an export: every entry the checkpoint covers
        proofs = log["proofs"] if isinstance(log["proofs"], dict) else {}
        found = []
        for entry in document.get("entries") or []:
            seq = entry.get("seq")
            if isinstance(seq, int) and seq <= checkpoint.tree_size:
                found.append(
                    check_inclusion(
                        str(entry.get("hash")), seq, proofs.get(str(seq)) or [], checkpoint
                    )
                )
        return [f"the log: {p}" for p in found if p is not None]
    body = document.get("body") or {}
    position = body.get("journal") or {}
    problem = check_inclusion(
        str(position.get("hash")), int(position.get("seq", 0)), log.get("proof") or [], checkpoint
    )
    return [] if problem is None else [f"the log: {problem}"]
