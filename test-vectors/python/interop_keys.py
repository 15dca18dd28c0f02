"""Keys manifests and key descriptions turned into keyrings and CMMs of the AWS Cryptographic
Material Providers Library (MPL), for the Python AWS Encryption SDK.

Shared by decrypt_manifest.py and encrypt_matrix.py. Supports what esdk supports: raw AES and
raw RSA keyrings, multi-keyrings, the required-encryption-context CMM; AWS KMS, raw ECDH and
hierarchy descriptions raise Skip.
"""

import base64
import json
import os

from aws_cryptographic_material_providers.mpl import AwsCryptographicMaterialProviders
from aws_cryptographic_material_providers.mpl.config import MaterialProvidersConfig
from aws_cryptographic_material_providers.mpl.models import (
    AesWrappingAlg,
    CreateDefaultCryptographicMaterialsManagerInput,
    CreateMultiKeyringInput,
    CreateRawAesKeyringInput,
    CreateRawRsaKeyringInput,
    CreateRequiredEncryptionContextCMMInput,
    PaddingScheme,
)
from cryptography.hazmat.primitives import serialization

_MPL = None


def mpl():
    """The material providers client (made once)."""
    global _MPL  # pylint: disable=global-statement
    if _MPL is None:
        _MPL = AwsCryptographicMaterialProviders(config=MaterialProvidersConfig())
    return _MPL


class Skip(Exception):
    """The test cannot run here (AWS KMS, a keyring this runner does not build)."""


class CannotDecrypt(Exception):
    """No listed key can decrypt (public or decrypt: false keys only)."""


def resolve_uri(base_dir, uri):
    """A manifest URI (file:// relative to the manifest's folder) as a path."""
    if uri.startswith("file://"):
        uri = uri[len("file://"):]
    elif "://" in uri:
        raise ValueError(f"unsupported URI {uri!r} (only file:// is supported)")
    return os.path.normpath(os.path.join(base_dir, uri))


def load_keys(path):
    """Reads a keys manifest (v1 to v3, with the MPL extensions): name -> entry."""
    with open(path, "rb") as f:
        doc = json.load(f)
    manifest = doc.get("manifest", {})
    if manifest.get("type") != "keys":
        raise ValueError(f"{path}: manifest type is {manifest.get('type')!r}, expected 'keys'")
    keys = {}
    for name, entry in doc["keys"].items():
        entry = dict(entry)
        material = entry.get("material")
        if isinstance(material, list):
            entry["material"] = entry.get("line-separator", "").join(material)
        keys[name] = entry
    return keys


def _aes_alg(length):
    try:
        return {
            16: AesWrappingAlg.ALG_AES128_GCM_IV12_TAG16,
            24: AesWrappingAlg.ALG_AES192_GCM_IV12_TAG16,
            32: AesWrappingAlg.ALG_AES256_GCM_IV12_TAG16,
        }[length]
    except KeyError:
        raise ValueError(f"AES key of {length} bytes") from None


def rsa_padding(padding, hash_):
    """The MPL padding scheme for a manifest's padding-algorithm and padding-hash."""
    padding = (padding or "").lower()
    if padding == "pkcs1":
        return PaddingScheme.PKCS1
    if padding == "oaep-mgf1":
        h = (hash_ or "").lower().replace("-", "")
        schemes = {
            "sha1": PaddingScheme.OAEP_SHA1_MGF1,
            "sha256": PaddingScheme.OAEP_SHA256_MGF1,
            "sha384": PaddingScheme.OAEP_SHA384_MGF1,
            "sha512": PaddingScheme.OAEP_SHA512_MGF1,
        }
        if h not in schemes:
            raise ValueError(f"unknown padding-hash {hash_!r}")
        return schemes[h]
    raise ValueError(f"unknown padding-algorithm {padding!r}")


def _is_kms(entry_type):
    return entry_type == "aws-kms" or entry_type.startswith("aws-kms-")


_PEM_CACHE = {}


def _rsa_pems(material, private):
    """(SPKI public PEM, PKCS #8 private PEM or None), as the MPL wants them (cached: RSA key
    loading checks the key and is slow)."""
    cache_key = (material, private)
    if cache_key not in _PEM_CACHE:
        pem = material.encode()
        if private:
            key = serialization.load_pem_private_key(pem, password=None)
            private_pem = key.private_bytes(
                serialization.Encoding.PEM,
                serialization.PrivateFormat.PKCS8,
                serialization.NoEncryption(),
            )
            public = key.public_key()
        else:
            public = serialization.load_pem_public_key(pem)
            private_pem = None
        public_pem = public.public_bytes(
            serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
        )
        _PEM_CACHE[cache_key] = (public_pem, private_pem)
    return _PEM_CACHE[cache_key]


def raw_keyring(desc, keys, purpose):
    """A raw AES or RSA keyring. purpose is 'encrypt' or 'decrypt'."""
    name = desc["key"]
    if name not in keys:
        raise ValueError(f"key {name!r} is not in the keys manifest")
    entry = keys[name]
    if _is_kms(entry.get("type", "")):
        raise ValueError(f"key {name!r} is described as raw but its type is {entry['type']!r}")
    key_name = entry.get("key-id", name)
    namespace = desc["provider-id"]
    algorithm = desc["encryption-algorithm"].lower()
    if purpose == "decrypt" and (
        not entry.get("decrypt", True) or entry.get("type") not in ("symmetric", "private")
    ):
        raise CannotDecrypt(f"key {name!r} cannot decrypt")
    if purpose == "encrypt" and not entry.get("encrypt", True):
        raise ValueError(f"key {name!r} may not encrypt")
    material = entry["material"]
    if algorithm == "aes":
        wrapping_key = base64.b64decode("".join(material.split()))
        return mpl().create_raw_aes_keyring(
            input=CreateRawAesKeyringInput(
                key_namespace=namespace,
                key_name=key_name,
                wrapping_key=wrapping_key,
                wrapping_alg=_aes_alg(len(wrapping_key)),
            )
        )
    if algorithm == "rsa":
        padding = rsa_padding(desc.get("padding-algorithm"), desc.get("padding-hash"))
        public_pem, private_pem = _rsa_pems(material, entry.get("type") == "private")
        return mpl().create_raw_rsa_keyring(
            input=CreateRawRsaKeyringInput(
                key_namespace=namespace,
                key_name=key_name,
                padding_scheme=padding,
                public_key=public_pem if purpose == "encrypt" else None,
                private_key=private_pem if purpose == "decrypt" else None,
            )
        )
    raise ValueError(f"unknown encryption-algorithm {algorithm!r}")


def _kms_reason(desc, keys):
    key = desc.get("key") or desc.get("recipient")
    arn = keys.get(key, {}).get("key-id", key) if key else "discovery"
    return f"AWS KMS ({desc['type']}: {arn}), no KMS access offline"


def build(desc, keys, purpose):
    """(kind, object) for a key description: kind is 'keyring' or 'cmm'.

    For decrypt, a multi-keyring keeps only the keys that can decrypt (a list of master keys
    means "any one of these"); for encrypt, every keyring must be built.
    """
    kind = desc["type"]
    if kind == "raw":
        return "keyring", raw_keyring(desc, keys, purpose)
    if _is_kms(kind):
        raise Skip(_kms_reason(desc, keys))
    if kind == "multi-keyring":
        return "keyring", _multi(desc.get("generator"), desc.get("childKeyrings") or [], keys, purpose)
    if kind == "required-encryption-context-cmm":
        under_kind, under = build(desc["underlying"], keys, purpose)
        if under_kind == "keyring":
            under = mpl().create_default_cryptographic_materials_manager(
                input=CreateDefaultCryptographicMaterialsManagerInput(keyring=under)
            )
        return "cmm", mpl().create_required_encryption_context_cmm(
            input=CreateRequiredEncryptionContextCMMInput(
                underlying_cmm=under,
                required_encryption_context_keys=list(desc["requiredEncryptionContextKeys"]),
            )
        )
    raise Skip(f"keyring type {kind} not implemented by this runner")


def _multi(generator_desc, child_descs, keys, purpose):
    skips, unusable = [], []

    def one(d):
        try:
            k, obj = build(d, keys, purpose)
        except Skip as e:
            if purpose == "encrypt":
                raise
            skips.append(str(e))
            return None
        except CannotDecrypt as e:
            unusable.append(str(e))
            return None
        if k != "keyring":
            raise ValueError("a materials manager cannot be part of a multi-keyring")
        return obj

    generator = one(generator_desc) if generator_desc is not None else None
    children = [c for c in (one(d) for d in child_descs) if c is not None]
    if generator is None and not children:
        if skips:
            raise Skip(skips[0])
        raise CannotDecrypt("; ".join(unusable) or "no keys are listed")
    if generator is None and len(children) == 1 and purpose == "decrypt":
        return children[0]
    return mpl().create_multi_keyring(
        input=CreateMultiKeyringInput(generator=generator, child_keyrings=children)
    )


def master_keys(list_, keys, purpose="decrypt"):
    """A master-key list (awses-decrypt v1 to v4) as a keyring: any one key decrypts."""
    return _multi(None, list_, keys, purpose)
