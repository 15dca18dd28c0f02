"""Python AWS Encryption SDK (4.x, MPL keyrings) against a KMS endpoint, for esdk interop tests.

Run with the KMS test venv's Python (kms_server::python()):

  kms_roundtrip.py decrypt --endpoint URL --region R --key-arn ARN FILE...
      Decrypts each message FILE with an AWS KMS keyring for ARN and writes FILE.py-decrypted.
      When FILE is NAME.ct and NAME.pt exists beside it, the plaintext must equal NAME.pt.
      --context K=V (repeatable): each pair must be in the message's encryption context.

  kms_roundtrip.py encrypt --endpoint URL --region R --key-arn ARN --out DIR
      Encrypts the plaintexts empty (0 bytes), one-byte (1), frame-4096 (4096) and
      multi-10000 (10000) with the default (committing, signed) suite, frame length 4096 and
      the encryption context {"purpose": "interop"} (or the --context pairs), writing
      DIR/NAME.ct and DIR/NAME.pt.

Both print one JSON summary line on stdout. On any failure they exit 1 with a one-line reason on
stderr (the summary line lists every file's result). Credentials are dummies (testing/testing).
"""

import argparse
import json
import logging
import os
import sys
import warnings

PLAINTEXTS = (("empty", 0), ("one-byte", 1), ("frame-4096", 4096), ("multi-10000", 10000))
FRAME_LENGTH = 4096
DEFAULT_CONTEXT = {"purpose": "interop"}


def fail(reason):
    sys.stderr.write("kms_roundtrip.py: " + " ".join(str(reason).split()) + "\n")
    sys.exit(1)


def one_line(exc):
    text = " ".join(str(exc).split())
    if len(text) > 300:
        text = text[:300] + "..."
    return "%s: %s" % (type(exc).__name__, text)


def plaintext(n):
    return bytes((i * 31 + 7) % 256 for i in range(n))


def parse_context(pairs):
    ctx = {}
    for pair in pairs or []:
        if "=" not in pair:
            fail("--context wants KEY=VALUE, got %r" % pair)
        k, v = pair.split("=", 1)
        ctx[k] = v
    return ctx


def bypass_proxies_for_loopback():
    """botocore honours HTTP(S)_PROXY; the test endpoint is on loopback, so never proxy it."""
    for var in ("NO_PROXY", "no_proxy"):
        rules = [r for r in os.environ.get(var, "").split(",") if r]
        for host in ("127.0.0.1", "localhost", "::1"):
            if host not in rules:
                rules.append(host)
        os.environ[var] = ",".join(rules)


def make_keyring(args):
    bypass_proxies_for_loopback()
    import boto3
    import botocore.config
    from aws_cryptographic_material_providers.mpl import AwsCryptographicMaterialProviders
    from aws_cryptographic_material_providers.mpl.config import MaterialProvidersConfig
    from aws_cryptographic_material_providers.mpl.models import CreateAwsKmsKeyringInput

    kms = boto3.client(
        "kms",
        region_name=args.region,
        endpoint_url=args.endpoint,
        aws_access_key_id="testing",
        aws_secret_access_key="testing",
        config=botocore.config.Config(
            connect_timeout=2, read_timeout=10, retries={"max_attempts": 2, "mode": "standard"}
        ),
    )
    mpl = AwsCryptographicMaterialProviders(config=MaterialProvidersConfig())
    return mpl.create_aws_kms_keyring(
        input=CreateAwsKmsKeyringInput(kms_key_id=args.key_arn, kms_client=kms)
    )


def esdk_client():
    import aws_encryption_sdk
    from aws_encryption_sdk import CommitmentPolicy

    return aws_encryption_sdk.EncryptionSDKClient(
        commitment_policy=CommitmentPolicy.REQUIRE_ENCRYPT_REQUIRE_DECRYPT
    )


def cmd_encrypt(args):
    context = parse_context(args.context) or dict(DEFAULT_CONTEXT)
    try:
        keyring = make_keyring(args)
        client = esdk_client()
        os.makedirs(args.out, exist_ok=True)
    except Exception as e:  # noqa: BLE001 - every failure becomes the one-line reason
        fail("setup: " + one_line(e))
    results, first_error = [], None
    for name, size in PLAINTEXTS:
        pt = plaintext(size)
        entry = {"name": name, "plaintext_bytes": size}
        try:
            ct, header = client.encrypt(
                source=pt, keyring=keyring, encryption_context=context, frame_length=FRAME_LENGTH
            )
            with open(os.path.join(args.out, name + ".ct"), "wb") as f:
                f.write(ct)
            with open(os.path.join(args.out, name + ".pt"), "wb") as f:
                f.write(pt)
            entry.update(ok=True, ciphertext_bytes=len(ct), algorithm=header.algorithm.name)
        except Exception as e:  # noqa: BLE001
            entry.update(ok=False, error=one_line(e))
            first_error = first_error or "encrypt %s: %s" % (name, one_line(e))
        results.append(entry)
    return summary("encrypt", results, first_error)


def cmd_decrypt(args):
    required = parse_context(args.context)
    try:
        keyring = make_keyring(args)
        client = esdk_client()
    except Exception as e:  # noqa: BLE001
        fail("setup: " + one_line(e))
    results, first_error = [], None
    for path in args.files:
        entry = {"file": path}
        try:
            with open(path, "rb") as f:
                ct = f.read()
            pt, header = client.decrypt(source=ct, keyring=keyring)
            ctx = dict(header.encryption_context)
            missing = {k: v for k, v in required.items() if ctx.get(k) != v}
            if missing:
                raise ValueError("encryption context %r lacks %r" % (ctx, missing))
            expected = None
            if path.endswith(".ct") and os.path.exists(path[:-3] + ".pt"):
                with open(path[:-3] + ".pt", "rb") as f:
                    expected = f.read()
                if expected != pt:
                    raise ValueError(
                        "plaintext differs from %s (%d vs %d bytes)"
                        % (path[:-3] + ".pt", len(pt), len(expected))
                    )
            with open(path + ".py-decrypted", "wb") as f:
                f.write(pt)
            entry.update(
                ok=True,
                plaintext_bytes=len(pt),
                algorithm=header.algorithm.name,
                checked_against_pt=expected is not None,
            )
        except Exception as e:  # noqa: BLE001
            entry.update(ok=False, error=one_line(e))
            first_error = first_error or "decrypt %s: %s" % (path, one_line(e))
        results.append(entry)
    return summary("decrypt", results, first_error)


def summary(mode, results, first_error):
    failed = sum(1 for r in results if not r.get("ok"))
    print(
        json.dumps(
            {"mode": mode, "ok": failed == 0, "passed": len(results) - failed, "failed": failed,
             "results": results},
            sort_keys=True,
        )
    )
    sys.stdout.flush()
    if failed:
        fail("%d of %d failed; first: %s" % (failed, len(results), first_error))
    return 0


def main(argv=None):
    warnings.simplefilter("ignore")
    # The SDK logs a traceback ("Error on closing") when a failed decrypt's stream is closed;
    # the failure is reported once, on one line, instead.
    sdk_log = logging.getLogger("aws_encryption_sdk")
    sdk_log.addHandler(logging.NullHandler())
    sdk_log.propagate = False
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    sub = p.add_subparsers(dest="mode", required=True)
    for mode in ("encrypt", "decrypt"):
        s = sub.add_parser(mode)
        s.add_argument("--endpoint", required=True, help="KMS endpoint URL, e.g. http://127.0.0.1:PORT")
        s.add_argument("--region", required=True)
        s.add_argument("--key-arn", required=True)
        s.add_argument("--context", action="append", metavar="KEY=VALUE")
        if mode == "encrypt":
            s.add_argument("--out", required=True, help="folder for NAME.ct and NAME.pt")
        else:
            s.add_argument("files", nargs="+", metavar="FILE")
    args = p.parse_args(argv)
    try:
        import aws_encryption_sdk  # noqa: F401
        import aws_cryptographic_material_providers  # noqa: F401
    except ImportError as e:
        fail("this Python lacks the ESDK with its MPL (use the KMS test venv's python): %s" % e)
    return cmd_encrypt(args) if args.mode == "encrypt" else cmd_decrypt(args)


if __name__ == "__main__":
    sys.exit(main())
