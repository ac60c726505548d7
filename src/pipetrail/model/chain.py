"""The trail's hash chain and Merkle trees: pure functions over bytes.

Events are numbered per shard; each event's hash is SHA-256 of the previous event's hash
(32 bytes; the first event follows :data:`GENESIS`) followed by the event's canonical
JSON. A delivered log file's events are also the leaves of a Merkle tree built as in
RFC 6962 (section 2.1): leaf hash SHA-256(0x00 ‖ data), node hash SHA-256(0x01 ‖ left ‖
right), a tree of n leaves splitting at the largest power of two below n.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Sequence

GENESIS = "0" * 64


def link(previous_hex: str, body: bytes) -> str:
    """The hash of an event whose predecessor's hash is ``previous_hex``."""
    return hashlib.sha256(bytes.fromhex(previous_hex) + body).hexdigest()


def chain(previous_hex: str, bodies: Iterable[bytes]) -> str:
    """The hash after appending ``bodies`` to a chain ending in ``previous_hex``."""
    digest = bytes.fromhex(previous_hex)
    sha256 = hashlib.sha256
    for body in bodies:
        digest = sha256(digest + body).digest()
    return digest.hex()


def leaf_hash(data: bytes) -> bytes:
    return hashlib.sha256(b"\x00" + data).digest()


def node_hash(left: bytes, right: bytes) -> bytes:
    return hashlib.sha256(b"\x01" + left + right).digest()


def merkle_root(leaves: Sequence[bytes]) -> bytes:
    """The RFC 6962 tree head of ``leaves`` (already leaf-hashed)."""
    if not leaves:
        return hashlib.sha256(b"").digest()
    # Fold perfect subtrees left to right, then join them right to left: the same tree
    # as the recursive definition, in O(n) time and O(log n) memory.
    stack: list[tuple[int, bytes]] = []
    for leaf in leaves:
        size, node = 1, leaf
        while stack and stack[-1][0] == size:
            left_size, left = stack.pop()
            size, node = left_size + size, node_hash(left, node)
        stack.append((size, node))
    node = stack.pop()[1]
    while stack:
        node = node_hash(stack.pop()[1], node)
    return node


def _split(n: int) -> int:
    """The largest power of two smaller than n (n ≥ 2)."""
    return 1 << ((n - 1).bit_length() - 1)


def audit_path(leaves: Sequence[bytes], index: int) -> list[bytes]:
    """The inclusion proof of leaf ``index`` (RFC 6962 PATH), nearest sibling first."""
    if not 0 <= index < len(leaves):
        raise IndexError(f"leaf {index} is not in a tree of {len(leaves)}")
    path: list[bytes] = []
    lo, hi = 0, len(leaves)
    while hi - lo > 1:
        k = _split(hi - lo)
        if index < lo + k:
            path.append(merkle_root(leaves[lo + k:hi]))
            hi = lo + k
        else:
            path.append(merkle_root(leaves[lo:lo + k]))
            lo = lo + k
    path.reverse()
    return path


def root_from_path(leaf: bytes, index: int, size: int, path: Sequence[bytes]) -> bytes | None:
    """The root an inclusion proof leads to (RFC 9162, 2.1.3.2), or None if the path
    does not fit a tree of ``size`` leaves."""
    if not 0 <= index < size:
        return None
    fn, sn, node = index, size - 1, leaf
    for sibling in path:
        if sn == 0:
            return None
        if fn & 1 or fn == sn:
            node = node_hash(sibling, node)
            if not fn & 1:
                while fn and not fn & 1:
                    fn >>= 1
                    sn >>= 1
        else:
            node = node_hash(node, sibling)
        fn >>= 1
        sn >>= 1
    return node if sn == 0 else None
