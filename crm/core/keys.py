"""The key kept outside the database, and the keys derived from it: the audit log's MAC and the
encryption of second-factor secrets. Someone with a copy of the database (or its superuser)
can then neither forge the log unseen nor read the secrets.

The key is CRM_AUDIT_KEY, or the file AUDIT_KEY_FILE (instance/audit_key by default), made with
mode 0600 on first use, like instance/secret_key: back it up apart from the database.
"""

import hashlib
import hmac
import os
import secrets
from pathlib import Path

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
    return Path(current_app.config.get("AUDIT_KEY_FILE") or
                Path(current_app.instance_path) / "audit_key")  # fmt: skip


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
