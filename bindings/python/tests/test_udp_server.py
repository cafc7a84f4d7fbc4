import pytest

from packetdtls import Error, PacketPeerUDP, UDPServer


def test_wait_sleeps_on_the_socket_until_a_datagram_comes():
    server = UDPServer()
    assert server.wait(0.01) == Error.ERR_UNCONFIGURED
    assert server.listen(0, "127.0.0.1") == Error.OK
    assert server.wait(0.02) == Error.ERR_TIMEOUT
    client = PacketPeerUDP()
    assert client.connect_to_host("127.0.0.1", server.get_local_port()) == Error.OK
    assert client.put_packet(b"hi") == Error.OK
    assert server.wait(5) == Error.OK
    assert server.poll() == Error.OK and server.is_connection_available()
    with pytest.raises(TypeError):
        server.wait("soon")
    server.stop()
