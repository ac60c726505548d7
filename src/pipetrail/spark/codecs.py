"""Decompression of the codecs Spark writes event logs with.

Spark names a compressed event log after its codec's short name (``.zstd``, ``.lz4``,
``.snappy``, ``.lzf``) and each codec uses the framing of the Java library Spark wraps:

- ``zstd``: standard Zstandard frames (``ZstdOutputStream``); a log may hold several
  frames back to back.
- ``lz4``: the ``LZ4BlockOutputStream`` framing of lz4-java, *not* the LZ4 frame format:
  blocks of ``"LZ4Block"`` + token + compressed length + raw length + a 28-bit XXH32
  checksum (seed ``0x9747B28C``) of the raw bytes, ended by an empty block.
- ``snappy``: the ``SnappyOutputStream`` framing of snappy-java: an 8-byte magic
  ``\\x82SNAPPY\\x00``, version and compatible version (4 bytes each), then blocks of a
  4-byte big-endian length and a raw Snappy block.
- ``lzf``: the chunk framing of compress-lzf: ``"ZV"`` + type (0 = stored, 1 = compressed)
  + chunk length (2 bytes) [+ raw length (2 bytes) when compressed].

The codec is recognised from the first bytes of the file, so a renamed log still reads;
the file name only serves error messages. Each decoder is a generator of raw chunks that
stops at the first damaged or missing byte and records why in its :class:`StreamState`,
so that everything before the damage can still be analysed.
"""

from __future__ import annotations

import struct
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import BinaryIO

import cramjam
import xxhash
import zstandard

READ_SIZE = 1 << 20

ZSTD_MAGIC = b"\x28\xb5\x2f\xfd"
LZ4_MAGIC = b"LZ4Block"
SNAPPY_MAGIC = b"\x82SNAPPY\x00"
LZF_MAGIC = b"ZV"

#: Codec short names as Spark writes them in file names (``spark.eventLog.compression.codec``).
CODEC_NAMES = ("lz4", "lzf", "snappy", "zstd")


@dataclass
class StreamState:
    """What a decoder found about its input: damage is reported, not raised."""

    problem: str | None = None
    truncated: bool = False

    def fail(self, message: str, *, truncated: bool = False) -> None:
        if self.problem is None:
            self.problem = message
            self.truncated = truncated


Decoder = Callable[[BinaryIO, StreamState], Iterator[bytes]]


def sniff(head: bytes) -> str | None:
    """Codec of a file from its first bytes; ``None`` for uncompressed JSON lines."""
    if head.startswith(ZSTD_MAGIC):
        return "zstd"
    if head.startswith(LZ4_MAGIC):
        return "lz4"
    if head.startswith(SNAPPY_MAGIC):
        return "snappy"
    if head.startswith(LZF_MAGIC):
        return "lzf"
    return None


def decoder(codec: str) -> Decoder:
    """The chunk decoder of a codec short name (one of :data:`CODEC_NAMES`)."""
    return _DECODERS[codec]


def _zstd(raw: BinaryIO, state: StreamState) -> Iterator[bytes]:
    dctx = zstandard.ZstdDecompressor()
    obj = dctx.decompressobj()
    offset = 0
    in_frame = False
    while True:
        chunk = raw.read(READ_SIZE)
        if not chunk:
            break
        while chunk:
            try:
                out = obj.decompress(chunk)
            except zstandard.ZstdError as exc:
                state.fail(f"zstd data is damaged near compressed byte {offset}: {exc}")
                return
            in_frame = True
            if out:
                yield out
            if obj.eof:
                # One frame done; Spark may have written more frames after it.
                rest = obj.unused_data
                obj = dctx.decompressobj()
                in_frame = False
                offset += len(chunk) - len(rest)
                chunk = rest
            else:
                offset += len(chunk)
                chunk = b""
    if in_frame:
        state.fail(f"zstd stream ends inside a frame after {offset} compressed bytes "
                   "(the log was not closed cleanly)", truncated=True)


_LZ4_HEADER = struct.Struct("<8sBiii")
_LZ4_SEED = 0x9747B28C


def _lz4_block(raw: BinaryIO, state: StreamState) -> Iterator[bytes]:
    offset = 0
    while True:
        header = raw.read(_LZ4_HEADER.size)
        if not header:
            state.fail(f"lz4 stream has no end block after {offset} bytes "
                       "(the log was not closed cleanly)", truncated=True)
            return
        if len(header) < _LZ4_HEADER.size:
            state.fail(f"lz4 stream ends inside a block header at byte {offset}",
                       truncated=True)
            return
        magic, token, packed, size, checksum = _LZ4_HEADER.unpack(header)
        method = token & 0xF0
        if magic != LZ4_MAGIC or method not in (0x10, 0x20) or packed < 0 or size < 0:
            state.fail(f"lz4 block header at byte {offset} is damaged")
            return
        if packed == 0 and size == 0:
            return  # end block; a later LZ4Block stream may follow (concatenated logs)
        data = raw.read(packed)
        if len(data) < packed:
            state.fail(f"lz4 stream ends inside the block at byte {offset}", truncated=True)
            return
        if method == 0x10:
            out = data
        else:
            try:
                out = bytes(cramjam.lz4.decompress_block(data, output_len=size))
            except cramjam.DecompressionError as exc:
                state.fail(f"lz4 block at byte {offset} is damaged: {exc}")
                return
        if len(out) != size or (xxhash.xxh32_intdigest(out, seed=_LZ4_SEED) & 0xFFFFFFF) != (
            checksum & 0xFFFFFFF
        ):
            state.fail(f"lz4 block at byte {offset} fails its checksum")
            return
        offset += _LZ4_HEADER.size + packed
        yield out


def _snappy_xerial(raw: BinaryIO, state: StreamState) -> Iterator[bytes]:
    header = raw.read(16)
    if len(header) < 16 or not header.startswith(SNAPPY_MAGIC):
        state.fail("snappy stream header is incomplete or damaged", truncated=len(header) < 16)
        return
    offset = 16
    while True:
        prefix = raw.read(4)
        if not prefix:
            return
        if len(prefix) < 4:
            state.fail(f"snappy stream ends inside a block length at byte {offset}",
                       truncated=True)
            return
        (length,) = struct.unpack(">i", prefix)
        if length < 0:
            state.fail(f"snappy block length at byte {offset} is damaged")
            return
        data = raw.read(length)
        if len(data) < length:
            state.fail(f"snappy stream ends inside the block at byte {offset}", truncated=True)
            return
        try:
            out = bytes(cramjam.snappy.decompress_raw(data))
        except cramjam.DecompressionError as exc:
            state.fail(f"snappy block at byte {offset} is damaged: {exc}")
            return
        offset += 4 + length
        yield out


def _lzf(raw: BinaryIO, state: StreamState) -> Iterator[bytes]:
    offset = 0
    while True:
        head = raw.read(5)
        if not head:
            return
        if len(head) < 5:
            state.fail(f"lzf stream ends inside a chunk header at byte {offset}", truncated=True)
            return
        if head[:2] != LZF_MAGIC or head[2] not in (0, 1):
            state.fail(f"lzf chunk header at byte {offset} is damaged")
            return
        length = (head[3] << 8) | head[4]
        if head[2] == 0:
            data = raw.read(length)
            if len(data) < length:
                state.fail(f"lzf stream ends inside the chunk at byte {offset}", truncated=True)
                return
            offset += 5 + length
            yield data
            continue
        size_bytes = raw.read(2)
        data = raw.read(length)
        if len(size_bytes) < 2 or len(data) < length:
            state.fail(f"lzf stream ends inside the chunk at byte {offset}", truncated=True)
            return
        size = (size_bytes[0] << 8) | size_bytes[1]
        try:
            out = lzf_decompress(data, size)
        except ValueError as exc:
            state.fail(f"lzf chunk at byte {offset} is damaged: {exc}")
            return
        offset += 7 + length
        yield out


def lzf_decompress(data: bytes, size: int) -> bytes:
    """Decode one LZF-compressed chunk (the liblzf format) into exactly ``size`` bytes.

    No maintained Python package ships LZF as a wheel, and Spark logs rarely use it, so
    the small decoder lives here: a control byte below 32 starts a literal run of
    ``ctrl + 1`` bytes; otherwise its top 3 bits are a length (7 = read one more byte)
    and its low 5 bits with the next byte an offset back into the output.
    """
    out = bytearray()
    i = 0
    n = len(data)
    while i < n:
        ctrl = data[i]
        i += 1
        if ctrl < 32:
            run = ctrl + 1
            if i + run > n:
                raise ValueError("literal run goes past the chunk")
            out += data[i : i + run]
            i += run
            continue
        length = ctrl >> 5
        if length == 7:
            if i >= n:
                raise ValueError("back-reference length goes past the chunk")
            length += data[i]
            i += 1
        if i >= n:
            raise ValueError("back-reference offset goes past the chunk")
        start = len(out) - ((ctrl & 0x1F) << 8) - data[i] - 1
        i += 1
        if start < 0:
            raise ValueError("back-reference points before the chunk start")
        length += 2
        if start + length <= len(out):
            out += out[start : start + length]
        else:  # overlapping copy repeats the bytes being written
            for k in range(length):
                out.append(out[start + k])
    if len(out) != size:
        raise ValueError(f"chunk decodes to {len(out)} bytes, its header says {size}")
    return bytes(out)


_DECODERS: dict[str, Decoder] = {
    "zstd": _zstd,
    "lz4": _lz4_block,
    "snappy": _snappy_xerial,
    "lzf": _lzf,
}
