"""A compact set of small non-negative integers (task indices), one bit each."""

from __future__ import annotations


class IndexSet:
    """Counts distinct task indices in ``size/8`` bytes instead of a Python set."""

    __slots__ = ("_bits", "count")

    def __init__(self, size_hint: int = 0) -> None:
        self._bits = bytearray((max(size_hint, 0) + 7) >> 3)
        self.count = 0

    def add(self, index: int) -> bool:
        """Add ``index``; ``True`` when it was not there yet. Negative indices are ignored."""
        if index < 0:
            return False
        byte = index >> 3
        bits = self._bits
        if byte >= len(bits):
            bits.extend(bytes(byte + 1 - len(bits) + len(bits) // 2))
        mask = 1 << (index & 7)
        if bits[byte] & mask:
            return False
        bits[byte] |= mask
        self.count += 1
        return True

    def __contains__(self, index: object) -> bool:
        if not isinstance(index, int) or index < 0:
            return False
        byte = index >> 3
        return byte < len(self._bits) and bool(self._bits[byte] & (1 << (index & 7)))

    def __len__(self) -> int:
        return self.count
