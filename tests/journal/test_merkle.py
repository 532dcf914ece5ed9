"""RFC 9162 Merkle trees: the Certificate Transparency test vectors (roots, inclusion and
consistency proofs over the eight reference leaves), and properties over any sizes."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from deconfliction.journal.merkle import (
    EMPTY_ROOT,
    Frontier,
    consistency_proof,
    inclusion_proof,
    leaf_hash,
    node_hash,
    tree_hash,
    verify_consistency,
    verify_inclusion,
)

# certificate-transparency merkle_tree_test.cc / transparency-dev testonly: leaf data
LEAVES = [
    bytes.fromhex(h)
    for h in (
        "",
        "00",
        "10",
        "2021",
        "3031",
        "40414243",
        "5051525354555657",
        "606162636465666768696a6b6c6d6e6f",
    )
]
ROOTS = [
    "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
    "6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d",
    "fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125",
    "aeb6bcfe274b70a14fb067a5e5578264db0fa9b51af5e0ba159158f329e06e77",
    "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
    "4e3bbb1f7b478dcfe71fb631631519a3bca12c9aefca1612bfce4c13a86264d4",
    "76e67dadbcdf1e10e1b74ddc608abd2f98dfb16fbce75277b5232a127f2087ef",
    "ddb89be403809e325750d3d263cd78929c2942b7942a34b77e122c9594a74c8c",
    "5dc9da79a70659a9ad559cb701ded9a2ab9d823aad2f4960cfe370eff4604328",
]
INCLUSION = {  # (leaf index, tree size): audit path
    (0, 8): [
        "96a296d224f285c67bee93c30f8a309157f0daa35dc5b87e410b78630a09cfc7",
        "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
        "6b47aaf29ee3c2af9af889bc1fb9254dabd31177f16232dd6aab035ca39bf6e4",
    ],
    (5, 8): [
        "bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b",
        "ca854ea128ed050b41b35ffc1b87b8eb2bde461e9e3b5596ece6b9d5975a0ae0",
        "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
    ],
    (0, 1): [],
}
CONSISTENCY = {  # (first size, second size): proof
    (1, 1): [],
    (1, 8): [
        "96a296d224f285c67bee93c30f8a309157f0daa35dc5b87e410b78630a09cfc7",
        "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
        "6b47aaf29ee3c2af9af889bc1fb9254dabd31177f16232dd6aab035ca39bf6e4",
    ],
    (6, 8): [
        "0ebc5d3437fbe2db158b9f126a1d118e308181031d0a949f8dededebc558ef6a",
        "ca854ea128ed050b41b35ffc1b87b8eb2bde461e9e3b5596ece6b9d5975a0ae0",
        "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
    ],
    (2, 5): [
        "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
        "bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b",
    ],
}
HASHES = [leaf_hash(d) for d in LEAVES]


def test_empty_tree_root() -> None:
    assert tree_hash([]).hex() == ROOTS[0] == EMPTY_ROOT.hex()


@pytest.mark.parametrize("size", range(1, 9))
def test_roots_match_the_vectors(size: int) -> None:
    assert tree_hash(HASHES[:size]).hex() == ROOTS[size]
    frontier = Frontier()
    for h in HASHES[:size]:
        frontier.append(h)
    assert frontier.root().hex() == ROOTS[size]


@pytest.mark.parametrize(("index", "size"), sorted(INCLUSION))
def test_inclusion_proofs_match_the_vectors(index: int, size: int) -> None:
    proof = inclusion_proof(HASHES[:size], index)
    assert [p.hex() for p in proof] == INCLUSION[(index, size)]
    root = bytes.fromhex(ROOTS[size])
    assert verify_inclusion(HASHES[index], index, size, proof, root)
    assert not verify_inclusion(
        HASHES[index ^ 1 if size > 1 else 0][::-1], index, size, proof, root
    )


@pytest.mark.parametrize(("first", "second"), sorted(CONSISTENCY))
def test_consistency_proofs_match_the_vectors(first: int, second: int) -> None:
    proof = consistency_proof(HASHES[:second], first)
    assert [p.hex() for p in proof] == CONSISTENCY[(first, second)]
    old, new = bytes.fromhex(ROOTS[first]), bytes.fromhex(ROOTS[second])
    assert verify_consistency(first, second, old, new, proof)
    assert not verify_consistency(first, second, new if first != second else b"x", new, proof)


def _leaves(n: int) -> list[bytes]:
    return [leaf_hash(i.to_bytes(4, "big")) for i in range(n)]


@given(st.integers(1, 70), st.data())
def test_every_inclusion_proof_verifies_and_a_wrong_one_does_not(
    size: int, data: st.DataObject
) -> None:
    leaves = _leaves(size)
    index = data.draw(st.integers(0, size - 1))
    root = tree_hash(leaves)
    proof = inclusion_proof(leaves, index)
    assert verify_inclusion(leaves[index], index, size, proof, root)
    assert not verify_inclusion(leaf_hash(b"other"), index, size, proof, root)
    if size > 1:
        other = (index + 1) % size
        assert not verify_inclusion(leaves[index], other, size, proof, root)
    if proof:
        bad = [*proof[:-1], node_hash(proof[-1], proof[-1])]
        assert not verify_inclusion(leaves[index], index, size, bad, root)


@given(st.integers(1, 70), st.data())
def test_every_consistency_proof_verifies_and_a_rewrite_does_not(
    second: int, data: st.DataObject
) -> None:
    leaves = _leaves(second)
    first = data.draw(st.integers(1, second))
    old, new = tree_hash(leaves[:first]), tree_hash(leaves)
    proof = consistency_proof(leaves, first)
    assert verify_consistency(first, second, old, new, proof)
    # an edited leaf inside the first tree: the old root no longer leads to the new one
    edited = list(leaves)
    edited[data.draw(st.integers(0, first - 1))] = leaf_hash(b"edited")
    forged = consistency_proof(edited, first)
    assert not verify_consistency(first, second, old, tree_hash(edited), forged)
    if first < second:  # a first tree longer than the second (truncation) has no proof
        assert not verify_consistency(second, first, new, old, proof)


@given(st.integers(0, 200))
def test_the_frontier_agrees_with_the_whole_tree(size: int) -> None:
    leaves = _leaves(size)
    frontier = Frontier()
    for leaf in leaves:
        frontier.append(leaf)
    assert frontier.size == size
    assert frontier.root() == tree_hash(leaves)
