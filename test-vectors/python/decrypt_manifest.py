#!/usr/bin/env python3
"""Decrypts every message of an awses-decrypt manifest with the Python AWS Encryption SDK.

    python decrypt_manifest.py MANIFEST [--filter TEXT] [--jobs N] [--verbose]

MANIFEST is an awses-decrypt manifest (v1 to v5; a folder holding manifest.json works too),
for example the one `esdk-test-vectors encrypt` writes. Keyrings come from the AWS
Cryptographic Material Providers Library (raw AES, raw RSA, multi-keyring,
required-encryption-context CMM); the client uses REQUIRE_ENCRYPT_ALLOW_DECRYPT, so every suite
decrypts. A test passes when decryption gives the expected plaintext (or fails when the manifest
expects an error). AWS KMS and other keyrings this runner does not build are skipped.

Prints `FAIL <id>: <reason>` and `SKIP <id>: <reason>` lines (and `PASS <id>` with --verbose),
then `N passed, M failed, K skipped`. Exit status: 0 when nothing failed, 1 when a test failed,
2 for usage or manifest errors.
"""

import argparse
import concurrent.futures
import json
import logging
import os
import sys
import traceback

import aws_encryption_sdk
from aws_encryption_sdk.identifiers import CommitmentPolicy

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import interop_keys  # noqa: E402  pylint: disable=wrong-import-position
from interop_keys import CannotDecrypt, Skip  # noqa: E402  pylint: disable=wrong-import-position

# The SDK logs a traceback ("Error on closing") for every message it refuses; the reason is
# already in the FAIL line.
logging.getLogger("aws_encryption_sdk").setLevel(logging.CRITICAL)

MANIFEST_NAMES = ("manifest.json", "decrypt-manifest.json", "decrypt_message.json")


class Case:  # pylint: disable=too-few-public-methods
    """One decrypt test."""

    def __init__(  # pylint: disable=too-many-arguments
        self, ciphertext, expected_plaintext, expected_error, build, reproduced, method=None
    ):
        self.ciphertext = ciphertext
        self.method = method  # None, or "streaming-unsigned-only"
        self.expected_plaintext = expected_plaintext  # path, or None when an error is expected
        self.expected_error = expected_error
        self.build = build  # () -> ("keyring"|"cmm", object); may raise Skip / CannotDecrypt
        self.reproduced = reproduced  # dict or None


def _result(base, result):
    if "output" in result:
        return interop_keys.resolve_uri(base, result["output"]["plaintext"]), None
    if "error" in result:
        return None, result["error"].get("error-description", "(no description)")
    raise ValueError("result has neither output nor error")


def parse_v1_to_v4(base, test, keys):
    """awses-decrypt v1 to v4: master-keys lists (v4: cmm and encryption-context)."""
    ciphertext = interop_keys.resolve_uri(base, test["ciphertext"])
    if "result" in test:
        plaintext, error = _result(base, test["result"])
    else:
        plaintext, error = interop_keys.resolve_uri(base, test["plaintext"]), None
    method = test.get("decryption-method")
    if method not in (None, "streaming-unsigned-only"):
        raise ValueError(f"unknown decryption-method {method!r}")
    reproduced = test.get("encryption-context")
    cmm = test.get("cmm", "Default")
    master = test["master-keys"]

    def build():
        keyring = interop_keys.master_keys(master, keys)
        if cmm == "Default":
            return "keyring", keyring
        if cmm == "RequiredEncryptionContext":
            return _rec_over(keyring, list(reproduced or {}))
        raise ValueError(f"unknown cmm {cmm!r}")

    return Case(ciphertext, plaintext, error, build, reproduced, method)


def _rec_over(keyring, required):
    from aws_cryptographic_material_providers.mpl.models import (  # pylint: disable=import-outside-toplevel
        CreateDefaultCryptographicMaterialsManagerInput,
        CreateRequiredEncryptionContextCMMInput,
    )

    default = interop_keys.mpl().create_default_cryptographic_materials_manager(
        input=CreateDefaultCryptographicMaterialsManagerInput(keyring=keyring)
    )
    return "cmm", interop_keys.mpl().create_required_encryption_context_cmm(
        input=CreateRequiredEncryptionContextCMMInput(
            underlying_cmm=default, required_encryption_context_keys=required
        )
    )


def parse_v5(base, test, keys):
    """awses-decrypt v5: a decryption-scenario with a decryptKeyDescription."""
    s = test["decryption-scenario"]
    ciphertext = interop_keys.resolve_uri(base, s["ciphertext"])
    kind = s["type"]
    if kind == "positive-esdk":
        result = s["result"]
        if isinstance(result, str):
            plaintext, error = interop_keys.resolve_uri(base, result), None
        else:
            plaintext, error = _result(base, result)
    elif kind == "negative-esdk":
        plaintext = None
        error = s.get("errorDescription") or s.get("error-description") or "(no description)"
    else:
        raise ValueError(f"unknown decryption-scenario type {kind!r}")
    desc = s["decryptKeyDescription"]
    return Case(
        ciphertext,
        plaintext,
        error,
        lambda: interop_keys.build(desc, keys, "decrypt"),
        s.get("reproduced-encryption-context"),
        s.get("decryption-method"),
    )


def load(path):
    """(manifest dict, base folder, keys, [(id, Case or Exception)])."""
    if os.path.isdir(path):
        for name in MANIFEST_NAMES:
            if os.path.isfile(os.path.join(path, name)):
                path = os.path.join(path, name)
                break
        else:
            raise ValueError(f"no decrypt manifest ({', '.join(MANIFEST_NAMES)}) in {path}")
    with open(path, "rb") as f:
        doc = json.load(f)
    header = doc.get("manifest", {})
    if header.get("type") != "awses-decrypt":
        raise ValueError(f"manifest type is {header.get('type')!r}, expected 'awses-decrypt'")
    version = int(header.get("version", 0))
    if not 1 <= version <= 5:
        raise ValueError(f"unsupported awses-decrypt version {version} (1 to 5 are supported)")
    base = os.path.dirname(os.path.abspath(path))
    keys = interop_keys.load_keys(interop_keys.resolve_uri(base, doc["keys"]))
    cases = []
    for test_id, test in sorted(doc["tests"].items()):
        try:
            case = parse_v5(base, test, keys) if version >= 5 else parse_v1_to_v4(base, test, keys)
        except Exception as e:  # pylint: disable=broad-except
            case = e
        cases.append((test_id, case))
    return doc, base, keys, cases


def run_case(client, case):
    """('PASS'|'FAIL'|'SKIP', reason)."""
    try:
        kind, obj = case.build()
    except Skip as e:
        return "SKIP", str(e)
    except CannotDecrypt as e:
        if case.expected_plaintext is None:
            return "PASS", ""
        return "FAIL", f"no listed key can decrypt: {e}"
    with open(case.ciphertext, "rb") as f:
        ciphertext = f.read()
    kwargs = {"source": ciphertext}
    kwargs["keyring" if kind == "keyring" else "materials_manager"] = obj
    if case.reproduced is not None:
        kwargs["encryption_context"] = case.reproduced
    try:
        if case.method == "streaming-unsigned-only":
            with client.stream(mode="decrypt-unsigned", **kwargs) as decryptor:
                plaintext = decryptor.read()
        else:
            plaintext, _header = client.decrypt(**kwargs)
    except Exception as e:  # pylint: disable=broad-except
        if case.expected_plaintext is None:
            return "PASS", ""
        return "FAIL", f"decryption failed: {type(e).__name__}: {e}"
    if case.expected_plaintext is None:
        return "FAIL", f"decryption succeeded, but an error is expected ({case.expected_error})"
    with open(case.expected_plaintext, "rb") as f:
        want = f.read()
    if plaintext != want:
        first = next(
            (i for i, (a, b) in enumerate(zip(plaintext, want)) if a != b),
            min(len(plaintext), len(want)),
        )
        return "FAIL", (
            f"plaintext mismatch: got {len(plaintext)} bytes, expected {len(want)}, "
            f"first difference at byte {first}"
        )
    return "PASS", ""


_WORKER = {}


def _client():
    return aws_encryption_sdk.EncryptionSDKClient(
        commitment_policy=CommitmentPolicy.REQUIRE_ENCRYPT_ALLOW_DECRYPT
    )


def _run_one(test_id, case, client):
    if isinstance(case, Exception):
        return "FAIL", f"bad manifest entry: {type(case).__name__}: {case}"
    try:
        return run_case(client, case)
    except Exception as e:  # pylint: disable=broad-except
        traceback.print_exc(file=sys.stderr)
        return "FAIL", f"{type(e).__name__}: {e}"


def _worker_init(path):
    _WORKER["cases"] = dict(load(path)[3])
    _WORKER["client"] = _client()


def _worker_run(test_id):
    return _run_one(test_id, _WORKER["cases"][test_id], _WORKER["client"])


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("manifest")
    parser.add_argument("--filter", help="run only tests whose id contains TEXT")
    parser.add_argument(
        "--jobs", "-j", type=int, default=os.cpu_count() or 1,
        help="worker processes (default: the number of CPUs)",
    )
    parser.add_argument("--verbose", "-v", action="store_true", help="also print PASS lines")
    args = parser.parse_args(argv)
    try:
        doc, _base, _keys, cases = load(args.manifest)
    except Exception as e:  # pylint: disable=broad-except
        print(f"error: {args.manifest}: {type(e).__name__}: {e}", file=sys.stderr)
        return 2
    writer = doc.get("client", {})
    print(
        f"# decrypting with aws-encryption-sdk {aws_encryption_sdk.__version__} (Python) "
        f"messages written by {writer.get('name', '?')} {writer.get('version', '')}".rstrip(),
        flush=True,
    )
    selected = [(i, c) for i, c in cases if not args.filter or args.filter in i]
    if args.jobs > 1 and len(selected) > 1:
        with concurrent.futures.ProcessPoolExecutor(
            max_workers=args.jobs, initializer=_worker_init, initargs=(args.manifest,)
        ) as pool:
            outcomes = list(pool.map(_worker_run, [i for i, _ in selected], chunksize=4))
    else:
        client = _client()
        outcomes = [_run_one(i, c, client) for i, c in selected]
    counts = {"PASS": 0, "FAIL": 0, "SKIP": 0}
    for (test_id, _case), (status, reason) in zip(selected, outcomes):
        counts[status] += 1
        if status != "PASS":
            print(f"{status} {test_id}: {reason}", flush=True)
        elif args.verbose:
            print(f"PASS {test_id}", flush=True)
    print(f"{counts['PASS']} passed, {counts['FAIL']} failed, {counts['SKIP']} skipped")
    return 1 if counts["FAIL"] else 0


if __name__ == "__main__":
    sys.exit(main())
