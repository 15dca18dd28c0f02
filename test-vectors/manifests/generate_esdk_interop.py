#!/usr/bin/env python3
"""Writes esdk-interop-encrypt.json, the project's awses-encrypt (v5) manifest.

Run from anywhere: `python3 test-vectors/manifests/generate_esdk_interop.py`. The output is
deterministic; commit it together with this script. The keys (esdk-interop-keys.json: raw AES
128/192/256 and an RSA-3072 key made with `openssl genpkey`) are written by hand, not here.

Coverage:
- all 11 algorithm suites;
- frame lengths 1, 17, 4096, 65536 and 0 (non-framed) for every suite;
- plaintext sizes 0, 1, frame-1, frame, frame+1 and several frames for each frame length
  (non-framed: 0, 1, 4097, 12388);
- keyrings, rotated over the matrix: raw AES 128/192/256; raw RSA with pkcs1 and oaep-mgf1
  sha1/256/384/512; multi-keyrings (AES generator + RSA public-key child, RSA generator + AES
  child, 3 and 8 encrypted data keys, each decrypted by one key only); the
  required-encryption-context CMM over raw AES and over a multi-keyring;
- encryption contexts: empty, one pair, many pairs, non-ASCII.

The rotation is a pure function of each test's position, so every suite meets most keyrings and
every context, without the full cross product (a few hundred messages, about 4 MB).
"""

import json
import os

HERE = os.path.dirname(os.path.abspath(__file__))
OUT = os.path.join(HERE, "esdk-interop-encrypt.json")
NS = "esdk-interop"

SUITES = ["0014", "0046", "0078", "0114", "0146", "0178", "0214", "0346", "0378", "0478", "0578"]

# frame length -> plaintext sizes
FRAMES = {
    1: [0, 1, 2, 7],  # frame-1 = 0, frame = 1, frame+1 = 2, 7 frames
    17: [0, 1, 16, 17, 18, 3 * 17 + 5],
    4096: [0, 1, 4095, 4096, 4097, 3 * 4096 + 100],
    65536: [0, 1, 65535, 65536, 65537, 2 * 65536 + 7],
    0: [0, 1, 4097, 3 * 4096 + 100],  # non-framed
}


def aes(key):
    return {"type": "raw", "key": key, "provider-id": NS, "encryption-algorithm": "aes"}


def rsa(key, padding, hash_=None):
    d = {"type": "raw", "key": key, "provider-id": NS, "encryption-algorithm": "rsa",
         "padding-algorithm": padding}
    if hash_:
        d["padding-hash"] = hash_
    return d


def multi(generator, children):
    d = {"type": "multi-keyring", "childKeyrings": children}
    if generator is not None:
        d["generator"] = generator
    return d


def rec(underlying, keys):
    return {"type": "required-encryption-context-cmm", "underlying": underlying,
            "requiredEncryptionContextKeys": keys}


PRIV, PUB = "rsa-3072-private", "rsa-3072-public"

# name -> (encrypt description, decrypt description, required context or None)
KEYRINGS = [
    ("aes128", aes("aes-128"), aes("aes-128"), None),
    ("aes192", aes("aes-192"), aes("aes-192"), None),
    ("aes256", aes("aes-256"), aes("aes-256"), None),
    ("rsa-pkcs1", rsa(PRIV, "pkcs1"), rsa(PRIV, "pkcs1"), None),
    ("rsa-oaep-sha1", rsa(PRIV, "oaep-mgf1", "sha1"), rsa(PRIV, "oaep-mgf1", "sha1"), None),
    ("rsa-oaep-sha256", rsa(PRIV, "oaep-mgf1", "sha256"), rsa(PRIV, "oaep-mgf1", "sha256"), None),
    ("rsa-oaep-sha384", rsa(PRIV, "oaep-mgf1", "sha384"), rsa(PRIV, "oaep-mgf1", "sha384"), None),
    ("rsa-oaep-sha512", rsa(PRIV, "oaep-mgf1", "sha512"), rsa(PRIV, "oaep-mgf1", "sha512"), None),
    # AES generates, the RSA public key only encrypts; decrypt with the RSA private key alone.
    ("multi-aes256-rsapub",
     multi(aes("aes-256"), [rsa(PUB, "oaep-mgf1", "sha256")]),
     rsa(PRIV, "oaep-mgf1", "sha256"), None),
    # RSA generates; decrypt with the same multi-keyring.
    ("multi-rsa-aes128",
     multi(rsa(PRIV, "oaep-mgf1", "sha1"), [aes("aes-128")]),
     multi(rsa(PRIV, "oaep-mgf1", "sha1"), [aes("aes-128")]), None),
    # Three EDKs, decrypted by the second child's key.
    ("multi3-aes192",
     multi(aes("aes-192"), [aes("aes-128"), rsa(PUB, "pkcs1")]),
     multi(None, [aes("aes-128")]), None),
    # Eight EDKs, decrypted by the last one.
    ("multi8",
     multi(aes("aes-256"), [aes("aes-128"), aes("aes-192"), rsa(PUB, "pkcs1"),
                            rsa(PUB, "oaep-mgf1", "sha1"), rsa(PUB, "oaep-mgf1", "sha256"),
                            rsa(PUB, "oaep-mgf1", "sha384"), rsa(PUB, "oaep-mgf1", "sha512")]),
     rsa(PRIV, "oaep-mgf1", "sha512"), None),
    ("rec-aes256",
     rec(aes("aes-256"), ["b"]),
     rec(aes("aes-256"), ["b"]),
     {"a": "1", "b": "2", "c": "stored"}),
    ("rec-multi",
     rec(multi(aes("aes-128"), [rsa(PUB, "oaep-mgf1", "sha512")]), ["tenant", "ключ"]),
     rec(rsa(PRIV, "oaep-mgf1", "sha512"), ["tenant", "ключ"]),
     {"tenant": "t-0042", "ключ": "значение", "stored": "yes"}),
]

CONTEXTS = [
    ("ec-empty", {}),
    ("ec-one", {"purpose": "esdk interop"}),
    ("ec-many", {f"key-{i:02}": "v" * i + str(i) for i in range(24)}),
    ("ec-utf8", {"ключ": "значение", "鍵": "値 🔑", "émoji 🙂": "naïve café", "ascii": "plain",
                 "\u00a0nbsp": "tab\there"}),
]


def main():
    tests = {}
    plaintexts = {}
    for s_i, suite in enumerate(SUITES):
        j = 0
        for frame, sizes in FRAMES.items():
            for size in sizes:
                k = (s_i * 5 + j) % len(KEYRINGS)
                # esdk::hazmat::encrypt_non_framed takes a keyring, not a CMM.
                while frame == 0 and KEYRINGS[k][3] is not None:
                    k = (k + 1) % len(KEYRINGS)
                kname, enc, dec, required_ec = KEYRINGS[k]
                if required_ec is not None:
                    cname, ec = "ec-required", required_ec
                else:
                    cname, ec = CONTEXTS[(s_i * 3 + j) % len(CONTEXTS)]
                pname = f"size-{size}"
                plaintexts[pname] = size
                fname = "nonframed" if frame == 0 else f"f{frame}"
                tid = f"{suite}-{fname}-p{size}-{kname}-{cname}"
                scenario = {
                    "type": "positive-esdk",
                    "plaintext": pname,
                    "description": f"suite {suite}, "
                    + ("non-framed" if frame == 0 else f"frame {frame}")
                    + f", {size} bytes, {kname}, {cname}",
                    "algorithmSuiteId": suite,
                    "frame-size": frame,
                    "encryptKeyDescription": enc,
                    "decryptKeyDescription": dec,
                    "encryption-context": ec,
                }
                # Reproduce the context for the required-context CMM (it must), and for every
                # other test in turn (decrypt then checks it against the stored one).
                if required_ec is not None or j % 2 == 0:
                    scenario["reproduced-encryption-context"] = ec
                assert tid not in tests, tid
                tests[tid] = {"encryption-scenario": scenario}
                j += 1
    doc = {
        "manifest": {"type": "awses-encrypt", "version": 5},
        "keys": "file://esdk-interop-keys.json",
        "plaintexts": dict(sorted(plaintexts.items(), key=lambda kv: kv[1])),
        "tests": tests,
    }
    with open(OUT, "w", encoding="utf-8") as f:
        json.dump(doc, f, indent=2, ensure_ascii=False)
        f.write("\n")
    used = {t["encryption-scenario"]["description"].split(", ")[3] for t in tests.values()}
    missing = [k[0] for k in KEYRINGS if k[0] not in used]
    assert not missing, missing
    print(f"wrote {OUT}: {len(tests)} tests, {len(plaintexts)} plaintexts")


if __name__ == "__main__":
    main()
