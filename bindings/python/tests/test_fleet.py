"""Fleets and restarts: shared server keys (load_keys, save_keys, rotate_keys), SO_REUSEPORT, and
sessions made on one server process resumed on another, or after a restart, over loopback."""

from __future__ import annotations

import os
import stat
import subprocess
import sys
import time
from pathlib import Path
from typing import List, Optional, Tuple

import pytest

import packetdtls
from packetdtls import DTLSServer, DTLSSession, Error, PacketPeerDTLS, TLSOptions, UDPServer

from .conftest import pump
from .test_dtls import Harness, client_for, run_until, settled

CONNECTED = PacketPeerDTLS.STATUS_CONNECTED
HANDSHAKING = PacketPeerDTLS.STATUS_HANDSHAKING
FLEET_SERVER = Path(__file__).resolve().parent / "fleet_server.py"
KEY_FILE_LENGTH = 180


def harness(identity, keys: Optional[Path] = None) -> Harness:
    def setup(dtls: DTLSServer) -> Error:
        if keys is not None and dtls.load_keys(keys) != Error.OK:
            return Error.FAILED
        return dtls.setup(TLSOptions.server(identity.key, identity.cert))

    return Harness(setup)


def dial(h: Harness, identity, session: Optional[DTLSSession] = None) -> PacketPeerDTLS:
    client = PacketPeerDTLS()
    if session is not None:
        assert client.set_session(session) == Error.OK
    options = TLSOptions.client(identity.cert)
    assert client.connect_to_peer(client_for(h.port), "localhost", options) == Error.OK
    run_until(h, [client], settled(client))
    assert client.get_status() == CONNECTED, client.get_error_message()
    return client


# MARK: - One process, several DTLSServer objects


def test_a_session_resumes_on_another_server_that_loaded_the_key_file(identity, tmp_path):
    keys = tmp_path / "fleet.keys"
    first = harness(identity)
    assert first.dtls.save_keys(keys) == Error.OK, packetdtls.last_error_message()
    assert stat.S_IMODE(os.stat(keys).st_mode) == 0o600
    assert os.path.getsize(keys) == KEY_FILE_LENGTH
    second = harness(identity, keys)
    stranger = harness(identity)

    made = dial(first, identity)
    assert not made.is_session_resumed()
    session = made.get_session()
    assert session is not None
    assert dial(second, identity, session).is_session_resumed()
    assert not dial(stranger, identity, session).is_session_resumed(), "other keys: a full handshake"


def test_rotation_keeps_the_previous_key_for_one_rotation(identity, tmp_path):
    h = harness(identity)
    session = dial(h, identity).get_session()
    assert h.dtls.rotate_keys() == Error.OK
    assert dial(h, identity, session).is_session_resumed()
    assert h.dtls.rotate_keys() == Error.OK
    assert not dial(h, identity, session).is_session_resumed()


def test_a_bad_key_file_is_a_clear_error(identity, tmp_path):
    server = DTLSServer()
    good = tmp_path / "good.keys"
    assert server.save_keys(str(good)) == Error.OK
    data = good.read_bytes()
    bad = tmp_path / "bad.keys"
    bad.write_bytes(data[:-1])
    assert server.load_keys(bad) == Error.ERR_FILE_CORRUPT
    assert "179 bytes" in packetdtls.last_error_message()
    bad.write_bytes(data[:40] + bytes([data[40] ^ 1]) + data[41:])
    assert server.load_keys(bad) == Error.ERR_FILE_CORRUPT
    assert "checksum" in packetdtls.last_error_message()
    bad.write_bytes(b"hello")
    assert server.load_keys(bad) == Error.ERR_FILE_UNRECOGNIZED
    assert server.load_keys(tmp_path / "absent") == Error.ERR_INVALID_PARAMETER
    assert str(tmp_path / "absent") in packetdtls.last_error_message()
    assert server.load_keys(good) == Error.OK
    with pytest.raises(TypeError):
        server.load_keys(3)  # type: ignore[arg-type]
    server.close()
    with pytest.raises(ValueError):
        server.rotate_keys()


def test_reuse_port_lets_two_servers_share_a_port():
    first, second, plain = UDPServer(), UDPServer(), UDPServer()
    assert first.set_reuse_port(True) == Error.OK
    assert first.listen(0, "127.0.0.1") == Error.OK
    port = first.get_local_port()
    assert plain.listen(port, "127.0.0.1") == Error.ERR_UNAVAILABLE, "off by default: the port is taken"
    assert second.set_reuse_port(True) == Error.OK
    assert second.listen(port, "127.0.0.1") == Error.OK, packetdtls.last_error_message()
    assert second.set_reuse_port(False) == Error.ERR_ALREADY_IN_USE
    with pytest.raises(TypeError):
        plain.set_reuse_port("yes")  # type: ignore[arg-type]
    for server in (first, second, plain):
        server.close()


# MARK: - Real server processes


class ServerProcess:
    """fleet_server.py in a process of its own."""

    def __init__(self, tag: str, port: int, identity, keys: Optional[Path], reuse_port: bool) -> None:
        arguments = [sys.executable, str(FLEET_SERVER), tag, str(port), str(identity.key_path),
                     str(identity.cert_path), str(keys) if keys else "-"]
        if reuse_port:
            arguments.append("--reuse-port")
        self.process = subprocess.Popen(arguments, stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
        line = self.process.stdout.readline().split()
        assert line[:1] == ["ready"], f"server {tag} did not start: {line}"
        self.port = int(line[1])

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.stdin.close()
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        self.process.stdout.close()


def exchange(port: int, identity, session: Optional[DTLSSession] = None,
             timeout: float = 10) -> Tuple[str, bool, PacketPeerDTLS]:
    """Connects to the server process(es) on `port`, echoes once; (server tag, resumed, client)."""
    client = PacketPeerDTLS()
    if session is not None:
        assert client.set_session(session) == Error.OK
    assert client.connect_to_peer(client_for(port), "localhost", TLSOptions.client(identity.cert)) == Error.OK
    pump(client.poll, lambda: client.get_status() != HANDSHAKING, timeout=timeout)
    assert client.get_status() == CONNECTED, client.get_error_message()
    assert client.put_packet(b"ping") == Error.OK
    pump(client.poll, lambda: client.get_available_packet_count() > 0, timeout=timeout)
    reply = client.get_packet()
    assert reply.endswith(b"ping"), reply
    tag, served_resumed = reply[:1].decode(), reply[1:2] == b"R"
    assert served_resumed == client.is_session_resumed(), "both ends agree on the resumption"
    return tag, served_resumed, client


@pytest.fixture
def fleet_keys(tmp_path) -> Path:
    keys = tmp_path / "fleet.keys"
    assert DTLSServer().save_keys(keys) == Error.OK
    return keys


def test_two_processes_on_one_port_resume_each_others_sessions(identity, fleet_keys):
    a = ServerProcess("A", 0, identity, fleet_keys, reuse_port=True)
    b = ServerProcess("B", a.port, identity, fleet_keys, reuse_port=True)
    try:
        # The kernel picks the process by the client's address and port: new clients until each
        # process has served one (bounded; the chance of 40 landing on one side is 2^-39).
        made: dict = {}
        for _ in range(40):
            tag, resumed, client = exchange(a.port, identity)
            assert not resumed
            made.setdefault(tag, client.get_session())
            client.disconnect_from_peer()
            if len(made) == 2:
                break
        assert set(made) == {"A", "B"}, f"clients spread over both processes: {sorted(made)}"
        # A session made on A, resumed by whichever process the new socket lands on, until B has.
        landed = set()
        for _ in range(40):
            tag, resumed, client = exchange(a.port, identity, made["A"])
            assert resumed, f"{tag} resumed A's session"
            landed.add(tag)
            client.disconnect_from_peer()
            if "B" in landed:
                break
        assert "B" in landed
    finally:
        a.stop()
        b.stop()


def test_a_restarted_server_with_its_key_file_resumes_old_sessions(identity, fleet_keys):
    first = ServerProcess("A", 0, identity, fleet_keys, reuse_port=False)
    port = first.port
    try:
        _, resumed, client = exchange(port, identity)
        assert not resumed
        session = client.get_session()
        client.disconnect_from_peer()
    finally:
        first.stop()
    restarted = ServerProcess("B", port, identity, fleet_keys, reuse_port=False)
    try:
        tag, resumed, _ = exchange(port, identity, session)
        assert (tag, resumed) == ("B", True)
    finally:
        restarted.stop()
    forgetful = ServerProcess("C", port, identity, None, reuse_port=False)
    try:
        tag, resumed, _ = exchange(port, identity, session)
        assert (tag, resumed) == ("C", False), "without the key file a restart costs a full handshake"
    finally:
        forgetful.stop()
