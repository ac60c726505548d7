"""Decoding of every codec Spark writes, on logs written by Spark itself."""

from __future__ import annotations

import io
import struct
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from pipetrail.spark.codecs import CODEC_NAMES, StreamState, decoder, lzf_decompress, sniff

CODEC_FILES = {c: f"codec-{c}.{c}" for c in CODEC_NAMES}


def decode(codec: str, data: bytes) -> tuple[bytes, StreamState]:
    state = StreamState()
    out = b"".join(decoder(codec)(io.BytesIO(data), state))
    return out, state


@pytest.fixture(scope="module")
def plain(data_dir: Path) -> bytes:
    out, state = decode("zstd", (data_dir / CODEC_FILES["zstd"]).read_bytes())
    assert state.problem is None
    return out


@pytest.mark.parametrize("codec", CODEC_NAMES)
def test_spark_written_log_decodes_whole(data_dir: Path, codec: str) -> None:
    data = (data_dir / CODEC_FILES[codec]).read_bytes()
    assert sniff(data[:8]) == codec
    out, state = decode(codec, data)
    assert state.problem is None
    lines = out.splitlines()
    assert lines[0] == b'{"Event":"SparkListenerLogStart","Spark Version":"4.3.0"}'
    assert lines[-1].startswith(b'{"Event":"SparkListenerApplicationEnd"')
    assert out.endswith(b"\n")


@pytest.mark.parametrize("codec", CODEC_NAMES)
def test_truncated_stream_keeps_what_came_before(data_dir: Path, codec: str) -> None:
    data = (data_dir / CODEC_FILES[codec]).read_bytes()
    whole, _ = decode(codec, data)
    out, state = decode(codec, data[: len(data) * 2 // 3])
    assert state.truncated and state.problem
    assert 0 < len(out) < len(whole)
    assert whole.startswith(out)


@pytest.mark.parametrize("codec", ["lz4", "snappy", "lzf"])
def test_damaged_block_is_reported_not_raised(data_dir: Path, codec: str) -> None:
    data = bytearray((data_dir / CODEC_FILES[codec]).read_bytes())
    middle = len(data) // 2
    data[middle: middle + 16] = b"\xff" * 16
    whole, _ = decode(codec, bytes((data_dir / CODEC_FILES[codec]).read_bytes()))
    out, state = decode(codec, bytes(data))
    assert state.problem is not None
    assert len(out) < len(whole)


def test_lz4_checksum_catches_changed_content(data_dir: Path) -> None:
    data = bytearray((data_dir / CODEC_FILES["lz4"]).read_bytes())
    # First block: 21-byte header, then compressed data; flip a literal byte near the start.
    data[21 + 10] ^= 0x01
    _, state = decode("lz4", bytes(data))
    assert state.problem is not None and "checksum" in state.problem


def test_lz4_raw_blocks_are_read() -> None:
    import xxhash

    payload = b'{"Event":"SparkListenerLogStart","Spark Version":"4.3.0"}\n'
    check = xxhash.xxh32_intdigest(payload, seed=0x9747B28C) & 0xFFFFFFF
    block = b"LZ4Block" + struct.pack("<Biii", 0x10, len(payload), len(payload), check) + payload
    end = b"LZ4Block" + struct.pack("<Biii", 0x10, 0, 0, 0)
    out, state = decode("lz4", block + end)
    assert out == payload and state.problem is None
    out, state = decode("lz4", block)
    assert out == payload and state.truncated


def test_lzf_decoder_literals_and_back_references() -> None:
    # "abcabcabc": literal run "abc" (ctrl 2), then a 6-byte back-reference 3 bytes back.
    chunk = bytes([2]) + b"abc" + bytes([(4 << 5) | 0, 2])
    assert lzf_decompress(chunk, 9) == b"abcabcabc"
    # Long back-reference: length 7 + extra byte.
    chunk = bytes([0]) + b"x" + bytes([(7 << 5) | 0, 3, 0])
    assert lzf_decompress(chunk, 13) == b"x" * 13
    with pytest.raises(ValueError, match="before the chunk start"):
        lzf_decompress(bytes([(1 << 5) | 0, 5]), 3)
    with pytest.raises(ValueError, match="header says"):
        lzf_decompress(bytes([2]) + b"abc", 4)


def test_sniff_only_known_magics() -> None:
    assert sniff(b'{"Event"') is None
    assert sniff(b"\x28\xb5\x2f\xfd\x00") == "zstd"
    assert sniff(b"BZh91AY&") is None


@settings(max_examples=150, deadline=None)
@given(codec=st.sampled_from(CODEC_NAMES), data=st.binary(max_size=400))
def test_random_bytes_never_crash_a_decoder(codec: str, data: bytes) -> None:
    state = StreamState()
    for _ in decoder(codec)(io.BytesIO(data), state):
        pass


@settings(max_examples=100, deadline=None)
@given(codec=st.sampled_from(CODEC_NAMES), cut=st.integers(0, 4000),
       flip=st.integers(0, 4000), value=st.integers(0, 255))
def test_damaged_spark_logs_never_crash_a_decoder(data_dir: Path, codec: str, cut: int,
                                                  flip: int, value: int) -> None:
    data = bytearray((data_dir / CODEC_FILES[codec]).read_bytes()[: 4000 + cut])
    data[flip % len(data)] = value
    state = StreamState()
    for _ in decoder(codec)(io.BytesIO(bytes(data)), state):
        pass
