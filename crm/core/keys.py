"""The key kept outside the database, and the keys derived from it: the audit log's MAC and the
encryption of second-factor secrets. Someone with a copy of the database (or its superuser)
can then neither forge the log unseen nor read the secrets.

The key is CRM_AUDIT_KEY, or the file AUDIT_KEY_FILE (instance/audit_key by default), made with
mode 0600 on first use, like instance/secret_key: back it up apart from the database.
"""

import base64
import hashlib
import hmac
import os
import secrets
from pathlib import Path

from cryptography.fernet import Fernet, InvalidToken
from flask import current_app


def master_key() -> bytes:
    config = current_app.config
    if config.get("AUDIT_KEY"):
        return str(config["AUDIT_KEY"]).encode()
    cached = current_app.extensions.get("crm.master_key")
    if cached is None:
        cached = current_app.extensions["crm.master_key"] = _from_file(key_file())
    return cached


def key_file() -> Path:
    return Path(
        current_app.config.get("AUDIT_KEY_FILE") or Path(current_app.instance_path) / "audit_key"
    )


def _from_file(path: Path) -> bytes:
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        try:
            descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        except FileExistsError:  # another process made it first
            pass
        else:
            with os.fdopen(descriptor, "w") as file:
                file.write(secrets.token_hex(32) + "\n")
    return path.read_text().strip().encode()


def derived(purpose: str) -> bytes:
    """A key for one purpose ("audit-chain", "totp"), so no two uses share a key."""
    return hmac.new(master_key(), purpose.encode(), hashlib.sha256).digest()


def mac(purpose: str, text: str) -> str:
    return hmac.new(derived(purpose), text.encode(), hashlib.sha256).hexdigest()


SEALED = "v1:"  # the start of a value sealed here


def seal(purpose: str, text: str) -> str:
    """Encrypt and authenticate (Fernet: AES-128-CBC with an HMAC) under the purpose's key."""
    return SEALED + _fernet(purpose).encrypt(text.encode()).decode()


def unseal(purpose: str, value: str) -> str:
    """The text of a sealed value; a value stored before sealing existed comes back as it is.
    Raises ValueError for a sealed value this key did not make."""
    if not value.startswith(SEALED):
        return value
    try:
        return _fernet(purpose).decrypt(value.removeprefix(SEALED).encode()).decode()
    except InvalidToken as error:
        raise ValueError("sealed under another key") from error


def is_sealed(value: str) -> bool:
    return value.startswith(SEALED)


def _fernet(purpose: str) -> Fernet:
    return Fernet(base64.urlsafe_b64encode(derived(purpose)))
