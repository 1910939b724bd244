"""Keys, ids, signatures: ColonyOS crypto on libsecp256k1 (coincurve).

An id is SHA3-256 of the *hex text* of the uncompressed public key; a signature is
ECDSA(secp256k1) over SHA3-256 of the signed text, RFC 6979 nonce, low-S, as r||s||v hex
(v the raw recovery id 0/1). See protocol core/00-overview.md section 6.
"""

from __future__ import annotations

import hashlib
import os
from functools import lru_cache

from coincurve import PrivateKey, PublicKey

__all__ = ["Crypto", "CryptoError", "generate_prvkey", "id_of", "recover_id", "sign"]

# Order of the secp256k1 group.
N = 0xFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFEBAAEDCE6AF48A03BBFD25E8CD0364141
_HALF_N = N // 2


class CryptoError(ValueError):
    """A key or signature that cannot be used; the message is safe to send to a client."""


def _sha3(data: bytes) -> bytes:
    return hashlib.sha3_256(data).digest()


@lru_cache(maxsize=1024)
def _private_key(prvkey: str) -> PrivateKey:
    try:
        raw = bytes.fromhex(prvkey)
    except (ValueError, TypeError) as exc:
        raise CryptoError(f"Invalid private key, not hex: {exc}") from None
    if len(raw) != 32:
        raise CryptoError("Invalid private key length, should be 256 bits")
    d = int.from_bytes(raw, "big")
    if d == 0 or d >= N:
        raise CryptoError("Invalid private key")
    return PrivateKey(raw)


def _id_of_public(pub: PublicKey) -> str:
    return hashlib.sha3_256(pub.format(compressed=False).hex().encode("ascii")).hexdigest()


def generate_prvkey() -> str:
    """A new private key as 64 hex characters (uniform over the valid scalars)."""
    while True:
        raw = _sha3(os.urandom(32))
        if 0 < int.from_bytes(raw, "big") < N:
            return raw.hex()


@lru_cache(maxsize=1024)
def id_of(prvkey: str) -> str:
    """The id of a private key: SHA3-256 of the hex of its uncompressed public key."""
    return _id_of_public(_private_key(prvkey).public_key)


def sign(data: str, prvkey: str) -> str:
    """Sign the UTF-8 text ``data``; returns 130 hex characters r||s||v."""
    return _private_key(prvkey).sign_recoverable(_sha3(data.encode("utf-8")), hasher=None).hex()


def recover_id(data: str, signature: str) -> str:
    """The id of whoever signed ``data``; raises CryptoError for a malformed or high-S signature."""
    try:
        sig = bytes.fromhex(signature)
    except (ValueError, TypeError):
        raise CryptoError("encoding/hex: invalid signature hex") from None
    if len(sig) != 65:
        raise CryptoError("Invalid signature length")
    r = int.from_bytes(sig[:32], "big")
    s = int.from_bytes(sig[32:64], "big")
    v = sig[64]
    if not (0 < r < N and 0 < s < N):
        raise CryptoError("Failed verify signature: invalid r or s value")
    if s > _HALF_N:
        raise CryptoError("Failed verify signature: Signature s value is over half the order")
    if v > 7:
        raise CryptoError("Failed verify signature: invalid recovery id")
    try:
        pub = PublicKey.from_signature_and_message(sig[:64] + bytes([v & 3]), _sha3(data.encode("utf-8")), hasher=None)
    except Exception as exc:  # libsecp256k1 reports every failure the same way
        raise CryptoError(f"Failed verify signature: {exc}") from None
    return _id_of_public(pub)


class Crypto:
    """Upstream pycolonies' ``Crypto`` class; ``native`` is accepted and ignored."""

    def __init__(self, native: bool = False) -> None:
        self.native = native

    def prvkey(self) -> str:
        return generate_prvkey()

    def id(self, prvkey: str) -> str:
        return id_of(prvkey)

    def sign(self, data: str, prvkey: str) -> str:
        return sign(data, prvkey)

    def recover_id(self, data: str, signature: str) -> str:
        return recover_id(data, signature)
