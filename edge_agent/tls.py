"""The MQTT client's TLS context: broker verification, the client certificate, an encrypted key.

``client_context(mqtt)`` builds what paho's ``tls_set_context`` takes from an ``MqttConfig``:
the broker is verified (``ca_cert``, else the system CAs; host name checked), and a client key
encrypted with a passphrase is decrypted with ``tls_key_password`` or the first line of
``tls_key_password_file``. OpenSSL gets a password *callback*, never ``None``: with ``None`` it
asks the controlling terminal ("Enter PEM pass phrase:") and the calling thread hangs. An
encrypted key without a configured password, a wrong password or an unreadable file raises
``TlsSetupError`` (a ``BackendError`` and ``ValueError``): one line naming the key and what to
set, which the backend reports with its reconnect backoff.
"""

from __future__ import annotations

import logging
import ssl
from pathlib import Path
from typing import Any

from edge_agent import logs
from edge_agent.errors import BackendError

LOGGER = logging.getLogger(__name__)

MAX_PASSWORD_FILE_BYTES = 4096


class TlsSetupError(BackendError, ValueError):
    """The TLS context cannot be built: unreadable CA, certificate or key, or the key's password."""


class _NoPassword(Exception):
    """Raised from the password callback: the key is encrypted and no password is configured."""


def read_password_file(path: str) -> str:
    """The first line of ``path`` (without its line ending): a key's password."""
    try:
        with open(path, "rb") as file:
            data = file.read(MAX_PASSWORD_FILE_BYTES + 1)
    except OSError as exc:
        raise TlsSetupError(f"tls_key_password_file {path}: {exc.strerror or exc}") from exc
    if len(data) > MAX_PASSWORD_FILE_BYTES:
        raise TlsSetupError(
            f"tls_key_password_file {path}: larger than {MAX_PASSWORD_FILE_BYTES} bytes"
        )
    lines = data.decode("utf-8", "replace").splitlines()
    return lines[0] if lines else ""


def key_password(mqtt: Any) -> str | None:
    """The configured password of ``mqtt.tls_key``: the key itself, or its file's first line."""
    password: str | None = getattr(mqtt, "tls_key_password", None)
    password_file = getattr(mqtt, "tls_key_password_file", None)
    if password is None and password_file:
        password = read_password_file(password_file)
    logs.add_secret(password)  # whatever goes wrong later, the passphrase is never printed
    return password


def load_client_cert(
    context: ssl.SSLContext, cert: str, key: str | None, password: str | None
) -> None:
    """``context.load_cert_chain`` that never prompts; one-line ``TlsSetupError`` on failure."""
    asked: list[bool] = []

    def callback() -> bytes:
        asked.append(True)
        if password is None:
            raise _NoPassword
        return password.encode()

    key_path = key or cert
    try:
        context.load_cert_chain(cert, key, password=callback)
    except _NoPassword:
        raise TlsSetupError(
            f"tls_key {key_path} is encrypted: set tls_key_password or tls_key_password_file "
            "(or decrypt it: openssl pkey -in KEY -out KEY.plain)"
        ) from None
    except ssl.SSLError as exc:
        if asked:
            raise TlsSetupError(
                f"tls_key {key_path}: cannot decrypt it with the configured password "
                f"({exc.reason or exc})"
            ) from None
        raise TlsSetupError(
            f"tls_cert {cert} / tls_key {key_path}: not a certificate and its key "
            f"({exc.reason or exc})"
        ) from None
    except OSError as exc:
        raise TlsSetupError(
            f"tls_cert {cert} / tls_key {key_path}: {exc.strerror or exc}"
        ) from None


def client_context(mqtt: Any) -> ssl.SSLContext:
    """The SSLContext of an ``mqtts://`` backend (``MqttConfig``): verified, never prompting."""
    try:
        context = ssl.create_default_context(cafile=mqtt.ca_cert or None)
    except (ssl.SSLError, OSError) as exc:
        raise TlsSetupError(
            f"ca_cert {mqtt.ca_cert}: {getattr(exc, 'reason', None) or exc}"
        ) from None
    if mqtt.tls_cert:
        load_client_cert(context, mqtt.tls_cert, mqtt.tls_key or None, key_password(mqtt))
    return context


def key_is_encrypted(path: str | Path) -> bool:
    """True when the PEM key at ``path`` needs a password (legacy or PKCS#8 encryption)."""
    try:
        head = Path(path).read_bytes()[:4096]
    except OSError:
        return False
    return b"ENCRYPTED" in head
