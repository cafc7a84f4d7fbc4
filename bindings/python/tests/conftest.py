# Shared set-up for the packetdtls tests.
#
# - The package is imported from this checkout (bindings/python), unless it is installed.
# - A test that reaches a C function the loaded library lacks is reported as skipped, naming the
#   function; test_library.py::test_every_header_function_is_exported fails until none is missing.
# - Keys and certificates are made at run time by the library itself, once per session.
# - Every loop is bounded by a deadline and a count; sockets use 127.0.0.1 and port 0.
from __future__ import annotations

import os
import sys
import time
from pathlib import Path
from typing import Callable, Iterable, NamedTuple

import pytest

HERE = Path(__file__).resolve().parent
PACKAGE_ROOT = HERE.parent
REPO_ROOT = PACKAGE_ROOT.parent.parent
if str(PACKAGE_ROOT) not in sys.path:
    sys.path.insert(0, str(PACKAGE_ROOT))

import packetdtls  # noqa: E402
from packetdtls import Crypto, CryptoKey, MissingFunctionError, X509Certificate  # noqa: E402

HEADER = REPO_ROOT / "include" / "packetdtls.h"


@pytest.hookimpl(wrapper=True)
def pytest_runtest_setup(item: pytest.Item):
    try:
        return (yield)
    except MissingFunctionError as error:
        pytest.skip(f"C side not in this build yet: {error}")


@pytest.hookimpl(wrapper=True)
def pytest_runtest_call(item: pytest.Item):
    try:
        return (yield)
    except MissingFunctionError as error:
        pytest.skip(f"C side not in this build yet: {error}")


# MARK: - Bounded waiting


class Timeout(AssertionError):
    pass


def pump(step: Callable[[], object], done: Callable[[], bool], timeout: float = 10.0, max_rounds: int = 200_000) -> int:
    """Calls step() until done() is true; bounded by `timeout` seconds and `max_rounds` calls.
    Between rounds it yields the CPU briefly (the machine is shared); returns the rounds used."""
    deadline = time.monotonic() + timeout
    for rounds in range(1, max_rounds + 1):
        step()
        if done():
            return rounds
        if time.monotonic() > deadline:
            break
        if rounds > 50:
            time.sleep(0.0005)
    raise Timeout(f"not done after {timeout} s / {max_rounds} rounds")


def poll_all(*pollables: object) -> Callable[[], None]:
    def step() -> None:
        for p in pollables:
            p.poll()  # type: ignore[attr-defined]

    return step


# MARK: - Identities made by the library


class Identity(NamedTuple):
    key: CryptoKey
    cert: X509Certificate
    key_path: Path
    cert_path: Path


@pytest.fixture(scope="session")
def identity(tmp_path_factory: pytest.TempPathFactory) -> Identity:
    """An EC P-256 key and a self-signed certificate for CN=localhost, also saved as files."""
    crypto = Crypto()
    key = crypto.generate_ec_p256()
    assert key is not None, packetdtls.last_error_message()
    cert = crypto.generate_self_signed_certificate(key, "CN=localhost,O=PacketDTLS tests,C=IT")
    assert cert is not None, packetdtls.last_error_message()
    folder = tmp_path_factory.mktemp("identity")
    key_path, cert_path = folder / "key.key", folder / "cert.crt"
    assert key.save(str(key_path)) == packetdtls.Error.OK
    assert cert.save(str(cert_path)) == packetdtls.Error.OK
    return Identity(key, cert, key_path, cert_path)


@pytest.fixture(scope="session")
def other_identity() -> Identity:
    """A second, unrelated identity (CN=elsewhere.example) for verification failures."""
    crypto = Crypto()
    key = crypto.generate_ec_p256()
    assert key is not None
    cert = crypto.generate_self_signed_certificate(key, "CN=elsewhere.example,O=PacketDTLS tests,C=IT")
    assert cert is not None
    return Identity(key, cert, Path(), Path())


@pytest.fixture(scope="session")
def rsa_key() -> CryptoKey:
    key = Crypto().generate_rsa(2048)
    assert key is not None, packetdtls.last_error_message()
    return key


def header_functions() -> Iterable[str]:
    """Every function the C header declares."""
    import re

    text = HEADER.read_text()
    return re.findall(r"^DTLS_API[^(;]*?\b(dtls_\w+)\s*\(", text, flags=re.M)


def openssl_path() -> str | None:
    import shutil

    return shutil.which("openssl")


os.environ.setdefault("PYTHONDONTWRITEBYTECODE", "1")
