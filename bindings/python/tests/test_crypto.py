"""CryptoKey, X509Certificate, Crypto and TLSOptions."""

from __future__ import annotations

import gc
import hashlib
import hmac
import os
import stat

import pytest

import packetdtls
from packetdtls import Crypto, CryptoKey, Error, HashType, TLSOptions, X509Certificate

# MARK: - CryptoKey


def test_key_round_trips_through_strings_and_files(identity, tmp_path):
    pem = identity.key.save_to_string()
    assert pem.startswith("-----BEGIN") and "PRIVATE KEY" in pem
    assert not identity.key.is_public_only()
    public_pem = identity.key.save_to_string(True)
    assert "PUBLIC KEY" in public_pem and "PRIVATE" not in public_pem

    copy = CryptoKey()
    assert copy.save_to_string() == ""
    assert copy.load_from_string(pem) == Error.OK
    assert copy.save_to_string() == pem
    public = CryptoKey()
    assert public.load_from_string(public_pem, True) == Error.OK
    assert public.is_public_only()
    assert public.save_to_string(True) == public_pem

    path = tmp_path / "k.key"
    assert identity.key.save(str(path)) == Error.OK
    assert stat.S_IMODE(os.stat(path).st_mode) == 0o600
    from_file = CryptoKey()
    assert from_file.load(path) == Error.OK  # os.PathLike works too
    assert from_file.save_to_string() == pem
    assert identity.key.save(tmp_path / "k.pub", True) == Error.OK
    pub = CryptoKey()
    assert pub.load(str(tmp_path / "k.pub"), True) == Error.OK
    assert pub.is_public_only()


def test_key_errors(tmp_path):
    key = CryptoKey()
    assert key.load(str(tmp_path / "missing.key")) == Error.ERR_INVALID_PARAMETER
    assert "missing.key" in packetdtls.last_error_message()
    garbage = tmp_path / "garbage.key"
    garbage.write_text("not a key")
    assert key.load(str(garbage)) == Error.ERR_PARSE_ERROR
    assert key.load_from_string("not a key") == Error.ERR_PARSE_ERROR
    assert key.load_from_string("") != Error.OK
    assert key.save_to_string() == ""  # unchanged: still empty
    assert key.save(str(tmp_path / "empty.key")) != Error.OK
    with pytest.raises(TypeError):
        key.load(None)  # type: ignore[arg-type]
    with pytest.raises(TypeError):
        key.load(str(garbage), 1)  # type: ignore[arg-type]
    with pytest.raises(TypeError):
        key.load_from_string(b"pem")  # type: ignore[arg-type]
    with pytest.raises(ValueError):
        key.load("a\0b")


def test_key_close_and_with():
    with CryptoKey() as key:
        assert not key.is_public_only()
    assert key.closed
    with pytest.raises(ValueError):
        key.save_to_string()
    with pytest.raises(ValueError):
        key.load_from_string("x")
    key.close()


def test_key_is_freed_by_garbage_collection():
    key = CryptoKey()
    finalizer = key._finalizer
    del key
    gc.collect()
    assert not finalizer.alive


# MARK: - X509Certificate


def test_certificate_round_trips(identity, tmp_path):
    pem = identity.cert.save_to_string()
    assert pem.count("-----BEGIN CERTIFICATE-----") == 1
    copy = X509Certificate()
    assert copy.save_to_string() == ""
    assert copy.load_from_string(pem) == Error.OK
    assert copy.save_to_string() == pem
    path = tmp_path / "c.crt"
    assert identity.cert.save(str(path)) == Error.OK
    loaded = X509Certificate()
    assert loaded.load(str(path)) == Error.OK
    assert loaded.save_to_string() == pem


def test_certificate_chain_saves_every_certificate(identity, other_identity, tmp_path):
    chain_pem = identity.cert.save_to_string() + other_identity.cert.save_to_string()
    chain = X509Certificate()
    assert chain.load_from_string(chain_pem) == Error.OK
    assert chain.save_to_string() == chain_pem
    path = tmp_path / "chain.crt"
    assert chain.save(path) == Error.OK
    assert path.read_text() == chain_pem  # Godot writes the first certificate N times; we do not


def test_certificate_errors(tmp_path):
    cert = X509Certificate()
    assert cert.load(str(tmp_path / "missing.crt")) == Error.ERR_INVALID_PARAMETER
    assert cert.load_from_string("garbage") == Error.ERR_PARSE_ERROR
    assert cert.save_to_string() == ""
    with pytest.raises(TypeError):
        cert.load_from_string(None)  # type: ignore[arg-type]
    with pytest.raises(TypeError):
        cert.load(42)  # type: ignore[arg-type]
    cert.close()
    with pytest.raises(ValueError):
        cert.save_to_string()


def test_godot_style_load(identity, tmp_path):
    key = packetdtls.load(str(identity.key_path))
    assert isinstance(key, CryptoKey) and not key.is_public_only()
    cert = packetdtls.load(identity.cert_path)
    assert isinstance(cert, X509Certificate)
    assert cert.save_to_string() == identity.cert.save_to_string()
    assert identity.key.save(str(tmp_path / "k.pub"), True) == Error.OK
    public = packetdtls.load(str(tmp_path / "k.pub"))
    assert isinstance(public, CryptoKey) and public.is_public_only()
    with pytest.raises(FileNotFoundError):
        packetdtls.load(str(tmp_path / "nope.crt"))
    with pytest.raises(ValueError):
        packetdtls.load(str(tmp_path / "file.txt"))
    (tmp_path / "bad.crt").write_text("garbage")
    with pytest.raises(ValueError, match="ERR_PARSE_ERROR"):
        packetdtls.load(str(tmp_path / "bad.crt"))


# MARK: - Crypto


def test_crypto_hash_types():
    assert Crypto.HASH_MD5 == HashType.HASH_MD5 == 0
    assert Crypto.HASH_SHA1 == 1 and Crypto.HASH_SHA256 == 2
    assert Crypto.HashType is HashType


def test_random_bytes():
    crypto = Crypto()
    a, b = crypto.generate_random_bytes(32), crypto.generate_random_bytes(32)
    assert isinstance(a, bytes) and len(a) == 32 and a != b
    assert crypto.generate_random_bytes(0) == b""
    assert len(crypto.generate_random_bytes(100_000)) == 100_000
    assert crypto.generate_random_bytes(-1) == b""
    assert "negative" in packetdtls.last_error_message()
    with pytest.raises(TypeError):
        crypto.generate_random_bytes(1.5)  # type: ignore[arg-type]


def test_generate_rsa_and_ec(rsa_key):
    crypto = Crypto()
    assert isinstance(rsa_key, CryptoKey) and "PRIVATE KEY" in rsa_key.save_to_string()
    assert crypto.generate_rsa(100) is None  # outside 1024..8192
    assert crypto.generate_rsa(-1) is None
    assert crypto.generate_rsa(2**40) is None
    ec = crypto.generate_ec_p256()
    assert isinstance(ec, CryptoKey) and not ec.is_public_only()
    with pytest.raises(TypeError):
        crypto.generate_rsa("2048")  # type: ignore[arg-type]


def test_self_signed_certificate_defaults(identity):
    crypto = Crypto()
    cert = crypto.generate_self_signed_certificate(identity.key)
    assert isinstance(cert, X509Certificate)
    assert "BEGIN CERTIFICATE" in cert.save_to_string()
    assert crypto.generate_self_signed_certificate(identity.key, "CN=x", "20200101000000", "20300101000000")
    assert crypto.generate_self_signed_certificate(CryptoKey()) is None  # an empty key
    public = CryptoKey()
    assert public.load_from_string(identity.key.save_to_string(True), True) == Error.OK
    assert crypto.generate_self_signed_certificate(public) is None  # no private key
    assert crypto.generate_self_signed_certificate(identity.key, "CN=x", "garbage", "garbage") is None
    with pytest.raises(TypeError):
        crypto.generate_self_signed_certificate(None)  # type: ignore[arg-type]
    with pytest.raises(TypeError):
        crypto.generate_self_signed_certificate(identity.cert)  # type: ignore[arg-type]


@pytest.mark.parametrize("kind,digest", [(Crypto.HASH_SHA256, hashlib.sha256), (Crypto.HASH_SHA1, hashlib.sha1)])
def test_sign_and_verify(identity, rsa_key, kind, digest):
    crypto = Crypto()
    message_hash = digest(b"The answer is... 42!").digest()
    for key in (identity.key, rsa_key):
        signature = crypto.sign(kind, message_hash, key)
        assert isinstance(signature, bytes) and signature
        assert crypto.verify(kind, message_hash, signature, key)
        assert not crypto.verify(kind, digest(b"other").digest(), signature, key)
        assert not crypto.verify(kind, message_hash, signature[:-1] + bytes([signature[-1] ^ 1]), key)


def test_sign_failures(identity):
    crypto = Crypto()
    assert crypto.sign(Crypto.HASH_SHA256, b"short", identity.key) == b""  # wrong digest length
    assert crypto.sign(Crypto.HASH_SHA256, bytes(32), CryptoKey()) == b""
    assert crypto.sign(99, bytes(32), identity.key) == b""
    with pytest.raises(TypeError):
        crypto.sign(Crypto.HASH_SHA256, "text", identity.key)  # type: ignore[arg-type]
    with pytest.raises(TypeError):
        crypto.sign(Crypto.HASH_SHA256, bytes(32), None)  # type: ignore[arg-type]


def test_encrypt_and_decrypt(rsa_key):
    crypto = Crypto()
    ciphertext = crypto.encrypt(rsa_key, b"secret")
    assert len(ciphertext) == 256
    assert crypto.decrypt(rsa_key, ciphertext) == b"secret"
    public = CryptoKey()
    assert public.load_from_string(rsa_key.save_to_string(True), True) == Error.OK
    assert crypto.decrypt(rsa_key, crypto.encrypt(public, b"via public")) == b"via public"
    assert crypto.decrypt(public, ciphertext) == b""  # no private key
    assert crypto.encrypt(rsa_key, bytes(300)) == b""  # too long for RSA-2048
    assert crypto.decrypt(rsa_key, b"garbage") == b""


def test_encrypt_refuses_ec_keys(identity):
    assert Crypto().encrypt(identity.key, b"x") == b""


@pytest.mark.parametrize(
    "kind,name", [(Crypto.HASH_MD5, "md5"), (Crypto.HASH_SHA1, "sha1"), (Crypto.HASH_SHA256, "sha256")]
)
def test_hmac_digest_matches_hashlib(kind, name):
    key, msg = b"key material", b"message" * 100
    assert Crypto().hmac_digest(kind, key, msg) == hmac.new(key, msg, name).digest()
    assert Crypto().hmac_digest(kind, bytearray(key), memoryview(msg)) == hmac.new(key, msg, name).digest()


def test_hmac_digest_misuse():
    assert Crypto().hmac_digest(99, b"k", b"m") == b""
    with pytest.raises(TypeError):
        Crypto().hmac_digest(Crypto.HASH_SHA256, "k", b"m")  # type: ignore[arg-type]


def test_constant_time_compare():
    crypto = Crypto()
    assert crypto.constant_time_compare(b"abc", b"abc")
    assert not crypto.constant_time_compare(b"abc", b"abd")
    assert not crypto.constant_time_compare(b"abc", b"abcd")
    assert crypto.constant_time_compare(b"", b"")
    with pytest.raises(TypeError):
        crypto.constant_time_compare("abc", "abc")  # type: ignore[arg-type]


def test_crypto_close_marks_it_closed():
    with Crypto() as crypto:
        assert crypto.generate_random_bytes(1)
    assert crypto.closed
    with pytest.raises(ValueError):
        crypto.generate_random_bytes(1)
    with pytest.raises(ValueError):
        crypto.generate_ec_p256()
    crypto.close()


# MARK: - TLSOptions


def test_tls_options_client(identity):
    default = TLSOptions()
    assert not default.is_server() and not default.is_unsafe_client()
    client = TLSOptions.client()
    assert not client.is_server() and not client.is_unsafe_client()
    assert client.get_common_name_override() == ""
    assert client.get_trusted_ca_chain() is None
    assert client.get_private_key() is None and client.get_own_certificate() is None

    pinned = TLSOptions.client(identity.cert, "localhost")
    assert pinned.get_common_name_override() == "localhost"
    chain = pinned.get_trusted_ca_chain()
    assert isinstance(chain, X509Certificate)
    assert chain.save_to_string() == identity.cert.save_to_string()
    assert TLSOptions.client(common_name_override="názov.example").get_common_name_override() == "názov.example"


def test_tls_options_client_unsafe(identity):
    unsafe = TLSOptions.client_unsafe()
    assert unsafe.is_unsafe_client() and not unsafe.is_server()
    assert unsafe.get_trusted_ca_chain() is None
    with_chain = TLSOptions.client_unsafe(identity.cert)
    assert with_chain.is_unsafe_client()
    assert with_chain.get_trusted_ca_chain() is not None


def test_tls_options_server(identity):
    server = TLSOptions.server(identity.key, identity.cert)
    assert server is not None and server.is_server() and not server.is_unsafe_client()
    key = server.get_private_key()
    cert = server.get_own_certificate()
    assert isinstance(key, CryptoKey) and key.save_to_string() == identity.key.save_to_string()
    assert isinstance(cert, X509Certificate) and cert.save_to_string() == identity.cert.save_to_string()
    # the getters return new references: closing them leaves the options and the originals alone
    key.close()
    cert.close()
    assert server.get_private_key() is not None
    assert identity.key.save_to_string()
    # Refused arguments raise ValueError with the library's reason, not a None that fails later.
    with pytest.raises(ValueError, match="empty"):
        TLSOptions.server(CryptoKey(), identity.cert)  # an empty key
    with pytest.raises(ValueError, match="TLSOptions.server: .+"):
        TLSOptions.server(identity.key, X509Certificate())


def test_tls_options_factories_raise_value_error_with_the_reason(identity):
    crypto = Crypto()
    other_cert = crypto.generate_self_signed_certificate(crypto.generate_ec_p256())
    with pytest.raises(ValueError, match="does not belong") as refused:
        TLSOptions.server(identity.key, other_cert)
    assert packetdtls.last_error_message() in str(refused.value)
    public_only = CryptoKey()
    assert public_only.load_from_string(identity.key.save_to_string(public_only=True), public_only=True) == Error.OK
    with pytest.raises(ValueError, match="TLSOptions.server: "):
        TLSOptions.server(public_only, identity.cert)
    with pytest.raises(ValueError, match="TLSOptions.client: .*empty"):
        TLSOptions.client(X509Certificate())  # an empty trusted chain must not become "trust the system"
    with pytest.raises(ValueError, match="TLSOptions.client_unsafe: .*empty"):
        TLSOptions.client_unsafe(X509Certificate())
    with pytest.raises(TypeError):  # a wrong type stays a TypeError, raised before C is called
        TLSOptions.server(identity.key, "not a certificate")


def test_tls_options_server_outlives_its_inputs():
    crypto = Crypto()
    key = crypto.generate_ec_p256()
    cert = crypto.generate_self_signed_certificate(key)
    pem = key.save_to_string()
    options = TLSOptions.server(key, cert)
    key.close()
    cert.close()
    del key, cert
    gc.collect()
    assert options.get_private_key().save_to_string() == pem


def test_tls_options_tuning():
    options = TLSOptions.client()
    assert options.set_handshake_timeout(100, 2000) == Error.OK
    assert options.set_handshake_timeout(0, 10) == Error.ERR_INVALID_PARAMETER
    assert options.set_handshake_timeout(500, 100) == Error.ERR_INVALID_PARAMETER
    assert options.set_handshake_timeout(-1, 100) == Error.ERR_INVALID_PARAMETER
    assert "min_ms" in packetdtls.last_error_message()
    assert options.set_idle_timeout(0) == Error.OK
    assert options.set_idle_timeout(5000) == Error.OK
    assert options.set_idle_timeout(-1) == Error.ERR_INVALID_PARAMETER
    assert options.set_idle_timeout(2**32) == Error.ERR_INVALID_PARAMETER
    assert options.set_mtu(0) == Error.OK
    assert options.set_mtu(1200) == Error.OK
    assert options.set_mtu(100) == Error.ERR_INVALID_PARAMETER
    assert options.set_mtu(20000) == Error.ERR_INVALID_PARAMETER
    with pytest.raises(TypeError):
        options.set_mtu(1200.0)  # type: ignore[arg-type]
    with pytest.raises(TypeError):
        options.set_handshake_timeout(-1, "x")  # type: ignore[arg-type]


def test_tls_options_wrong_types(identity):
    with pytest.raises(TypeError):
        TLSOptions.client(identity.key)  # type: ignore[arg-type]
    with pytest.raises(TypeError):
        TLSOptions.client(None, None)  # type: ignore[arg-type]
    with pytest.raises(TypeError):
        TLSOptions.client_unsafe("chain")  # type: ignore[arg-type]
    with pytest.raises(TypeError):
        TLSOptions.server(identity.cert, identity.key)  # type: ignore[arg-type]
    with pytest.raises(TypeError):
        TLSOptions.server(None, None)  # type: ignore[arg-type]
    closed = X509Certificate()
    closed.close()
    with pytest.raises(ValueError):
        TLSOptions.client(closed)


def test_tls_options_close():
    with TLSOptions.client() as options:
        assert not options.is_server()
    with pytest.raises(ValueError):
        options.is_server()
