#!/usr/bin/env python3
"""Rebuilds the vendored subset of the public test vectors (test-vectors/vendored/).

    python3 test-vectors/vendored/regenerate.py [SHARED_TEST_VECTORS]

SHARED_TEST_VECTORS defaults to ../shared/test-vectors beside the repository root. The rules
below pick messages from that folder's INDEX.tsv (first matching row, in index order); the
messages, plaintexts and keys are copied byte for byte, and each set gets a decrypt manifest
holding only the picked tests (entries copied unchanged from the upstream manifest). SOURCES.tsv
lists every file written and where it came from. Standard library only; deterministic.
"""

import base64
import csv
import hashlib
import io
import json
import os
import shutil
import sys
import zipfile

HERE = os.path.dirname(os.path.abspath(__file__))
SETS = ["legacy-python-1.3.0", "dafny-4.1.0", "v4-Net-4.0.1", "nonframed-fixtures", "known-answer"]

# Who wrote each set (see shared/test-vectors/README.md section 1).
WRITER = {
    "legacy-python-1.3.0": "AWS Encryption SDK for Python 1.3.0",
    "dafny-4.1.0": "Dafny-based AWS Encryption SDK 4.1.0 (client aws-encryption-sdk-dafny)",
    "v4-Net-4.0.1": "AWS Encryption SDK for .NET 4.0.1 (manifest says ESDK-NET 4.0.0)",
    "nonframed-fixtures": "AWS Encryption SDK for Python 2.x",
}

# (set, suite, keyring column of INDEX.tsv, body, frame length or None, encryption context kind or None)
# Legacy: one message per v1 suite, rotating raw AES-128/192/256, RSA-2048 PKCS1 and OAEP-SHA1,
# with and without the undecryptable ephemeral second key, framings and encryption contexts.
LEGACY = "static-aws-xcompat"
PICKS = [
    ("legacy-python-1.3.0", "0014", f"raw-aes({LEGACY}/AES.128..)", "nonframed", 0, "empty"),
    ("legacy-python-1.3.0", "0046", f"raw-rsa-pkcs1({LEGACY}/RSA.2048.PKCS1.)", "framed", 512, "ascii"),
    ("legacy-python-1.3.0", "0078", f"raw-rsa-oaep-mgf1-sha-1({LEGACY}/RSA.2048.OAEP-MGF1.SHA-1)+undecryptable-ephemeral", "framed", 4096, "utf8"),
    ("legacy-python-1.3.0", "0114", f"raw-aes({LEGACY}/AES.128..)+undecryptable-ephemeral", "framed", 10240, "bytes"),
    ("legacy-python-1.3.0", "0146", f"raw-aes({LEGACY}/AES.192..)", "nonframed", 0, "ascii"),
    ("legacy-python-1.3.0", "0178", f"raw-rsa-oaep-mgf1-sha-1({LEGACY}/RSA.2048.OAEP-MGF1.SHA-1)", "framed", 20480, "empty"),
    ("legacy-python-1.3.0", "0214", f"raw-rsa-pkcs1({LEGACY}/RSA.2048.PKCS1.)", "nonframed", 0, "utf8"),
    ("legacy-python-1.3.0", "0346", f"raw-aes({LEGACY}/AES.192..)+undecryptable-ephemeral", "framed", 4096, "bytes"),
    ("legacy-python-1.3.0", "0378", f"raw-aes({LEGACY}/AES.256..)", "framed", 10240, "ascii"),
    # Dafny 4.1.0: the committing suites with raw AES, RSA-4096 PKCS1 and OAEP-SHA256, a
    # multi-keyring and the required-encryption-context CMM.
    ("dafny-4.1.0", "0478", "raw-aes", None, None, None),
    ("dafny-4.1.0", "0578", "raw-rsa-pkcs1", None, None, None),
    ("dafny-4.1.0", "0478", "raw-rsa-oaep-mgf1-sha256", None, None, None),
    ("dafny-4.1.0", "0578", "multi[raw-aes:aes-256+raw-aes:aes-128]", None, None, None),
    ("dafny-4.1.0", "0478", "required-ec-cmm[a]->raw-aes", None, None, None),
    # .NET 4.0.1: RSA-4096 OAEP-SHA512, a private+public RSA multi-keyring, raw AES through the
    # required-encryption-context CMM.
    ("v4-Net-4.0.1", "0578", "raw-rsa-oaep-mgf1-sha512:rsa-4096-private cmm=Default", None, None, None),
    ("v4-Net-4.0.1", "0046", "raw-rsa-oaep-mgf1-sha512:rsa-4096-private+raw-rsa-oaep-mgf1-sha256:rsa-4096-public cmm=Default", None, None, None),
    ("v4-Net-4.0.1", "0478", "raw-aes:aes-256 cmm=RequiredEncryptionContext", None, None, None),
    # The only message-format-v2 non-framed message with a real raw keyring.
    ("nonframed-fixtures", "0478", "raw-aes:aes-256 (aws-raw-vectors-persistant)", "nonframed", 0, None),
]

# Commitment known answers (1-based test numbers): the non-KMS pair (one must fail), a signed
# one, two more commitment mismatches, and JS, C, Python and Java messages, framed (1, 16, 2048)
# and non-framed, both suites.
COMMITMENT_TESTS = [1, 2, 3, 12, 21, 22, 24, 27, 28, 30, 32, 36, 38, 39, 44]


def context_kind(message):
    """Kind of the encryption context in a message-format-v1 header."""
    aad_len = int.from_bytes(message[20:22], "big")
    if aad_len == 0:
        return "empty"
    pos, count = 24, int.from_bytes(message[22:24], "big")
    raw = []
    for _ in range(count * 2):
        n = int.from_bytes(message[pos:pos + 2], "big")
        raw.append(message[pos + 2:pos + 2 + n])
        pos += 2 + n
    if any(b"\x00" in r or b"\x01" in r for r in raw):
        return "bytes"
    if any(any(c > 0x7F for c in r) for r in raw):
        return "utf8"
    return "ascii"


class Source:
    def __init__(self, root):
        self.root = root
        self.zips = {}

    def read(self, ref):
        """Bytes of `path` or `archive.zip!member`."""
        if "!" in ref:
            archive, member = ref.split("!", 1)
            if archive not in self.zips:
                self.zips[archive] = zipfile.ZipFile(os.path.join(self.root, archive))
            return self.zips[archive].read(member)
        with open(os.path.join(self.root, ref), "rb") as f:
            return f.read()


def main():
    root = os.path.abspath(sys.argv[1] if len(sys.argv) > 1 else os.path.join(HERE, "../../../shared/test-vectors"))
    src = Source(root)
    with open(os.path.join(root, "INDEX.tsv"), newline="", encoding="utf-8") as f:
        index = list(csv.DictReader(f, delimiter="\t"))
    for name in SETS:
        shutil.rmtree(os.path.join(HERE, name), ignore_errors=True)
    sources = []

    def write(rel, data, origin, writer):
        path = os.path.join(HERE, rel)
        os.makedirs(os.path.dirname(path), exist_ok=True)
        with open(path, "wb") as f:
            f.write(data)
        sources.append((rel, origin, writer, hashlib.sha256(data).hexdigest()[:16]))

    def dump(doc):
        return (json.dumps(doc, indent=2, ensure_ascii=False) + "\n").encode()

    picked = {name: [] for name in SETS}
    for set_name, suite, keyring, body, frame, ec in PICKS:
        for row in index:
            if (row["set"], row["suite"], row["keyring"]) != (set_name, suite, keyring):
                continue
            if row["offline"] != "yes" or row["verified"] != "decrypt-ok":
                continue
            if body is not None and row["body"] != body:
                continue
            if frame is not None and int(row["frame"]) != frame:
                continue
            if ec is not None and context_kind(src.read(row["ciphertext"])) != ec:
                continue
            if row in picked[set_name]:
                continue
            picked[set_name].append(row)
            break
        else:
            sys.exit(f"no vector matches {(set_name, suite, keyring, body, frame, ec)}")

    # Legacy python-1.3.0: manifests/ciphertext.manifest with the picked test_cases. Messages
    # move from ciphertext/<suite>/small/<frame>/<name> to ciphertext/<name> (fewer folders);
    # the manifest's file names are changed to match, nothing else is.
    base = "awses-legacy/python-1.3.0"
    doc = json.loads(src.read(f"{base}/manifests/ciphertext.manifest"))
    files = {row["ciphertext"][len(base) + 1:] for row in picked["legacy-python-1.3.0"]}
    doc["test_cases"] = [t for t in doc["test_cases"] if t["ciphertext"]["filename"] in files]
    assert len(doc["test_cases"]) == len(files)
    writer = WRITER["legacy-python-1.3.0"]
    out = "legacy-python-1.3.0"
    copies = {}
    for t in doc["test_cases"]:
        rel = t["ciphertext"]["filename"]
        t["ciphertext"]["filename"] = copies[rel] = "ciphertext/" + os.path.basename(rel)
        copies[t["plaintext"]["filename"]] = t["plaintext"]["filename"]
    write(f"{out}/manifests/ciphertext.manifest", dump(doc),
          f"{base}/manifests/ciphertext.manifest (test_cases filtered, ciphertext file names flattened)", writer)
    for rel, new in sorted(copies.items()):
        write(f"{out}/{new}", src.read(f"{base}/{rel}"), f"{base}/{rel}", writer)

    # awses-decrypt sets (dafny v5 folder, .NET v4 zip): the manifest with the picked tests, the
    # keys they name, their messages and plaintexts.
    for out, base, manifest_name in [
        ("dafny-4.1.0", "awses-decrypt/dafny-4.1.0/", "decrypt-manifest.json"),
        ("v4-Net-4.0.1", "awses-decrypt/v4-Net-4.0.1.zip!", "manifest.json"),
    ]:
        writer = WRITER[out]
        ids = [row["id"] for row in picked[out]]
        doc = json.loads(src.read(base + manifest_name))
        doc["tests"] = {i: doc["tests"][i] for i in sorted(ids)}
        keys_rel = doc["keys"].removeprefix("file://")
        keys = json.loads(src.read(base + keys_rel))
        used = set()

        def walk(v):
            if isinstance(v, dict):
                if isinstance(v.get("key"), str):
                    used.add(v["key"])
                for x in v.values():
                    walk(x)
            elif isinstance(v, list):
                for x in v:
                    walk(x)

        walk(doc["tests"])
        keys["keys"] = {k: v for k, v in keys["keys"].items() if k in used}
        assert set(keys["keys"]) == used, used
        write(f"{out}/{manifest_name}", dump(doc), f"{base}{manifest_name} (tests filtered)", writer)
        write(f"{out}/{keys_rel}", dump(keys), f"{base}{keys_rel} (keys filtered to those used)", writer)
        rels = set()
        for t in doc["tests"].values():
            t = t.get("decryption-scenario", t)
            rels.add(t["ciphertext"])
            result = t["result"]
            rels.add(result if isinstance(result, str) else result["output"]["plaintext"])
        for uri in sorted(rels):
            rel = uri.removeprefix("file://")
            write(f"{out}/{rel}", src.read(base + rel), base + rel, writer)

    # Non-framed fixtures: the message and its plaintext (the runner pairs them by prefix).
    writer = WRITER["nonframed-fixtures"]
    for row in picked["nonframed-fixtures"]:
        message = row["ciphertext"]
        prefix = os.path.basename(message).split("_")[0]
        for rel in [message, f"nonframed-fixtures/{prefix}_nonframed_plaintext_small.bin"]:
            write(f"nonframed-fixtures/{os.path.basename(rel)}", src.read(rel), rel, writer)

    # Known answers: the picked commitment tests and every decrypt-oracle vector whose data key is
    # known (the aws-kms ones would only be skipped).
    rel = "known-answer/python-esdk/commitment-test-vectors.json"
    doc = json.loads(src.read(rel))
    doc["tests"] = [doc["tests"][n - 1] for n in COMMITMENT_TESTS]
    write("known-answer/commitment-test-vectors.json", dump(doc),
          f"{rel} (tests {', '.join(map(str, COMMITMENT_TESTS))})",
          "Python, JavaScript, C and Java AWS Encryption SDKs (see each test's comment)")
    rel = "known-answer/python-esdk/decrypt_vectors.json"
    doc = [v for v in json.loads(src.read(rel)) if v["key-type"] != "aws-kms"]
    write("known-answer/decrypt_vectors.json", dump(doc), f"{rel} (key-type null and test_counting)",
          "AWS Encryption SDK for Python (decrypt oracle)")

    sources.sort()
    text = io.StringIO()
    text.write("# file\tcopied from (shared/test-vectors/...; ! = zip member)\twritten by\tsha256[:16]\n")
    for row in sources:
        text.write("\t".join(row) + "\n")
    with open(os.path.join(HERE, "SOURCES.tsv"), "w", encoding="utf-8") as f:
        f.write(text.getvalue())
    for name, rows in picked.items():
        if rows:
            print(f"{name}: {len(rows)} messages")
    print(f"known-answer: {len(COMMITMENT_TESTS)} commitment tests, the decrypt-oracle vectors with a known key")
    print(f"{len(sources)} files written")


if __name__ == "__main__":
    main()
