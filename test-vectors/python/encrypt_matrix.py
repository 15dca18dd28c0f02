#!/usr/bin/env python3
"""Encrypts a matrix of messages with the Python AWS Encryption SDK, for esdk to decrypt.

    python encrypt_matrix.py --output DIR [--keys KEYS_MANIFEST]

Writes DIR/manifest.json (awses-decrypt v5), DIR/keys.json (a copy of the keys manifest,
default ../manifests/esdk-interop-keys.json), DIR/ciphertexts/ and DIR/plaintexts/. Then
`esdk-test-vectors decrypt --manifest DIR` must report 0 failed.

The matrix: all 11 algorithm suites; non-framed and frame lengths 128, 512 and 4096 (the Python
SDK only encrypts with frame lengths that are multiples of 128: it checks the frame length
against the AES block size in bits), with plaintexts that are empty,
exact multiples of the frame length (the Python SDK then ends the body with an empty final
frame) and not; the keyrings and encryption contexts of the project's encrypt manifest
(generate_esdk_interop.py): raw AES 128/192/256, raw RSA with every padding, multi-keyrings, the
required-encryption-context CMM; contexts empty, one pair, many pairs, non-ASCII. Non-committing
suites are encrypted under FORBID_ENCRYPT_ALLOW_DECRYPT, committing ones under
REQUIRE_ENCRYPT_REQUIRE_DECRYPT.

Ends with `N passed, M failed, 0 skipped` (passed = encrypted and written); exit status 1 when
a message could not be encrypted, 2 for usage errors.
"""

import argparse
import hashlib
import json
import os
import shutil
import sys
import traceback

import aws_encryption_sdk
from aws_encryption_sdk.identifiers import Algorithm, CommitmentPolicy

HERE = os.path.dirname(os.path.abspath(__file__))
MANIFESTS = os.path.join(HERE, "..", "manifests")
sys.path.insert(0, HERE)
sys.path.insert(0, MANIFESTS)
import generate_esdk_interop as project  # noqa: E402  pylint: disable=wrong-import-position
import interop_keys  # noqa: E402  pylint: disable=wrong-import-position

# frame length -> plaintext sizes (0 = non-framed)
FRAMES = {
    0: [0, 3000],
    128: [0, 384, 400],  # 384 = 3 frames exactly
    512: [1024, 1500],  # 1024 = 2 frames exactly
    4096: [4096, 10000],  # 4096 = 1 frame exactly
}


def plaintext(size):
    """The deterministic plaintext of `size` bytes."""
    return hashlib.shake_256(f"esdk-interop-python-{size}".encode()).digest(size)


def suite_is_committing(algorithm):
    return algorithm.is_committing()


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--output", required=True, help="folder to write")
    parser.add_argument(
        "--keys",
        default=os.path.join(MANIFESTS, "esdk-interop-keys.json"),
        help="keys manifest (default: the project's esdk-interop-keys.json)",
    )
    args = parser.parse_args(argv)
    keys = interop_keys.load_keys(args.keys)
    out = args.output
    for sub in ("ciphertexts", "plaintexts"):
        shutil.rmtree(os.path.join(out, sub), ignore_errors=True)
        os.makedirs(os.path.join(out, sub))
    shutil.copyfile(args.keys, os.path.join(out, "keys.json"))

    clients = {
        True: aws_encryption_sdk.EncryptionSDKClient(
            commitment_policy=CommitmentPolicy.REQUIRE_ENCRYPT_REQUIRE_DECRYPT
        ),
        False: aws_encryption_sdk.EncryptionSDKClient(
            commitment_policy=CommitmentPolicy.FORBID_ENCRYPT_ALLOW_DECRYPT
        ),
    }
    tests = {}
    passed = failed = 0
    written_plaintexts = set()
    for s_i, suite in enumerate(project.SUITES):
        algorithm = Algorithm.get_by_id(int(suite, 16))
        client = clients[suite_is_committing(algorithm)]
        j = 0
        for frame, sizes in FRAMES.items():
            for size in sizes:
                kname, enc, dec, required_ec = project.KEYRINGS[(s_i * 3 + j) % len(project.KEYRINGS)]
                if required_ec is not None:
                    cname, ec = "ec-required", required_ec
                else:
                    cname, ec = project.CONTEXTS[(s_i + j) % len(project.CONTEXTS)]
                fname = "nonframed" if frame == 0 else f"f{frame}"
                tid = f"py-{suite}-{fname}-p{size}-{kname}-{cname}"
                j += 1
                pname = f"size-{size}"
                data = plaintext(size)
                try:
                    kind, obj = interop_keys.build(enc, keys, "encrypt")
                    kwargs = {
                        "source": data,
                        "encryption_context": dict(ec),
                        "algorithm": algorithm,
                        "frame_length": frame,
                    }
                    kwargs["keyring" if kind == "keyring" else "materials_manager"] = obj
                    ciphertext, _header = client.encrypt(**kwargs)
                except Exception as e:  # pylint: disable=broad-except
                    failed += 1
                    print(f"FAIL {tid}: encrypt failed: {type(e).__name__}: {e}", flush=True)
                    traceback.print_exc(file=sys.stderr)
                    continue
                with open(os.path.join(out, "ciphertexts", tid), "wb") as f:
                    f.write(ciphertext)
                if pname not in written_plaintexts:
                    with open(os.path.join(out, "plaintexts", pname), "wb") as f:
                        f.write(data)
                    written_plaintexts.add(pname)
                scenario = {
                    "type": "positive-esdk",
                    "ciphertext": f"file://ciphertexts/{tid}",
                    "result": f"file://plaintexts/{pname}",
                    "algorithmSuiteId": suite,
                    "frame-size": frame,
                    "description": f"Python SDK: suite {suite}, "
                    + ("non-framed" if frame == 0 else f"frame {frame}")
                    + f", {size} bytes, {kname}, {cname}",
                    "decryptKeyDescription": dec,
                }
                if required_ec is not None or j % 2 == 0:
                    scenario["reproduced-encryption-context"] = ec
                tests[tid] = {"decryption-scenario": scenario}
                passed += 1
    manifest = {
        "manifest": {"type": "awses-decrypt", "version": 5},
        "client": {"name": "aws-encryption-sdk-python", "version": aws_encryption_sdk.__version__},
        "keys": "file://keys.json",
        "tests": tests,
    }
    with open(os.path.join(out, "manifest.json"), "w", encoding="utf-8") as f:
        json.dump(manifest, f, indent=2, ensure_ascii=False)
        f.write("\n")
    print(f"# wrote {os.path.join(out, 'manifest.json')} with aws-encryption-sdk "
          f"{aws_encryption_sdk.__version__} (Python)", flush=True)
    print(f"{passed} passed, {failed} failed, 0 skipped")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
