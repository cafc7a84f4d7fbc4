# The AES-CCM suites for constrained devices (CoAP's TLS_PSK_WITH_AES_128_CCM_8 and
# TLS_ECDHE_ECDSA_WITH_AES_128_CCM_8, and their CCM / 256-bit siblings): opt-in through
# set_cipher_suites, between two of our own peers over loopback UDP.
from __future__ import annotations

import pytest

import packetdtls
from packetdtls import Error, PacketPeerDTLS, TLSOptions

from .conftest import Identity
from .test_beyond import dial, echo, serve, server_side

CONNECTED = PacketPeerDTLS.STATUS_CONNECTED
PSK = bytes(range(16))
PSK_CCM_8 = "TLS_PSK_WITH_AES_128_CCM_8"
ECDSA_CCM_8 = "TLS_ECDHE_ECDSA_WITH_AES_128_CCM_8"
CCM_SUITES = [
    "TLS_PSK_WITH_AES_128_CCM_8",
    "TLS_PSK_WITH_AES_128_CCM",
    "TLS_PSK_WITH_AES_256_CCM_8",
    "TLS_PSK_WITH_AES_256_CCM",
    "TLS_ECDHE_ECDSA_WITH_AES_128_CCM_8",
    "TLS_ECDHE_ECDSA_WITH_AES_128_CCM",
    "TLS_ECDHE_ECDSA_WITH_AES_256_CCM_8",
    "TLS_ECDHE_ECDSA_WITH_AES_256_CCM",
]


def psk_server(*suites: str) -> TLSOptions:
    options = TLSOptions.server_psk()
    assert options.add_psk("sensor-1", PSK) == Error.OK
    assert options.set_cipher_suites(list(suites)) == Error.OK, packetdtls.last_error_message()
    return options


def psk_client(*suites: str) -> TLSOptions:
    options = TLSOptions.client_psk("sensor-1", PSK)
    assert options is not None
    assert options.set_cipher_suites(list(suites)) == Error.OK, packetdtls.last_error_message()
    return options


def test_set_cipher_suites_accepts_every_ccm_suite():
    options = TLSOptions.client_unsafe()
    for name in CCM_SUITES:
        assert options.set_cipher_suites([name]) == Error.OK, (name, packetdtls.last_error_message())
    assert options.set_cipher_suites(CCM_SUITES) == Error.OK
    # CCM without forward secrecy stays out, as the GCM suites without it do.
    assert options.set_cipher_suites(["TLS_RSA_WITH_AES_128_CCM_8"]) == Error.ERR_INVALID_PARAMETER
    assert PSK_CCM_8 in packetdtls.last_error_message()


@pytest.mark.parametrize("suite", [PSK_CCM_8, "TLS_PSK_WITH_AES_256_CCM"])
def test_psk_ccm_between_our_peers(suite: str):
    harness = serve(psk_server(suite))
    client = dial(harness, psk_client(suite), hostname="")
    assert client.get_status() == CONNECTED, client.get_error_message()
    assert client.get_cipher_suite() == suite
    assert server_side(harness).get_cipher_suite() == suite
    assert echo(harness, client, b"temperature 21.5") == b"5.12 erutarepmet"
    # The largest packet goes through whole (CCM-8's shorter tag leaves it as large as the others').
    largest = client.get_max_packet_size()
    assert largest >= 16000
    payload = bytes(i * 7 % 256 for i in range(largest))
    assert echo(harness, client, payload) == payload[::-1]
    assert client.put_packet(payload + b"!") == Error.ERR_INVALID_PARAMETER


def test_ecdsa_ccm_8_between_our_peers(identity: Identity):
    server_options = TLSOptions.server(identity.key, identity.cert)
    assert server_options.set_cipher_suites([ECDSA_CCM_8]) == Error.OK
    harness = serve(server_options)
    client_options = TLSOptions.client(identity.cert)
    assert client_options.set_cipher_suites([ECDSA_CCM_8]) == Error.OK
    client = dial(harness, client_options)
    assert client.get_status() == CONNECTED, client.get_error_message()
    assert client.get_cipher_suite() == ECDSA_CCM_8
    assert echo(harness, client, b"coap") == b"paoc"


def test_ccm_is_never_a_default(identity: Identity):
    # A default server and a CCM-only client share no suite.
    client = dial(serve(psk_server()), psk_client(PSK_CCM_8))
    assert client.get_status() != CONNECTED
    # Default options on both sides never pick CCM.
    server_options = TLSOptions.server(identity.key, identity.cert)
    assert server_options.add_psk("sensor-1", PSK) == Error.OK
    harness = serve(server_options)
    for options in (TLSOptions.client(identity.cert), psk_client()):
        client = dial(harness, options)
        assert client.get_status() == CONNECTED, client.get_error_message()
        assert "CCM" not in client.get_cipher_suite()


def test_ccm_suites_follow_the_options_authentication(identity: Identity):
    # A certificate CCM suite on a PSK-only server, and a PSK CCM suite on a certificate-only one.
    pskonly = psk_server(PSK_CCM_8, ECDSA_CCM_8)
    assert packetdtls.DTLSServer().setup(pskonly) == Error.ERR_INVALID_PARAMETER
    assert "needs a certificate" in packetdtls.last_error_message()
    certificate_only = TLSOptions.server(identity.key, identity.cert)
    assert certificate_only.set_cipher_suites([PSK_CCM_8]) == Error.OK
    assert packetdtls.DTLSServer().setup(certificate_only) == Error.ERR_INVALID_PARAMETER
    assert "pre-shared key" in packetdtls.last_error_message()
