"""RFC 6962 Merkle trees: the tree heads of the RFC's test vectors, and inclusion
proofs checked against an independent, literal implementation of the definition."""

from __future__ import annotations

import hashlib

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from pipetrail.model.chain import (
    GENESIS,
    audit_path,
    chain,
    leaf_hash,
    link,
    merkle_root,
    root_from_path,
)

# The leaves of the certificate-transparency test vectors (RFC 6962 reference code).
LEAVES = [bytes.fromhex(h) for h in (
    "", "00", "10", "2021", "3031", "40414243", "5051525354555657",
    "606162636465666768696a6b6c6d6e6f")]
ROOTS = [
    "6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d",
    "fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125",
    "aeb6bcfe274b70a14fb067a5e5578264db0fa9b51af5e0ba159158f329e06e77",
    "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
    "4e3bbb1f7b478dcfe71fb631631519a3bca12c9aefca1612bfce4c13a86264d4",
    "76e67dadbcdf1e10e1b74ddc608abd2f98dfb16fbce75277b5232a127f2087ef",
    "ddb89be403809e325750d3d263cd78929c2942b7942a34b77e122c9594a74c8c",
    "5dc9da79a70659a9ad559cb701ded9a2ab9d823aad2f4960cfe370eff4604328",
]


def reference_root(data: list[bytes]) -> bytes:
    """RFC 6962 section 2.1, word for word (recursive, on the leaves' data)."""
    if not data:
        return hashlib.sha256(b"").digest()
    if len(data) == 1:
        return hashlib.sha256(b"\x00" + data[0]).digest()
    k = 1
    while k * 2 < len(data):
        k *= 2
    return hashlib.sha256(b"\x01" + reference_root(data[:k]) + reference_root(data[k:])).digest()


@pytest.mark.parametrize("size", range(1, 9))
def test_tree_heads_of_the_rfc_test_vectors(size: int) -> None:
    assert merkle_root([leaf_hash(d) for d in LEAVES[:size]]).hex() == ROOTS[size - 1]
    assert reference_root(LEAVES[:size]).hex() == ROOTS[size - 1]


def test_empty_tree() -> None:
    assert merkle_root([]) == hashlib.sha256(b"").digest()


@given(st.integers(min_value=1, max_value=70), st.data())
@settings(max_examples=150, deadline=None)
def test_every_audit_path_leads_to_the_root(size: int, data: st.DataObject) -> None:
    leaves_data = [i.to_bytes(4, "big") for i in range(size)]
    leaves = [leaf_hash(d) for d in leaves_data]
    root = merkle_root(leaves)
    assert root == reference_root(leaves_data)
    index = data.draw(st.integers(min_value=0, max_value=size - 1))
    path = audit_path(leaves, index)
    assert root_from_path(leaves[index], index, size, path) == root
    # Any other leaf, index, size or path leads elsewhere.
    assert root_from_path(leaf_hash(b"other"), index, size, path) != root
    if size > 1:
        other = (index + 1) % size
        assert root_from_path(leaves[index], other, size, path) != root
        assert root_from_path(leaves[index], index, size, path[:-1]) != root
        bent = [bytes(32), *path[1:]]
        assert root_from_path(leaves[index], index, size, bent) != root


def test_out_of_range_leaves() -> None:
    leaves = [leaf_hash(b"a"), leaf_hash(b"b")]
    with pytest.raises(IndexError):
        audit_path(leaves, 2)
    assert root_from_path(leaves[0], 5, 2, []) is None


def test_chain_links_each_body_to_the_one_before() -> None:
    first = link(GENESIS, b"a")
    assert first == hashlib.sha256(bytes(32) + b"a").hexdigest()
    assert chain(GENESIS, [b"a", b"b"]) == link(first, b"b")
    assert chain(GENESIS, [b"b", b"a"]) != chain(GENESIS, [b"a", b"b"])
