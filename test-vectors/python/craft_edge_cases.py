#!/usr/bin/env python3
"""Writes hand-made messages at the edges of the message format, for comparing decryptors.

    python craft_edge_cases.py --output DIR [--keys KEYS_MANIFEST]

Each message is built byte by byte here (with `cryptography`'s AES-GCM, no SDK), wrapped for
the raw AES keyring of key `aes-256` of the project's keys manifest, suite 0x0014 (message
format v1, no KDF, unsigned) or 0x0478 (v2, committing). DIR/manifest.json is an awses-decrypt
v2 manifest whose expected result for each message is what the specification says: a
plaintext, or an error. Run both decryptors on it:

    esdk-test-vectors decrypt --manifest DIR
    python decrypt_manifest.py DIR

A test that fails in one and not the other is a behavioural difference; the description of
each test quotes the specification's rule.

This is an investigation tool; it is not part of CI.
"""

import argparse
import base64
import hashlib
import hmac
import json
import os
import shutil
import struct
import sys

from cryptography.hazmat.primitives.ciphers.aead import AESGCM

HERE = os.path.dirname(os.path.abspath(__file__))
NS = "esdk-interop"
KEY_NAME = "aes-256"
FRAME_AAD = b"AWSKMSEncryptionClient Frame"
FINAL_AAD = b"AWSKMSEncryptionClient Final Frame"
SINGLE_AAD = b"AWSKMSEncryptionClient Single Block"


def u16(n):
    return struct.pack(">H", n)


def u32(n):
    return struct.pack(">I", n)


def u64(n):
    return struct.pack(">Q", n)


def serialize_context(pairs, count=None):
    """pairs: list of (key, value) in the order to write (no sorting, duplicates kept)."""
    if not pairs and count is None:
        return b""
    out = u16(len(pairs) if count is None else count)
    for k, v in pairs:
        kb, vb = k.encode(), v.encode()
        out += u16(len(kb)) + kb + u16(len(vb)) + vb
    return out


def sorted_pairs(ec):
    return sorted(ec.items(), key=lambda kv: kv[0].encode())


class Message:  # pylint: disable=too-many-instance-attributes
    """A message under construction; every field can be changed before build()."""

    def __init__(self, wrapping_key, plaintext, ec=None, suite=0x0014, frame=16):
        self.wrapping_key = wrapping_key
        self.plaintext = plaintext
        self.suite = suite
        self.frame = frame  # 0: non-framed
        self.ec_pairs = sorted_pairs(ec or {})
        self.ec_bytes = None  # override of the serialized context
        self.data_key = os.urandom(32)
        self.message_id = os.urandom(16 if suite == 0x0014 else 32)
        self.reserved = b"\x00" * 4
        self.iv_len_field = 12
        self.header_frame_length = None  # override
        self.frames = None  # override: list of (kind, seq, iv, plaintext) kind in reg|final
        self.trailing = b""
        self.type_byte = 0x80

    def _context_bytes(self):
        return serialize_context(self.ec_pairs) if self.ec_bytes is None else self.ec_bytes

    def _edk(self, ec_bytes):
        iv = os.urandom(12)
        sealed = AESGCM(self.wrapping_key).encrypt(iv, self.data_key, ec_bytes)
        info = KEY_NAME.encode() + u32(128) + u32(12) + iv
        return u16(len(NS)) + NS.encode() + u16(len(info)) + info + u16(len(sealed)) + sealed

    def _keys(self):
        """(content key, commitment or None)."""
        if self.suite == 0x0014:
            return self.data_key[:16], None
        # 0x0478: HKDF-SHA512, salt = message id
        def hkdf(info, length):
            prk = hmac.new(self.message_id, self.data_key, hashlib.sha512).digest()
            okm, t, i = b"", b"", 1
            while len(okm) < length:
                t = hmac.new(prk, t + info + bytes([i]), hashlib.sha512).digest()
                okm += t
                i += 1
            return okm[:length]

        return hkdf(u16(0x0478) + b"DERIVEKEY", 32), hkdf(b"COMMITKEY", 32)

    def build(self):
        if self.suite == 0x0014:
            self.data_key = self.data_key[:16]
        ec_bytes = self._context_bytes()
        content_key, commitment = self._keys()
        frame_length = self.frame if self.header_frame_length is None else self.header_frame_length
        content_type = 0x01 if self.frame == 0 else 0x02
        # The keyring authenticates the context as a map: canonical (sorted, deduplicated) form.
        edks = u16(1) + self._edk(serialize_context(sorted_pairs(dict(self.ec_pairs))))
        if self.suite == 0x0014:
            body = (bytes([0x01, self.type_byte]) + u16(self.suite) + self.message_id
                    + u16(len(ec_bytes)) + ec_bytes + edks + bytes([content_type])
                    + self.reserved + bytes([self.iv_len_field]) + u32(frame_length))
            header_iv = os.urandom(12)
        else:
            body = (bytes([0x02]) + u16(self.suite) + self.message_id
                    + u16(len(ec_bytes)) + ec_bytes + edks + bytes([content_type])
                    + u32(frame_length) + commitment)
            header_iv = b"\x00" * 12
        aead = AESGCM(content_key)
        tag = aead.encrypt(header_iv, b"", body)
        out = body + (header_iv + tag if self.suite == 0x0014 else tag)
        if self.frame == 0:
            iv = (1).to_bytes(12, "big")
            aad = self.message_id + SINGLE_AAD + u32(1) + u64(len(self.plaintext))
            ct = aead.encrypt(iv, self.plaintext, aad)
            out += iv + u64(len(self.plaintext)) + ct
        else:
            for kind, seq, iv, chunk in self._frames():
                aad_kind = FRAME_AAD if kind == "reg" else FINAL_AAD
                aad = self.message_id + aad_kind + u32(seq) + u64(len(chunk))
                ct = aead.encrypt(iv, chunk, aad)
                if kind == "reg":
                    out += u32(seq) + iv + ct
                else:
                    out += u32(0xFFFFFFFF) + u32(seq) + iv + u32(len(chunk)) + ct
        return out + self.trailing

    def _frames(self):
        if self.frames is not None:
            return self.frames
        frames, seq, rest = [], 1, self.plaintext
        while len(rest) > self.frame:
            frames.append(("reg", seq, seq.to_bytes(12, "big"), rest[: self.frame]))
            rest, seq = rest[self.frame:], seq + 1
        frames.append(("final", seq, seq.to_bytes(12, "big"), rest))
        return frames


def cases(key):
    """(id, spec rule, expect_ok, Message)."""
    pt = bytes(range(40))
    seq_iv = lambda n: n.to_bytes(12, "big")  # noqa: E731
    out = []

    def add(tid, rule, ok, msg):
        out.append((tid, rule, ok, msg))

    add("valid-framed", "baseline", True, Message(key, pt, {"a": "1"}))
    add("valid-nonframed", "baseline", True, Message(key, pt, {"a": "1"}, frame=0))
    add("valid-v2-committing", "baseline (0x0478)", True, Message(key, pt, {"a": "1"}, suite=0x0478))
    m = Message(key, pt[:32], {"a": "1"})
    m.frames = [("reg", 1, seq_iv(1), pt[:16]), ("reg", 2, seq_iv(2), pt[16:32]),
                ("final", 3, seq_iv(3), b"")]
    add("valid-empty-final-frame", "message-body.md: exact multiple, final frame MAY be 0", True, m)
    m = Message(key, pt, {"b": "2", "a": "1"})
    m.ec_pairs = [("b", "2"), ("a", "1")]
    add("ec-unsorted", "structures.md: entries MUST be sorted, by key", False, m)
    m = Message(key, pt, {"a": "1"})
    m.ec_pairs = [("a", "1"), ("a", "1")]
    add("ec-duplicate", "structures.md: MUST NOT contain duplicate entries", False, m)
    m = Message(key, pt, {})
    m.ec_bytes = u16(0)
    add("ec-empty-count-0", "message-header.md: empty context, Key Value Pairs Length MUST be 0; "
        "structures.md: count MUST be greater than 0", False, m)
    add("ec-empty-value", "no rule against an empty value", True, Message(key, pt, {"a": ""}))
    add("ec-empty-key", "no rule against an empty key", True, Message(key, pt, {"": "x"}))
    add("ec-public-key-unsigned-suite",
        "default-cmm.md: unsigned suite but aws-crypto-public-key in the context MUST fail", False,
        Message(key, pt, {"aws-crypto-public-key": "AAAA"}))
    m = Message(key, pt, {"a": "1"})
    m.reserved = b"\x00\x00\x00\x01"
    add("v1-reserved-nonzero", "message-header.md: Reserved MUST be 00 00 00 00", False, m)
    m = Message(key, pt, {"a": "1"})
    m.type_byte = 0x81
    add("v1-type-0x81", "message-header.md: Type MUST be a value in the table (80)", False, m)
    m = Message(key, pt, {"a": "1"}, frame=0)
    m.header_frame_length = 16
    add("nonframed-frame-length-16", "message-header.md: non-framed, Frame Length MUST be 0", False, m)
    m = Message(key, b"", {"a": "1"})
    m.header_frame_length = 0
    m.frames = [("final", 1, seq_iv(1), b"")]
    add("framed-frame-length-0", "framed with Frame Length 0 (encrypt.md: MUST be greater than 0)",
        False, m)
    m = Message(key, pt, {"a": "1"})
    m.frames = [("final", 1, seq_iv(1), pt[:20])]
    add("final-frame-longer-than-frame", "decrypt.md: final frame content MUST be <= frame length",
        False, m)
    m = Message(key, pt, {"a": "1"})
    m.frames = [("reg", 2, seq_iv(2), pt[:16]), ("final", 3, seq_iv(3), pt[16:20])]
    add("frames-start-at-2", "decrypt.md: first sequence number MUST be 1", False, m)
    m = Message(key, pt, {"a": "1"})
    m.frames = [("reg", 1, seq_iv(1), pt[:16]), ("final", 3, seq_iv(3), pt[16:20])]
    add("final-frame-skips-2", "decrypt.md: MUST be 1 greater than the previous", False, m)
    m = Message(key, pt, {"a": "1"})
    m.frames = [("reg", 1, os.urandom(12), pt[:16]), ("final", 2, os.urandom(12), pt[16:20])]
    add("frame-iv-random", "decrypt.md: the IV is the sequence number padded to the IV length",
        False, m)
    m = Message(key, pt, {"a": "1"})
    m.trailing = b"\x00"
    add("trailing-byte", "decrypt.md: bytes left after the message MUST fail", False, m)
    m = Message(key, pt[:4], {"a": "1"})
    m.header_frame_length = 0xFFFFFFFF
    m.frames = [("final", 1, seq_iv(1), pt[:4])]
    add("frame-length-2^32-1", "message-header.md: any u32 frame length (encrypt.md: <= 2^32 - 1)",
        True, m)
    m = Message(key, pt[:4], {"a": "1"})
    m.header_frame_length = 0x80000000
    m.frames = [("final", 1, seq_iv(1), pt[:4])]
    add("frame-length-2^31", "a frame length the Python SDK cannot encrypt with", True, m)
    return out


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--output", required=True)
    parser.add_argument("--keys", default=os.path.join(HERE, "..", "manifests", "esdk-interop-keys.json"))
    args = parser.parse_args(argv)
    with open(args.keys, "rb") as f:
        keys_doc = json.load(f)
    key = base64.b64decode(keys_doc["keys"][KEY_NAME]["material"])
    for sub in ("ciphertexts", "plaintexts"):
        shutil.rmtree(os.path.join(args.output, sub), ignore_errors=True)
        os.makedirs(os.path.join(args.output, sub))
    shutil.copyfile(args.keys, os.path.join(args.output, "keys.json"))
    master_keys = [{"type": "raw", "key": KEY_NAME, "provider-id": NS, "encryption-algorithm": "aes"}]
    tests = {}
    for tid, rule, ok, msg in cases(key):
        with open(os.path.join(args.output, "ciphertexts", tid), "wb") as f:
            f.write(msg.build())
        if ok:
            with open(os.path.join(args.output, "plaintexts", tid), "wb") as f:
                f.write(msg.plaintext)
            result = {"output": {"plaintext": f"file://plaintexts/{tid}"}}
        else:
            result = {"error": {"error-description": rule}}
        tests[tid] = {"description": rule, "ciphertext": f"file://ciphertexts/{tid}",
                      "master-keys": master_keys, "result": result}
    manifest = {"manifest": {"type": "awses-decrypt", "version": 2},
                "client": {"name": "craft_edge_cases.py", "version": "1"},
                "keys": "file://keys.json", "tests": tests}
    with open(os.path.join(args.output, "manifest.json"), "w", encoding="utf-8") as f:
        json.dump(manifest, f, indent=2)
        f.write("\n")
    print(f"wrote {len(tests)} messages to {args.output}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
