#!/usr/bin/env python3
"""Writes the fuzzers' seed corpus (fuzz/corpus/) and the hand-made hard cases in
tests/io/regression/. Run once from anywhere; the files are committed, so this is
documentation of what each one holds. Crashes the fuzzers find are copied into
tests/io/regression/<target>/ by hand (see tests/io/test_fuzz_regressions.cpp).

    python3 fuzz/make_seeds.py
"""
import json
import pathlib
import struct

ROOT = pathlib.Path(__file__).resolve().parent.parent
CORPUS = ROOT / "fuzz" / "corpus"
REGRESSION = ROOT / "tests" / "io" / "regression"


def safetensors(header, data=b"", pad=True):
    """A safetensors file: 8-byte little-endian header length, the JSON header, the data."""
    text = header if isinstance(header, bytes) else json.dumps(header, separators=(",", ":")).encode()
    if pad:
        text += b" " * ((8 - len(text) % 8) % 8)
    return struct.pack("<Q", len(text)) + text + data


def f32(*values):
    return struct.pack(f"<{len(values)}f", *values)


def f64(*values):
    return struct.pack(f"<{len(values)}d", *values)


def write(directory, name, content):
    directory.mkdir(parents=True, exist_ok=True)
    (directory / name).write_bytes(content)


TEXT_SEEDS = {
    "names": b"emma\nolivia\nava\n",
    "no_final_newline": b"emma\nava",
    "crlf_and_bom": b"\xef\xbb\xbfanna\r\nbob\r\n\r\ncy\r\n",
    "utf8_multibyte": "José\nZoë\n日本\n🙂x\n".encode(),
    "spaces_and_tabs": b"  mary ann \t\n\tjo\n",
    "blank_lines_only": b"\n  \n\t\r\n",
    "empty": b"",
    "invalid_byte": b"ab\xff\n",
    "overlong_slash": b"ok\n\xc0\xaf\n",
    "surrogate": b"\xed\xa0\x80\n",
    "truncated_sequence": b"abc\xe6\x97",
    "above_u10ffff": b"\xf4\x90\x80\x80\n",
}

SAFETENSORS_SEEDS = {
    "f32_with_metadata": safetensors(
        {"__metadata__": {"vocab": "abc", "config": "names/grassmann"},
         "wte": {"dtype": "F32", "shape": [2, 2], "data_offsets": [0, 16]},
         "bias": {"dtype": "F32", "shape": [2], "data_offsets": [16, 24]}},
        f32(1.0, -2.5, 0.0, 3.25) + f32(1e-3, -0.0)),
    "f64_scalar_and_empty": safetensors(
        {"s": {"dtype": "F64", "shape": [], "data_offsets": [0, 8]},
         "e": {"dtype": "F64", "shape": [0, 3], "data_offsets": [8, 8]}},
        f64(2.0 ** -1074)),
    "mixed_dtypes": safetensors(
        {"a": {"dtype": "F64", "shape": [1], "data_offsets": [0, 8]},
         "b": {"dtype": "F32", "shape": [1], "data_offsets": [8, 12]}},
        f64(1.5) + f32(float("inf"))),
    "empty_header": safetensors({}),
    "truncated": safetensors(
        {"w": {"dtype": "F32", "shape": [4], "data_offsets": [0, 16]}}, f32(1, 2)),
    "header_length_beyond_file": struct.pack("<Q", 1000) + b"{}",
    "header_not_json": safetensors(b"{not json"),
    "overlapping": safetensors(
        {"a": {"dtype": "F32", "shape": [2], "data_offsets": [0, 8]},
         "b": {"dtype": "F32", "shape": [2], "data_offsets": [4, 12]}}, f32(1, 2, 3)),
    "unsupported_dtype": safetensors(
        {"h": {"dtype": "F16", "shape": [2], "data_offsets": [0, 4]}}, b"\0" * 4),
    "too_short": b"\x02\0\0",
}

# Hand-made hard cases that the round trip must get right; they run in the normal test suite.
TEXT_REGRESSION = {
    "bom_only": b"\xef\xbb\xbf",
    "bom_on_second_line": b"a\n\xef\xbb\xbfb\n",
    "carriage_returns": b"\r\n\r\r\na\r\r\n",
    "nul_bytes": b"a\0b\n\0\n",
    "one_character_vocabulary": b"x\nxx\n",
}

SAFETENSORS_REGRESSION = {
    # Empty tensors at different offsets land on one offset when written back, so they come
    # back in name order, not in their original order.
    "empty_tensors_reordered": safetensors(
        {"z": {"dtype": "F32", "shape": [0], "data_offsets": [0, 0]},
         "m": {"dtype": "F32", "shape": [1], "data_offsets": [0, 4]},
         "a": {"dtype": "F64", "shape": [2, 0], "data_offsets": [4, 4]}},
        f32(7.0)),
    # A signalling NaN widened to double is quietened; writing back must not change it again.
    "f32_signalling_nan": safetensors(
        {"n": {"dtype": "F32", "shape": [2], "data_offsets": [0, 8]}},
        struct.pack("<II", 0x7F800001, 0xFFC12345)),
    # A gap between tensors and unused trailing bytes: read, then written back without them.
    "gap_and_trailing_bytes": safetensors(
        {"a": {"dtype": "F32", "shape": [1], "data_offsets": [0, 4]},
         "b": {"dtype": "F32", "shape": [1], "data_offsets": [8, 12]}},
        f32(1, 2, 3, 4)),
    "repeated_key": safetensors(
        b'{"a":{"dtype":"F32","shape":[1],"data_offsets":[0,4]},'
        b'"a":{"dtype":"F64","shape":[1],"data_offsets":[0,8]}}', f64(3.0)),
    "unpadded_header_and_unicode_names": safetensors(
        {"__metadata__": {"": "", "k\u00e9y\n": "v\u0000"},
         "w\u00e8ight\t": {"dtype": "F32", "shape": [1, 1, 1], "data_offsets": [0, 4]}},
        f32(-1.0), pad=False),
}


def main():
    for name, content in TEXT_SEEDS.items():
        write(CORPUS / "text_data", name, content)
    for name, content in SAFETENSORS_SEEDS.items():
        write(CORPUS / "safetensors", name, content)
    for name, content in TEXT_REGRESSION.items():
        write(REGRESSION / "text_data", name, content)
    for name, content in SAFETENSORS_REGRESSION.items():
        write(REGRESSION / "safetensors", name, content)


if __name__ == "__main__":
    main()
