"""The partner's RSA key pair and id, generated on first start in the state directory.

The private key is written with mode 0600 and never leaves the state directory; ``partner.json``
tells the app where it is (``{"partnerId", "privateKeyPath"}``).
"""

from __future__ import annotations

import json
import os
import secrets
import uuid
from dataclasses import dataclass
from pathlib import Path

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

PARTNER_FILE = "partner.json"
KEY_FILE = "partner_private_key.pem"
TOKEN_SECRET_FILE = "token_secret"  # noqa: S105 - a file name


@dataclass(frozen=True)
class PartnerFiles:
    partner_id: str
    private_key_path: Path
    private_key_pem: bytes
    public_key: rsa.RSAPublicKey
    token_secret: bytes
    created: bool


def _write_private(path: Path, data: bytes) -> None:
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "wb") as handle:
        handle.write(data)
    os.chmod(path, 0o600)


def ensure_partner(state_dir: Path) -> PartnerFiles:
    """Read the partner files, creating them on first start."""
    state_dir.mkdir(parents=True, exist_ok=True)
    partner_path = state_dir / PARTNER_FILE
    key_path = (state_dir / KEY_FILE).resolve()
    secret_path = state_dir / TOKEN_SECRET_FILE
    created = False
    if not key_path.exists():
        key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        pem = key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.TraditionalOpenSSL,  # PKCS#1, as Ordoclic's samples read
            serialization.NoEncryption(),
        )
        _write_private(key_path, pem)
        created = True
    if not secret_path.exists():
        _write_private(secret_path, secrets.token_hex(32).encode())
    if not partner_path.exists() or created:
        partner_path.write_text(
            json.dumps({"partnerId": str(uuid.uuid4()), "privateKeyPath": str(key_path)}, indent=2)
            + "\n",
            encoding="utf-8",
        )
    partner = json.loads(partner_path.read_text(encoding="utf-8"))
    pem = key_path.read_bytes()
    private_key = serialization.load_pem_private_key(pem, password=None)
    assert isinstance(private_key, rsa.RSAPrivateKey)
    return PartnerFiles(
        partner_id=partner["partnerId"],
        private_key_path=key_path,
        private_key_pem=pem,
        public_key=private_key.public_key(),
        token_secret=secret_path.read_bytes().strip(),
        created=created,
    )
