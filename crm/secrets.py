"""Write-only CRM secrets: literals encrypted at rest, references resolved at use.

An admin gives a secret as

* a literal (``"s3cr3t"`` or ``{"literal": "s3cr3t"}``): stored as ``enc:<Fernet token>``;
* a reference (``"env:NAME"``, ``"file:/path"`` or ``{"env": "NAME"}`` / ``{"file": "/path"}``):
  stored as written and read from the environment or the file each time an adapter is built,
  so rotating the secret needs no API call.

Nothing here ever puts a secret value into an exception message or a log line; errors name
the secret (``client_secret``) and the reference, never the value. :func:`describe_secrets`
is what API responses and exports show instead.
"""

from __future__ import annotations

import base64
import hashlib
import os
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any, Literal

from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from pydantic import BaseModel, ConfigDict

from .errors import ConfigError

__all__ = [
    "SecretBox",
    "SecretInput",
    "SecretStatus",
    "KEY_FILE_NAME",
    "load_secret_box",
    "parse_secret_input",
    "store_secret",
    "resolve_secret",
    "resolve_secrets",
    "secret_matches",
    "describe_secrets",
    "redact",
]

KEY_FILE_NAME = "secret.key"
_ENC = "enc:"
_REFERENCE_PREFIXES = ("env:", "file:")


class SecretBox:
    """Encrypts and decrypts secret literals. The first key encrypts; every key decrypts,
    so an operator can rotate by putting a new key in front of the old one."""

    def __init__(self, keys: list[bytes]) -> None:
        if not keys:
            raise ValueError("SecretBox needs at least one key")
        self._fernet = MultiFernet([Fernet(key) for key in keys])

    def seal(self, value: str) -> str:
        return _ENC + self._fernet.encrypt(value.encode()).decode()

    def open(self, stored: str, *, name: str = "secret") -> str:
        try:
            return self._fernet.decrypt(stored.removeprefix(_ENC).encode()).decode()
        except InvalidToken:
            raise ConfigError(
                f"Secret '{name}' cannot be decrypted with the configured secret key "
                "(was CUSTOMER_CARD_SECRET_KEY or the key file changed?); set it again",
                code="secret_undecryptable",
                field=f"secrets.{name}",
            ) from None


def _fernet_key(text: str) -> bytes:
    """A Fernet key as given, or one derived from a passphrase (SHA-256), so an operator
    may set any long random string."""
    raw = text.strip().encode()
    try:
        if len(base64.urlsafe_b64decode(raw)) == 32:
            return raw
    except (ValueError, TypeError):
        pass
    return base64.urlsafe_b64encode(hashlib.sha256(raw).digest())


def load_secret_box(secret_key: str, data_dir: Path) -> SecretBox:
    """The box for ``secret_key`` (comma-separated for rotation), or for the key file under
    ``data_dir``, created (mode 0600) on first use when no key is configured."""
    if secret_key.strip():
        return SecretBox([_fernet_key(part) for part in secret_key.split(",") if part.strip()])
    path = data_dir / KEY_FILE_NAME
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        try:
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        except FileExistsError:  # another process created it first: use theirs
            pass
        else:
            with os.fdopen(fd, "wb") as handle:
                handle.write(Fernet.generate_key())
    return SecretBox([_fernet_key(path.read_text())])


class SecretInput(BaseModel):
    """One secret as an admin supplies it: exactly one of the three forms."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    literal: str | None = None
    env: str | None = None
    file: str | None = None

    @property
    def kind(self) -> Literal["literal", "env", "file"]:
        if self.env is not None:
            return "env"
        if self.file is not None:
            return "file"
        return "literal"

    @property
    def reference(self) -> str | None:
        if self.env is not None:
            return f"env:{self.env}"
        if self.file is not None:
            return f"file:{self.file}"
        return None


def parse_secret_input(name: str, value: Any) -> SecretInput:
    """Accept ``"literal"``, ``"env:NAME"``, ``"file:PATH"`` or the object forms."""
    if isinstance(value, SecretInput):
        return value
    if isinstance(value, str):
        if value.startswith("env:"):
            return _checked(name, SecretInput(env=value[4:]))
        if value.startswith("file:"):
            return _checked(name, SecretInput(file=value[5:]))
        return _checked(name, SecretInput(literal=value))
    if isinstance(value, Mapping):
        unknown = set(value) - {"literal", "env", "file"}
        given = [key for key in ("literal", "env", "file") if value.get(key) is not None]
        if unknown or len(given) != 1 or not all(isinstance(value[k], str) for k in given):
            raise ConfigError(
                f"secrets.{name}: give exactly one of 'literal', 'env' or 'file' as a string",
                code="invalid_secret",
                field=f"secrets.{name}",
            )
        return _checked(name, SecretInput(**{given[0]: value[given[0]]}))
    raise ConfigError(
        f"secrets.{name}: must be a string or an object",
        code="invalid_secret",
        field=f"secrets.{name}",
    )


def _checked(name: str, secret: SecretInput) -> SecretInput:
    if secret.kind == "literal" and not secret.literal:
        raise ConfigError(
            f"secrets.{name}: must not be empty", code="invalid_secret", field=f"secrets.{name}"
        )
    if secret.kind == "env" and not (secret.env or "").strip():
        raise ConfigError(
            f"secrets.{name}: 'env:' needs a variable name",
            code="invalid_secret",
            field=f"secrets.{name}",
        )
    if secret.kind == "file" and not (secret.file or "").strip():
        raise ConfigError(
            f"secrets.{name}: 'file:' needs a path", code="invalid_secret", field=f"secrets.{name}"
        )
    return secret


def store_secret(secret: SecretInput, box: SecretBox) -> str:
    """The stored form: ``enc:...`` for a literal, the reference as written otherwise."""
    reference = secret.reference
    if reference is not None:
        return reference
    return box.seal(secret.literal or "")


def resolve_secret(name: str, stored: str, box: SecretBox) -> str:
    """The plain value of one stored secret (for the adapter only: never log it)."""
    if stored.startswith(_ENC):
        return box.open(stored, name=name)
    if stored.startswith("env:"):
        variable = stored[4:]
        value = os.environ.get(variable)
        if value is None:
            raise ConfigError(
                f"Secret '{name}' refers to environment variable {variable}, which is not set",
                code="secret_unresolved",
                field=f"secrets.{name}",
            )
        return value
    if stored.startswith("file:"):
        path = Path(stored[5:])
        try:
            return path.read_text().rstrip("\r\n")
        except OSError as exc:
            raise ConfigError(
                f"Secret '{name}' refers to file {path}, which cannot be read "
                f"({exc.strerror or type(exc).__name__})",
                code="secret_unresolved",
                field=f"secrets.{name}",
            ) from None
    # Rows written before encryption existed hold plain values; they still work.
    return stored


def secret_matches(name: str, stored: str | None, value: Any, box: SecretBox) -> bool:
    """Whether ``value`` (as an admin gives it) is what is ``stored``, without exposing the
    stored value: lets ``config apply`` stay idempotent with literal secrets."""
    if stored is None:
        return False
    given = parse_secret_input(name, value)
    if given.reference is not None:
        return stored == given.reference
    return stored.startswith(_ENC) and resolve_secret(name, stored, box) == given.literal


def resolve_secrets(stored: Mapping[str, str], box: SecretBox) -> dict[str, str]:
    return {name: resolve_secret(name, value, box) for name, value in stored.items()}


class SecretStatus(BaseModel):
    """What an API response shows for a secret: that it is set, and how (never the value)."""

    model_config = ConfigDict(extra="forbid")

    set: bool = True
    kind: Literal["literal", "env", "file"]
    reference: str | None = None  # "env:NAME" / "file:PATH"; references are not secrets


def describe_secrets(stored: Mapping[str, str]) -> dict[str, SecretStatus]:
    described: dict[str, SecretStatus] = {}
    for name, value in sorted(stored.items()):
        if value.startswith(_REFERENCE_PREFIXES):
            kind: Literal["env", "file"] = "env" if value.startswith("env:") else "file"
            described[name] = SecretStatus(kind=kind, reference=value)
        else:
            described[name] = SecretStatus(kind="literal")
    return described


def redact(text: str, values: Iterable[str]) -> str:
    """``text`` with every secret value in ``values`` replaced by ``***``: a last guard for
    CRM error messages that might echo a credential back."""
    for value in sorted((v for v in values if len(v) >= 4), key=len, reverse=True):
        text = text.replace(value, "***")
    return text
