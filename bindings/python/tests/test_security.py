"""Side doors of issue 20 seen from Python: fork safety of the random generator, the extended
master secret required by default."""

from __future__ import annotations

import os
import shutil
import stat
import socket
import subprocess

import pytest

import packetdtls
from packetdtls import Crypto, Error, PacketPeerDTLS, PacketPeerUDP, TLSOptions

from .conftest import pump


def _draw() -> bytes:
    crypto = Crypto()
    key = crypto.generate_ec_p256()
    assert key is not None
    return crypto.generate_random_bytes(32) + key.save_to_string(True).encode()


@pytest.mark.skipif(not hasattr(os, "fork"), reason="needs os.fork")
def test_forked_child_draws_other_random_bytes_and_keys():
    parent_before = _draw()  # the generator is in use before the fork, as in a forking server
    for _ in range(2):
        reader, writer = os.pipe()
        child = os.fork()
        if child == 0:  # pragma: no cover - runs in the child
            try:
                os.write(writer, _draw())
            finally:
                os._exit(0)
        os.close(writer)
        mine = _draw()
        chunks = []
        while chunk := os.read(reader, 4096):
            chunks.append(chunk)
        os.close(reader)
        _, status = os.waitpid(child, 0)
        assert os.waitstatus_to_exitcode(status) == 0
        theirs = b"".join(chunks)
        assert len(theirs) == len(mine)
        assert theirs[:32] != mine[:32], "parent and child drew the same random bytes"
        assert theirs[32:] != mine[32:], "parent and child generated the same key"
        assert parent_before != mine


# MARK: - Extended master secret (RFC 7627), required by default

GNUTLS_SERV = shutil.which("gnutls-serv")


def test_extended_master_secret_is_required_by_default_and_the_opt_out_is_there():
    options = TLSOptions.client_unsafe()
    assert options.set_extended_master_secret_required(False) == Error.OK
    assert options.set_extended_master_secret_required(True) == Error.OK
    with pytest.raises(TypeError):
        options.set_extended_master_secret_required("no")


@pytest.mark.interop
@pytest.mark.skipif(GNUTLS_SERV is None, reason="gnutls-serv is not installed")
def test_our_client_refuses_a_gnutls_server_without_extended_master_secret(identity):
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as probe:
        probe.bind(("0.0.0.0", 0))  # free on every IPv4 address: tools bind the wildcard
        port = probe.getsockname()[1]
    server = subprocess.Popen(
        [GNUTLS_SERV, "--udp", "--echo", "-p", str(port), "--x509certfile", str(identity.cert_path),
         "--x509keyfile", str(identity.key_path), "--priority", "NORMAL:%NO_SESSION_HASH"],
        stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
    )
    try:
        assert server.stdout is not None
        for line in server.stdout:  # gnutls-serv says when it listens; bounded by its own start-up
            if "listening" in line:
                break

        def connect(options: TLSOptions) -> PacketPeerDTLS:
            udp = PacketPeerUDP()
            assert udp.connect_to_host("127.0.0.1", port) == Error.OK
            client = PacketPeerDTLS()
            assert client.connect_to_peer(udp, "localhost", options) == Error.OK
            pump(client.poll, lambda: client.get_status() != PacketPeerDTLS.STATUS_HANDSHAKING, timeout=20)
            return client

        refused = connect(TLSOptions.client(identity.cert))
        assert refused.get_status() == PacketPeerDTLS.STATUS_ERROR
        assert "extended master secret" in refused.get_error_message()

        lenient = TLSOptions.client(identity.cert)
        assert lenient.set_extended_master_secret_required(False) == Error.OK
        admitted = connect(lenient)
        assert admitted.get_status() == PacketPeerDTLS.STATUS_CONNECTED, admitted.get_error_message()
        admitted.disconnect_from_peer()
    finally:
        server.terminate()
        server.wait(5)


# MARK: - Secret files and contradictory settings


def test_key_log_is_refused_unless_it_is_ours_alone(tmp_path):
    options = TLSOptions.client_unsafe()
    wide = tmp_path / "wide.log"
    wide.write_text("")
    wide.chmod(0o644)
    assert options.set_key_log_file(wide) == Error.ERR_FILE_NO_PERMISSION
    assert "0600" in packetdtls.last_error_message()
    target = tmp_path / "target.log"
    target.write_text("")
    target.chmod(0o600)
    link = tmp_path / "link.log"
    link.symlink_to(target)
    assert options.set_key_log_file(link) == Error.ERR_FILE_CANT_OPEN
    assert options.set_key_log_file(tmp_path / "missing" / "x.log") == Error.ERR_FILE_CANT_OPEN
    assert options.set_key_log_file(tmp_path / "fresh.log") == Error.OK
    assert stat.S_IMODE(os.stat(tmp_path / "fresh.log").st_mode) == 0o600


def test_key_save_replaces_a_symlink_instead_of_following_it(identity, tmp_path):
    victim = tmp_path / "victim"
    victim.write_text("keep")
    (tmp_path / "key.pem").symlink_to(victim)
    assert identity.key.save(tmp_path / "key.pem") == Error.OK
    assert victim.read_text() == "keep"
    assert not (tmp_path / "key.pem").is_symlink()
    assert stat.S_IMODE(os.stat(tmp_path / "key.pem").st_mode) == 0o600


def test_pins_on_server_options_are_refused(identity):
    options = TLSOptions.server(identity.key, identity.cert)
    assert options.pin_certificate(identity.cert) == Error.ERR_INVALID_PARAMETER
    assert "client options" in packetdtls.last_error_message()
