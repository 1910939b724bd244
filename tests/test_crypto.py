"""Every crypto vector of protocol core/00-overview.md section 6.6, byte for byte."""

from __future__ import annotations

import hashlib
import json

import pytest
from coincurve import PrivateKey

from pycolonies.crypto import Crypto, CryptoError, N, generate_prvkey, id_of, recover_id, sign
from pycolonies.rpc import build_request

EXECUTOR_KEY = "ddf7f7791208083b6a9ed975a72684f6406a269cfa36f1b1c32045c0a71fff05"
EXECUTOR_ID = "3fc05cf3df4b494e95d6a3d297a34f19938f7daa7422ab0d4f794454133341ac"
SERVER_KEY = "fcc79953d8a751bf41db661592dc34d30004b1a651ffa0725b03ac227641499d"
SERVER_ID = "039231c7644e04b6895471dd5335cf332681c54e27f81fac54f9067b3f2c0103"
COLONY_KEY = "ba949fa134981372d6da62b6a56f336ab4d843b22c02a4257dcf7d0d73097514"
COLONY_ID = "4787a5071856a4acf702b2ffcea422e3237a679c681314113d86139461290cf4"
GO_KEY = "6d2fb6f546bacfd98c68769e61e0b44a697a30596c018a50e28200aa59b01c0a"
GO_ID = "4fef2b5a82d134d058c1883c72d6d9caf77cd59ca82d73105017590dea3dcb87"
SDK_KEY = "d6eb959e9aec2e6fdc44b5862b269e987b8a4d6f2baca542d8acaa97ee5e74f6"
SDK_ID = "5d6568f883451ae2e407d1a0a7992e414f2a67b69d0e6e9176d353b98f06f696"

HELLO_SIG = (
    "887d6a2291487951e99ea07c3a15a37e29971856c85ff732d8d6cd087c525a5a"
    "1019ef841dc4880f8a592e5d45cbddfcd94b3ca2c9651b4c990f2b959793adc701"
)
VERSION_PAYLOAD = "eyJtc2d0eXBlIjogInZlcnNpb25tc2cifQ=="
VERSION_SIG = (
    "e2ff8275db36099810ef3c552dd1209bd3fd6ae08f74210aea44973506c34162"
    "600a67734047394150ae8f80e496f6f2676326ae1af1e56ba7238b0784fab6b100"
)
SDK_HELLO_SIG = (
    "e713a1bb015fecabb5a084b0fe6d6e7271fca6f79525a634183cfdb175fe6924"
    "1f4da161779d8e6b761200e1cf93766010a19072fa778f9643363e2cfadd640900"
)
GO_INTEROP_SIG = (
    "997eca36736d465e0e8d64e6d657ff4c939c8f5cad4272797ea0fe372bfd8d09"
    "53d21b3d06ded5dd80aee8cfa3a9be7ce615ce690eb64184fe15962943fe541300"
)
GETCOLONIES_PAYLOAD = "eyJtc2d0eXBlIjogImdldGNvbG9uaWVzbXNnIn0="
GETCOLONIES_SIG = (
    "82a2287f7fa7aad2f7a476c2b91743d67792c4f1f580f7cad92ecc6c3504bc6f"
    "2f542e984ed0d7d8b5a90a6fc1a381bb18e29dceabb6e97600395d37706732af01"
)
GETCOLONY_PAYLOAD = "eyJtc2d0eXBlIjogImdldGNvbG9ueW1zZyIsICJjb2xvbnluYW1lIjogInRlc3QifQ=="
GETCOLONY_SIG = (
    "094a94c81baa80340fca37271ba95d80fe07457fd1b0590f5d658c9fa122f1d1"
    "1a47c970da63a3cadcf454582e107f49f679b10b9038e973c1ab0c3f1bc0d58e00"
)


@pytest.mark.parametrize(
    ("prvkey", "expected"),
    [
        (EXECUTOR_KEY, EXECUTOR_ID),
        (SERVER_KEY, SERVER_ID),
        (COLONY_KEY, COLONY_ID),
        (GO_KEY, GO_ID),
        (SDK_KEY, SDK_ID),
    ],
)
def test_id_vectors(prvkey: str, expected: str) -> None:
    assert id_of(prvkey) == expected
    assert Crypto().id(prvkey) == expected


def test_public_key_intermediates() -> None:
    pub_hex = PrivateKey(bytes.fromhex(EXECUTOR_KEY)).public_key.format(compressed=False).hex()
    assert pub_hex == (
        "040e1930031d82f79fb53008c4ad81c8933f9fdb4d55bf9f385eca9f1275b2cfd6"
        "ed08ae04fd9e3b72daeea8d3e836148d4d3dc27df58fb45878d126cddf4d2fcf"
    )
    assert hashlib.sha3_256(pub_hex.encode("ascii")).hexdigest() == EXECUTOR_ID
    go_pub = PrivateKey(bytes.fromhex(GO_KEY)).public_key.format(compressed=False).hex()
    assert go_pub == (
        "0408e903276ee7973666dceeefa5335e5c4b6b5989821906db98f8de8acf8f8538"
        "24ca3234a8602200baa2d75f30cb2050cda18602824c3eb2da654a93a01a7ad4"
    )


@pytest.mark.parametrize(
    ("prvkey", "data", "digest", "signature", "signer"),
    [
        (
            EXECUTOR_KEY,
            "hello",
            "3338be694f50c5f338814986cdf0686453a888b84f424d792af4b9202398f392",
            HELLO_SIG,
            EXECUTOR_ID,
        ),
        (
            EXECUTOR_KEY,
            VERSION_PAYLOAD,
            "610fc79d05c13f0f78bc7831206f01a50dd3e16474ebbdf97f686918890efb85",
            VERSION_SIG,
            EXECUTOR_ID,
        ),
        (
            SDK_KEY,
            "hello",
            "3338be694f50c5f338814986cdf0686453a888b84f424d792af4b9202398f392",
            SDK_HELLO_SIG,
            SDK_ID,
        ),
    ],
)
def test_sign_and_recover_vectors(prvkey: str, data: str, digest: str, signature: str, signer: str) -> None:
    assert hashlib.sha3_256(data.encode()).hexdigest() == digest
    assert sign(data, prvkey) == signature
    assert Crypto().sign(data, prvkey) == signature
    assert len(signature) == 130
    assert recover_id(data, signature) == signer


def test_go_interop_signature_recovers() -> None:
    assert recover_id("hello", GO_INTEROP_SIG) == SDK_ID


def test_high_s_signature_is_rejected() -> None:
    raw = bytes.fromhex(HELLO_SIG)
    s = int.from_bytes(raw[32:64], "big")
    flipped = raw[:32] + (N - s).to_bytes(32, "big") + bytes([raw[64] ^ 1])
    with pytest.raises(CryptoError, match="over half the order"):
        recover_id("hello", flipped.hex())


@pytest.mark.parametrize("signature", ["zz", "00"])
def test_malformed_signatures_are_rejected(signature: str) -> None:
    with pytest.raises(CryptoError):
        recover_id("hello", signature)


def test_altered_data_recovers_somebody_else() -> None:
    altered = "eyJtc2d0eXBlIjogImdldGNvbG9uaWVzbXNnInfQ=="
    assert recover_id(altered, GETCOLONIES_SIG) == ("1a095390fdefe42eedfb3523a5b9588ad88fc43be785d264a7ec7b0245dc536e")


@pytest.mark.parametrize(
    ("msg", "prvkey", "payload", "signature", "signer"),
    [
        ({"msgtype": "getcoloniesmsg"}, SERVER_KEY, GETCOLONIES_PAYLOAD, GETCOLONIES_SIG, SERVER_ID),
        (
            {"msgtype": "getcolonymsg", "colonyname": "test"},
            EXECUTOR_KEY,
            GETCOLONY_PAYLOAD,
            GETCOLONY_SIG,
            EXECUTOR_ID,
        ),
    ],
)
def test_envelope_vectors(msg: dict[str, str], prvkey: str, payload: str, signature: str, signer: str) -> None:
    body = build_request(msg, prvkey)
    expected = {"payloadtype": msg["msgtype"], "payload": payload, "signature": signature}
    assert body == json.dumps(expected).encode("utf-8")
    assert recover_id(payload, signature) == signer


def test_getcolonies_payload_digest() -> None:
    digest = hashlib.sha3_256(GETCOLONIES_PAYLOAD.encode()).hexdigest()
    assert digest == "eadda7cf07edf81c2803ef44e180181d037cc68dfce136f18b91891f1e39be17"


# upstream test/crypto_test.py


def test_prvkey() -> None:
    key = Crypto().prvkey()
    assert len(key) == 64
    assert 0 < int(key, 16) < N
    assert generate_prvkey() != generate_prvkey()


def test_upstream_id() -> None:
    assert Crypto().id(GO_KEY) == GO_ID


def test_upstream_sign() -> None:
    assert Crypto().sign("hello", SDK_KEY) == SDK_HELLO_SIG


def test_native_flag_is_accepted() -> None:
    assert Crypto(native=True).sign("hello", SDK_KEY) == SDK_HELLO_SIG
