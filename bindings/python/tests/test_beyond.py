"""Beyond Godot over loopback UDP: pre-shared keys, ALPN, pinning, client certificates, CRLs,
session resumption, the key log, verification details, alerts and per-peer figures -- and the
binding's rules for them (wrong types TypeError, closed objects ValueError, Error codes returned)."""

from __future__ import annotations

import ctypes
import hashlib
import os
import stat
import subprocess
from pathlib import Path
from typing import Dict, Optional, Tuple

import pytest

import packetdtls
from packetdtls import (
    ClientCertificateMode,
    Crypto,
    CryptoKey,
    DTLSServer,
    DTLSSession,
    Error,
    PacketPeerDTLS,
    PeerStats,
    TLSOptions,
    X509Certificate,
)
from packetdtls._library import dtls_peer_stats

from .conftest import Identity, openssl_path
from .test_dtls import Harness, client_for, run_until, settled

CONNECTED = PacketPeerDTLS.STATUS_CONNECTED
ERROR = PacketPeerDTLS.STATUS_ERROR
PSK = bytes(range(32))

#: MBEDTLS_X509_BADCERT_REVOKED and MBEDTLS_X509_BADCERT_SKIP_VERIFY (mbedtls/x509.h).
BADCERT_REVOKED = 0x02
BADCERT_SKIP_VERIFY = 0x4000


# MARK: - Helpers


def serve(options: TLSOptions) -> Harness:
    return Harness(lambda dtls: dtls.setup(options))


def dial(
    harness: Harness,
    options: TLSOptions,
    hostname: str = "localhost",
    session: Optional[DTLSSession] = None,
) -> PacketPeerDTLS:
    """A client connected (or failed) to `harness`; the harness keeps pumping until it settles."""
    client = PacketPeerDTLS()
    if session is not None:
        assert client.set_session(session) == Error.OK
    assert client.connect_to_peer(client_for(harness.port), hostname, options) == Error.OK, (
        packetdtls.last_error_message()
    )
    run_until(harness, [client], settled(client))
    if client.get_status() != CONNECTED:
        # Give the server's side a moment to see the alert, or to fail on its own.
        try:
            run_until(harness, [client], lambda: all(p.get_status() != 1 for p in harness.peers), timeout=3)
        except AssertionError:
            pass
    return client


def server_side(harness: Harness) -> PacketPeerDTLS:
    """The server's peer of the last client (the newest one)."""
    assert harness.peers, "the server took no connection"
    return harness.peers[-1]


def echo(harness: Harness, client: PacketPeerDTLS, payload: bytes) -> bytes:
    assert client.put_packet(payload) == Error.OK
    peer = server_side(harness)
    run_until(harness, [client], lambda: peer.get_available_packet_count() > 0)
    assert peer.put_packet(peer.get_packet()[::-1]) == Error.OK
    run_until(harness, [client], lambda: client.get_available_packet_count() > 0)
    return client.get_packet()


def make_identity(common_name: str) -> Tuple[CryptoKey, X509Certificate]:
    crypto = Crypto()
    key = crypto.generate_ec_p256()
    assert key is not None
    cert = crypto.generate_self_signed_certificate(key, f"CN={common_name},O=PacketDTLS tests,C=IT")
    assert cert is not None
    return key, cert


@pytest.fixture(scope="module")
def player() -> Tuple[CryptoKey, X509Certificate]:
    """A client identity (CN=player-7)."""
    return make_identity("player-7")


def run_openssl(*arguments: str, cwd: Path) -> None:
    done = subprocess.run(["openssl", *arguments], cwd=cwd, capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, f"openssl {' '.join(arguments)}:\n{done.stdout}{done.stderr}"


@pytest.fixture(scope="module")
def pki(tmp_path_factory: pytest.TempPathFactory) -> Dict[str, Path]:
    """With the openssl command line: a CA, two server certificates it signs (CN=localhost), and a
    CRL that revokes one of them. Paths by name: ca.crt, good.key/.crt, revoked.key/.crt, crl.pem."""
    if openssl_path() is None:
        pytest.skip("openssl is not installed (needed to make a CA and a CRL)")
    folder = tmp_path_factory.mktemp("pki")
    (folder / "ca.cnf").write_text(
        "[ca]\ndefault_ca = test_ca\n[test_ca]\ndatabase = index.txt\ncrlnumber = crlnumber\n"
        "default_md = sha256\ndefault_crl_days = 2\n"
    )
    (folder / "index.txt").write_text("")
    (folder / "crlnumber").write_text("01\n")
    (folder / "leaf.ext").write_text("subjectAltName=DNS:localhost,IP:127.0.0.1\nbasicConstraints=CA:FALSE\n")
    ec = ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes"]
    run_openssl("req", "-x509", *ec, "-keyout", "ca.key", "-out", "ca.crt", "-subj", "/CN=PacketDTLS Test CA",
                "-days", "2", "-addext", "basicConstraints=critical,CA:TRUE",
                "-addext", "keyUsage=critical,keyCertSign,cRLSign", cwd=folder)
    for name in ("good", "revoked"):
        run_openssl("req", *ec, "-keyout", f"{name}.key", "-out", f"{name}.csr", "-subj", "/CN=localhost", cwd=folder)
        run_openssl("x509", "-req", "-in", f"{name}.csr", "-CA", "ca.crt", "-CAkey", "ca.key", "-CAcreateserial",
                    "-days", "2", "-out", f"{name}.crt", "-extfile", "leaf.ext", cwd=folder)
    run_openssl("ca", "-config", "ca.cnf", "-revoke", "revoked.crt", "-keyfile", "ca.key", "-cert", "ca.crt",
                cwd=folder)
    run_openssl("ca", "-config", "ca.cnf", "-gencrl", "-keyfile", "ca.key", "-cert", "ca.crt", "-out", "crl.pem",
                cwd=folder)
    return {name: folder / name for name in ("ca.crt", "good.key", "good.crt", "revoked.key", "revoked.crt",
                                              "crl.pem")}


def load_pair(pki: Dict[str, Path], name: str) -> Tuple[CryptoKey, X509Certificate]:
    key, cert = CryptoKey(), X509Certificate()
    assert key.load(pki[f"{name}.key"]) == Error.OK
    assert cert.load(pki[f"{name}.crt"]) == Error.OK
    return key, cert


# MARK: - Pre-shared keys


def test_psk_handshake_and_echo():
    server_options = TLSOptions.server_psk()
    assert server_options.is_server()
    assert server_options.add_psk("player-1", PSK) == Error.OK
    assert server_options.add_psk("player-2", bytearray(b"\x01" * 16)) == Error.OK  # any bytes-like key
    harness = serve(server_options)

    client_options = TLSOptions.client_psk("player-1", PSK)
    assert client_options is not None and not client_options.is_server()
    client = dial(harness, client_options, hostname="")
    assert client.get_status() == CONNECTED, client.get_error_message()
    assert "PSK" in client.get_cipher_suite()
    assert client.get_peer_certificate() is None  # no certificates with PSK
    assert echo(harness, client, b"over a pre-shared key") == b"yek derahs-erp a revo"

    second = dial(harness, TLSOptions.client_psk("player-2", memoryview(b"\x01" * 16)))
    assert second.get_status() == CONNECTED, second.get_error_message()


def test_psk_refuses_a_wrong_key_or_an_unknown_identity():
    server_options = TLSOptions.server_psk()
    assert server_options.add_psk("player-1", PSK) == Error.OK
    harness = serve(server_options)
    wrong_key = dial(harness, TLSOptions.client_psk("player-1", b"\x00" * 32))
    assert wrong_key.get_status() == ERROR
    assert wrong_key.get_error_message()
    stranger = dial(harness, TLSOptions.client_psk("nobody", PSK))
    assert stranger.get_status() == ERROR
    assert stranger.get_last_alert() != -1, "the server says why with an alert"
    assert all(peer.get_status() != CONNECTED for peer in harness.peers)


def test_psk_certificate_server_takes_psk_clients_too(identity: Identity):
    server_options = TLSOptions.server(identity.key, identity.cert)
    assert server_options.add_psk("player-1", PSK) == Error.OK
    harness = serve(server_options)
    psk_client = dial(harness, TLSOptions.client_psk("player-1", PSK))
    assert psk_client.get_status() == CONNECTED, psk_client.get_error_message()
    assert "PSK" in psk_client.get_cipher_suite()
    certificate_client = dial(harness, TLSOptions.client(identity.cert))
    assert certificate_client.get_status() == CONNECTED, certificate_client.get_error_message()
    assert "PSK" not in certificate_client.get_cipher_suite()


def test_psk_bad_input():
    # Refused arguments raise ValueError with the library's reason (the factory never returns None).
    with pytest.raises(ValueError, match="32"):
        TLSOptions.client_psk("id", b"\x00" * 33)
    assert "32" in packetdtls.last_error_message()
    for identity_text, key in (("id", b""), ("", PSK), ("x" * 129, PSK)):
        with pytest.raises(ValueError, match="client_psk") as refused:
            TLSOptions.client_psk(identity_text, key)
        assert packetdtls.last_error_message() in str(refused.value)
    assert TLSOptions.client_psk("x" * 128, PSK) is not None
    assert TLSOptions.client_unsafe().add_psk("id", PSK) == Error.ERR_INVALID_PARAMETER  # client options
    assert TLSOptions.server_psk().add_psk("id", b"\x00" * 33) == Error.ERR_INVALID_PARAMETER
    with pytest.raises(TypeError):
        TLSOptions.client_psk("id", "a str is not a key")
    with pytest.raises(TypeError):
        TLSOptions.client_psk(b"id", PSK)
    with pytest.raises(TypeError):
        TLSOptions.server_psk().add_psk("id", 42)


# MARK: - ALPN


def test_alpn_agrees_on_a_common_protocol(identity: Identity):
    server_options = TLSOptions.server(identity.key, identity.cert)
    assert server_options.set_alpn_protocols(["game/2", "game/1"]) == Error.OK
    harness = serve(server_options)
    client_options = TLSOptions.client(identity.cert)
    assert client_options.set_alpn_protocols(("game/1", "other")) == Error.OK
    client = dial(harness, client_options)
    assert client.get_status() == CONNECTED, client.get_error_message()
    assert client.get_alpn_protocol() == "game/1"
    assert server_side(harness).get_alpn_protocol() == "game/1"

    plain = dial(harness, TLSOptions.client(identity.cert))  # offers none: no protocol, still connected
    assert plain.get_status() == CONNECTED
    assert plain.get_alpn_protocol() == ""


def test_alpn_without_a_common_protocol_fails(identity: Identity):
    server_options = TLSOptions.server(identity.key, identity.cert)
    assert server_options.set_alpn_protocols(["game/2"]) == Error.OK
    harness = serve(server_options)
    client_options = TLSOptions.client(identity.cert)
    assert client_options.set_alpn_protocols(["chat/1"]) == Error.OK
    client = dial(harness, client_options)
    assert client.get_status() == ERROR
    assert client.get_last_alert() == 120  # no_application_protocol (RFC 7301)


def test_alpn_bad_input():
    options = TLSOptions.client_unsafe()
    assert options.set_alpn_protocols([]) == Error.OK  # off
    assert options.set_alpn_protocols([""]) == Error.ERR_INVALID_PARAMETER
    assert options.set_alpn_protocols(["x" * 256]) == Error.ERR_INVALID_PARAMETER
    assert options.set_alpn_protocols([f"p{i}" for i in range(17)]) == Error.ERR_INVALID_PARAMETER
    with pytest.raises(TypeError):
        options.set_alpn_protocols("game/1")  # a str is not a list of them
    with pytest.raises(TypeError):
        options.set_alpn_protocols([b"game/1"])
    with pytest.raises(TypeError):
        options.set_alpn_protocols(None)


# MARK: - Pinning


def test_public_key_sha256_matches_openssl(identity: Identity):
    digest = identity.cert.get_public_key_sha256()
    assert isinstance(digest, bytes) and len(digest) == 32
    assert X509Certificate().get_public_key_sha256() == b""  # empty certificate
    if openssl_path() is None:
        pytest.skip("openssl is not installed")
    public_key = subprocess.run(["openssl", "x509", "-in", str(identity.cert_path), "-noout", "-pubkey"],
                                capture_output=True, check=True).stdout
    der = subprocess.run(["openssl", "pkey", "-pubin", "-outform", "DER"], input=public_key,
                         capture_output=True, check=True).stdout
    assert digest == hashlib.sha256(der).digest()


def test_pin_alone_admits_the_server_and_refuses_a_stranger(identity: Identity, other_identity: Identity):
    harness = serve(TLSOptions.server(identity.key, identity.cert))
    by_certificate = TLSOptions.client_unsafe()
    assert by_certificate.pin_certificate(identity.cert) == Error.OK
    good = dial(harness, by_certificate, hostname="any.name")
    assert good.get_status() == CONNECTED, good.get_error_message()

    by_digest = TLSOptions.client_unsafe()
    assert by_digest.pin_public_key(identity.cert.get_public_key_sha256()) == Error.OK
    assert dial(harness, by_digest).get_status() == CONNECTED

    wrong = TLSOptions.client_unsafe()
    assert wrong.pin_certificate(other_identity.cert) == Error.OK
    refused = dial(harness, wrong)
    assert refused.get_status() == ERROR
    assert "pinned" in refused.get_error_message()

    chain_and_wrong_pin = TLSOptions.client(identity.cert)
    assert chain_and_wrong_pin.pin_public_key(other_identity.cert.get_public_key_sha256()) == Error.OK
    assert dial(harness, chain_and_wrong_pin).get_status() == ERROR, "a valid chain does not excuse a wrong pin"


def test_pin_bad_input(identity: Identity):
    options = TLSOptions.client_unsafe()
    assert options.pin_public_key(b"\x00" * 31) == Error.ERR_INVALID_PARAMETER
    assert options.pin_certificate(X509Certificate()) == Error.ERR_INVALID_PARAMETER
    with pytest.raises(TypeError):
        options.pin_public_key("00" * 32)
    with pytest.raises(TypeError):
        options.pin_certificate(identity.key)
    with pytest.raises(TypeError):
        options.pin_certificate(None)


# MARK: - Client certificates


def test_required_client_certificate(identity: Identity, player):
    player_key, player_cert = player
    server_options = TLSOptions.server(identity.key, identity.cert)
    assert server_options.set_client_certificate_mode(ClientCertificateMode.REQUIRE, player_cert) == Error.OK
    harness = serve(server_options)

    client_options = TLSOptions.client(identity.cert)
    assert client_options.set_client_certificate(player_key, player_cert) == Error.OK
    client = dial(harness, client_options)
    assert client.get_status() == CONNECTED, client.get_error_message()
    accepted = server_side(harness)
    assert accepted.get_status() == CONNECTED
    seen = accepted.get_peer_certificate()
    assert seen is not None and seen.save_to_string() == player_cert.save_to_string()
    assert accepted.get_verify_flags() == 0 and accepted.get_verify_text() == ""
    server_cert = client.get_peer_certificate()
    assert server_cert is not None and server_cert.save_to_string() == identity.cert.save_to_string()

    anonymous = dial(harness, TLSOptions.client(identity.cert))
    assert anonymous.get_status() != CONNECTED
    refusing = server_side(harness)
    assert refusing.get_status() == ERROR
    assert refusing.get_error_message()


def test_requested_client_certificate_is_optional(identity: Identity, player):
    _, player_cert = player
    server_options = TLSOptions.server(identity.key, identity.cert)
    assert server_options.set_client_certificate_mode(TLSOptions.ClientCertificateMode.REQUEST, player_cert) == 0
    harness = serve(server_options)
    client = dial(harness, TLSOptions.client(identity.cert))
    assert client.get_status() == CONNECTED, client.get_error_message()
    accepted = server_side(harness)
    assert accepted.get_status() == CONNECTED
    assert accepted.get_peer_certificate() is None
    assert accepted.get_verify_flags() != 0, "no certificate: the flags say so"
    assert accepted.get_verify_text() != ""


def test_client_certificate_bad_input(identity: Identity, player):
    player_key, player_cert = player
    server_options = TLSOptions.server(identity.key, identity.cert)
    client_options = TLSOptions.client_unsafe()
    assert server_options.set_client_certificate(player_key, player_cert) == Error.ERR_INVALID_PARAMETER
    assert client_options.set_client_certificate_mode(ClientCertificateMode.REQUIRE, player_cert) != Error.OK
    assert server_options.set_client_certificate_mode(ClientCertificateMode.REQUIRE) == Error.ERR_INVALID_PARAMETER
    assert server_options.set_client_certificate_mode(ClientCertificateMode.NONE) == Error.OK
    assert server_options.set_client_certificate_mode(7, player_cert) == Error.ERR_INVALID_PARAMETER
    assert client_options.set_client_certificate(identity.key, player_cert) != Error.OK  # key does not match
    with pytest.raises(TypeError):
        server_options.set_client_certificate_mode("require", player_cert)
    with pytest.raises(TypeError):
        server_options.set_client_certificate_mode(True, player_cert)
    with pytest.raises(TypeError):
        client_options.set_client_certificate(player_cert, player_key)
    assert int(ClientCertificateMode.REQUIRE) == 2 and str(ClientCertificateMode.REQUEST) == "REQUEST"


# MARK: - Revocation


def test_crl_refuses_a_revoked_server(pki):
    ca = X509Certificate()
    assert ca.load(pki["ca.crt"]) == Error.OK
    revoked = serve(TLSOptions.server(*load_pair(pki, "revoked")))
    good = serve(TLSOptions.server(*load_pair(pki, "good")))

    without_crl = dial(revoked, TLSOptions.client(ca))
    assert without_crl.get_status() == CONNECTED, without_crl.get_error_message()

    options = TLSOptions.client(ca)
    assert options.load_crl(pki["crl.pem"]) == Error.OK
    refused = dial(revoked, options)
    assert refused.get_status() == ERROR
    assert "revoked" in refused.get_error_message().lower(), refused.get_error_message()
    assert refused.get_verify_flags() & BADCERT_REVOKED
    assert "revoked" in refused.get_verify_text().lower()

    accepted = dial(good, options)
    assert accepted.get_status() == CONNECTED, accepted.get_error_message()

    from_string = TLSOptions.client(ca)
    assert from_string.load_crl_from_string(pki["crl.pem"].read_text()) == Error.OK
    assert dial(revoked, from_string).get_status() == ERROR


def test_crl_bad_input(tmp_path: Path):
    options = TLSOptions.client_unsafe()
    assert options.load_crl_from_string("not a CRL") == Error.ERR_PARSE_ERROR
    assert options.load_crl(tmp_path / "missing.pem") not in (Error.OK, Error.ERR_PARSE_ERROR)
    garbage = tmp_path / "garbage.pem"
    garbage.write_text("-----BEGIN X509 CRL-----\nAAAA\n-----END X509 CRL-----\n")
    assert options.load_crl(garbage) == Error.ERR_PARSE_ERROR
    with pytest.raises(TypeError):
        options.load_crl(42)
    with pytest.raises(TypeError):
        options.load_crl_from_string(b"pem")


# MARK: - Session resumption


def test_session_ticket_resumes(identity: Identity):
    harness = serve(TLSOptions.server(identity.key, identity.cert))
    options = TLSOptions.client(identity.cert)
    first = dial(harness, options)
    assert first.get_status() == CONNECTED, first.get_error_message()
    assert not first.is_session_resumed()
    with first.get_session() as saved:
        assert isinstance(saved, DTLSSession)
        first.disconnect_from_peer()
        second = dial(harness, options, session=saved)
    assert second.get_status() == CONNECTED, second.get_error_message()
    assert second.is_session_resumed()
    # In an abbreviated handshake the client finishes first; the server needs its last flight.
    run_until(harness, [second], lambda: server_side(harness).get_status() == CONNECTED)
    assert server_side(harness).is_session_resumed()
    assert echo(harness, second, b"resumed") == b"demuser"

    # The session outlives the peer it came from and can be offered again.
    third_session = second.get_session()
    second.close()
    third = dial(harness, options, session=third_session)
    assert third.is_session_resumed()


def test_no_tickets_means_a_full_handshake(identity: Identity):
    server_options = TLSOptions.server(identity.key, identity.cert)
    assert server_options.set_session_tickets(False) == Error.OK
    harness = serve(server_options)
    first = dial(harness, TLSOptions.client(identity.cert))
    saved = first.get_session()
    assert saved is not None
    second = dial(harness, TLSOptions.client(identity.cert), session=saved)
    assert second.get_status() == CONNECTED, second.get_error_message()
    assert not second.is_session_resumed()


def test_session_rules():
    peer = PacketPeerDTLS()
    assert peer.get_session() is None  # not connected
    assert peer.set_session(None) == Error.OK
    empty = DTLSSession()
    assert peer.set_session(empty) == Error.OK
    assert not peer.is_session_resumed()
    empty.close()
    assert empty.closed
    with pytest.raises(ValueError):
        peer.set_session(empty)
    with pytest.raises(TypeError):
        peer.set_session("session")
    with DTLSSession() as session:
        assert not session.closed
    assert session.closed
    with pytest.raises(ValueError):
        with session:
            pass
    with pytest.raises(TypeError):
        TLSOptions.server_psk().set_session_tickets(1)


# MARK: - Key log, figures, alerts


def test_key_log_file(identity: Identity, tmp_path: Path):
    path = tmp_path / "keys.log"
    harness = serve(TLSOptions.server(identity.key, identity.cert))
    options = TLSOptions.client(identity.cert)
    assert options.set_key_log_file(path) == Error.OK
    client = dial(harness, options)
    assert client.get_status() == CONNECTED
    lines = path.read_text().splitlines()
    assert lines, "nothing logged"
    label, client_random, master = lines[-1].split(" ")
    assert label == "CLIENT_RANDOM" and len(client_random) == 64 and len(master) == 96
    int(client_random + master, 16)  # hex
    assert stat.S_IMODE(os.stat(path).st_mode) == 0o600

    assert options.set_key_log_file(None) == Error.OK  # off again
    before = path.read_text()
    dial(harness, options)
    assert path.read_text() == before
    assert options.set_key_log_file("") == Error.OK
    with pytest.raises(TypeError):
        options.set_key_log_file(3.5)


def test_stats_count_traffic(identity: Identity):
    harness = serve(TLSOptions.server(identity.key, identity.cert))
    client = dial(harness, TLSOptions.client(identity.cert))
    assert client.get_status() == CONNECTED
    for payload in (b"one", b"three"):
        echo(harness, client, payload)
    stats = client.get_stats()
    assert isinstance(stats, PeerStats) and isinstance(stats, tuple)
    assert stats.packets_sent == 2 and stats.bytes_sent == 8
    assert stats.packets_received == 2 and stats.bytes_received == 8
    assert stats.datagrams_sent >= 5 and stats.datagrams_received >= 4  # handshake flights included
    assert stats.records_dropped_bad_mac == 0 and stats.datagrams_oversized == 0
    assert stats.handshake_duration_ms < 20_000
    server_stats = server_side(harness).get_stats()
    assert server_stats.packets_received == 2 and server_stats.bytes_sent == 8
    # The fields are exactly the C struct's, in order.
    assert PeerStats._fields == tuple(name for name, _ in dtls_peer_stats._fields_)
    assert ctypes.sizeof(dtls_peer_stats) == 8 * len(PeerStats._fields)
    assert PacketPeerDTLS().get_stats() == PeerStats(*([0] * len(PeerStats._fields)))


def test_last_alert_and_verify_details(identity: Identity, other_identity: Identity):
    harness = serve(TLSOptions.server(identity.key, identity.cert))
    good = dial(harness, TLSOptions.client(identity.cert))
    assert good.get_last_alert() == -1
    assert good.get_verify_flags() == 0

    unsafe = dial(harness, TLSOptions.client_unsafe())
    assert unsafe.get_status() == CONNECTED
    assert unsafe.get_verify_flags() in (0, BADCERT_SKIP_VERIFY)  # not checked

    untrusted = dial(harness, TLSOptions.client(other_identity.cert))
    assert untrusted.get_status() == ERROR
    assert untrusted.get_verify_flags() != 0
    assert untrusted.get_verify_text() != ""
    # Our client told the server why: the server's side saw a fatal alert.
    refused = server_side(harness)
    assert refused.get_last_alert() >= 0


# MARK: - Closed objects and wrong handles


def test_closed_objects_raise_value_error(identity: Identity):
    options = TLSOptions.client_unsafe()
    options.close()
    for call in (
        lambda: options.add_psk("id", PSK),
        lambda: options.set_alpn_protocols(["a"]),
        lambda: options.pin_public_key(b"\x00" * 32),
        lambda: options.pin_certificate(identity.cert),
        lambda: options.set_client_certificate(identity.key, identity.cert),
        lambda: options.set_client_certificate_mode(ClientCertificateMode.NONE),
        lambda: options.load_crl("crl.pem"),
        lambda: options.load_crl_from_string("pem"),
        lambda: options.set_session_tickets(True),
        lambda: options.set_key_log_file(None),
    ):
        with pytest.raises(ValueError):
            call()
    cert = X509Certificate()
    cert.close()
    with pytest.raises(ValueError):
        cert.get_public_key_sha256()
    with pytest.raises(ValueError):
        TLSOptions.client_unsafe().pin_certificate(cert)
    peer = PacketPeerDTLS()
    peer.close()
    for call in (
        peer.get_session,
        lambda: peer.set_session(None),
        peer.is_session_resumed,
        peer.get_alpn_protocol,
        peer.get_peer_certificate,
        peer.get_verify_flags,
        peer.get_verify_text,
        peer.get_last_alert,
        peer.get_stats,
    ):
        with pytest.raises(ValueError):
            call()


def test_every_new_function_is_declared():
    from packetdtls._library import FUNCTIONS

    for name in (
        "dtls_options_client_psk", "dtls_options_server_psk", "dtls_options_add_psk",
        "dtls_options_set_alpn_protocols", "dtls_options_pin_public_key", "dtls_options_pin_certificate",
        "dtls_options_set_client_certificate", "dtls_options_set_client_certificate_mode",
        "dtls_options_load_crl", "dtls_options_load_crl_from_string", "dtls_options_set_session_tickets",
        "dtls_options_set_key_log_file", "dtls_cert_get_public_key_sha256", "dtls_session_new",
        "dtls_session_free", "dtls_peer_get_session", "dtls_peer_set_session", "dtls_peer_is_session_resumed",
        "dtls_peer_get_alpn_protocol", "dtls_peer_get_peer_certificate", "dtls_peer_get_verify_flags",
        "dtls_peer_get_verify_text", "dtls_peer_get_last_alert", "dtls_peer_get_stats",
    ):
        assert name in FUNCTIONS
        assert packetdtls._library.lib.has(name), name


def test_cipher_suites_can_be_narrowed_to_allowed_aead_suites():
    options = TLSOptions.client_unsafe()
    assert options.set_cipher_suites(["TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256"]) == Error.OK
    assert options.set_cipher_suites(["TLS-ECDHE-RSA-WITH-CHACHA20-POLY1305-SHA256"]) == Error.OK
    assert options.set_cipher_suites(["TLS_RSA_WITH_AES_128_CBC_SHA"]) == Error.ERR_INVALID_PARAMETER
    assert "AEAD" in packetdtls.last_error_message()
    assert options.set_cipher_suites([]) == Error.OK
    with pytest.raises(TypeError):
        options.set_cipher_suites("TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256")


def test_idle_sessions_hibernate_and_wake(identity: Identity):
    def setup(dtls: DTLSServer) -> Error:
        assert dtls.set_hibernate_after_ms(1) == Error.OK
        return dtls.setup(TLSOptions.server(identity.key, identity.cert))

    harness = Harness(setup)
    client = PacketPeerDTLS()
    assert client.set_hibernate_after_ms(1) == Error.OK
    assert client.connect_to_peer(client_for(harness.port), "localhost", TLSOptions.client(identity.cert)) == Error.OK
    run_until(harness, [client], settled(client))
    assert client.get_status() == CONNECTED
    # A packet each way, so that neither end still keeps the handshake's last flight.
    assert echo(harness, client, b"abc") == b"cba"
    peer = server_side(harness)
    run_until(harness, [client], lambda: client.is_hibernated() and peer.is_hibernated(), timeout=10)
    suite = client.get_cipher_suite()
    assert client.get_status() == CONNECTED and peer.get_status() == CONNECTED
    assert client.get_stats().hibernations >= 1 and peer.get_stats().hibernations >= 1
    # A put wakes the client; the datagram wakes the server's peer; nothing is lost.
    assert echo(harness, client, b"wake") == b"ekaw"
    assert client.get_stats().wakes >= 1 and peer.get_stats().wakes >= 1
    assert client.get_stats().packets_received == 2 and peer.get_stats().packets_received == 2
    assert client.get_cipher_suite() == suite
    # 0 turns hibernation off and wakes a sleeping session.
    run_until(harness, [client], lambda: peer.is_hibernated(), timeout=10)
    assert peer.set_hibernate_after_ms(0) == Error.OK
    assert not peer.is_hibernated()


def test_hibernation_bad_input():
    peer = PacketPeerDTLS()
    assert peer.set_hibernate_after_ms(-1) == Error.ERR_INVALID_PARAMETER
    assert peer.set_hibernate_after_ms(2**32) == Error.ERR_INVALID_PARAMETER
    assert not peer.is_hibernated()
    with pytest.raises(TypeError):
        peer.set_hibernate_after_ms("10")
    server = DTLSServer()
    assert server.set_hibernate_after_ms(0) == Error.OK
    with pytest.raises(TypeError):
        server.set_hibernate_after_ms(1.5)
    peer.close()
    with pytest.raises(ValueError):
        peer.is_hibernated()
