"""Upstream-compatible top-level module: ``from crypto import Crypto`` keeps working."""

from __future__ import annotations

from pycolonies.crypto import Crypto, CryptoError, generate_prvkey, id_of, recover_id, sign

genkey = generate_prvkey
"""Upstream's name for generating a private key."""
get_id = id_of
"""Upstream's name for the id of a private key."""

__all__ = ["Crypto", "CryptoError", "generate_prvkey", "genkey", "get_id", "id_of", "recover_id", "sign"]
