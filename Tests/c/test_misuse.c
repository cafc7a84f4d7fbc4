/*
 * test_misuse.c — every exported function called the wrong way: NULL, freed, forged and
 * other-class handles, NULL buffers, zero and huge lengths, bad ports, invalid UTF-8 names.
 * Nothing may crash, and each call returns its error (or the neutral value the header names:
 * false, 0, NULL, DTLS_STATUS_DISCONNECTED) with a sentence in dtls_last_error_message().
 */
#include <stdint.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include "check.h"

#define INVALID DTLS_ERR_INVALID_PARAMETER
/* Lengths no caller buffer can have: SIZE_MAX, and the largest size_t that is still positive as a ssize_t. */
#define HUGE_LEN ((size_t)SIZE_MAX)
#define HUGE_POSITIVE ((size_t)SIZE_MAX >> 1)

static const char *bad_utf8 = "\xff\xfe\xc3\x28 host \xed\xa0\x80";

/* The last failure left a sentence. */
#define CHECK_MESSAGE() CHECK(dtls_last_error_message() != NULL && dtls_last_error_message()[0] != '\0')

/* Frees one handle of each class (live or not: freeing a dead handle is harmless). */
static void free_all(dtls_udp *udp, dtls_udp_server *userver, dtls_peer *peer, dtls_server *server,
                     dtls_key *key, dtls_cert *cert, dtls_options *options) {
    dtls_udp_free(udp);
    dtls_udp_server_free(userver);
    dtls_peer_free(peer);
    dtls_server_free(server);
    dtls_key_free(key);
    dtls_cert_free(cert);
    dtls_options_free(options);
}

/*
 * Calls every function that takes a handle with the handles given, which are all unusable (NULL,
 * freed, forged or of another class), and checks each refuses them.
 */
static void refuse_everything(dtls_udp *udp, dtls_udp_server *userver, dtls_peer *peer, dtls_server *server,
                              dtls_key *key, dtls_cert *cert, dtls_options *options) {
    uint8_t buf[64] = {0};
    char text[64] = "untouched";
    size_t out_len = 12345;

    /* PacketPeerUDP */
    CHECK_ERR(dtls_udp_bind(udp, 0, "127.0.0.1", 65536), INVALID);
    CHECK_MESSAGE();
    CHECK_ERR(dtls_udp_listen(udp, 0, NULL, 65536), INVALID);
    CHECK_ERR(dtls_udp_close(udp), INVALID);
    CHECK(!dtls_udp_is_bound(udp));
    CHECK(!dtls_udp_is_listening(udp));
    CHECK_ERR(dtls_udp_connect_to_host(udp, "127.0.0.1", 9), INVALID);
    CHECK(!dtls_udp_is_socket_connected(udp));
    CHECK(!dtls_udp_is_connected_to_host(udp));
    CHECK_ERR(dtls_udp_set_dest_address(udp, "127.0.0.1", 9), INVALID);
    CHECK_ERR(dtls_udp_wait(udp), INVALID);
    CHECK_ERR(dtls_udp_wait_timeout(udp, 10), INVALID);
    CHECK(dtls_udp_get_packet_ip(udp, text, sizeof text) == 0 && text[0] == '\0');
    CHECK(dtls_udp_get_packet_port(udp) == 0);
    CHECK(dtls_udp_get_local_port(udp) == 0);
    CHECK_ERR(dtls_udp_set_broadcast_enabled(udp, true), INVALID);
    CHECK_ERR(dtls_udp_join_multicast_group(udp, "224.0.0.1", NULL), INVALID);
    CHECK_ERR(dtls_udp_leave_multicast_group(udp, "224.0.0.1", ""), INVALID);
    CHECK_ERR(dtls_udp_put_packet(udp, buf, sizeof buf), INVALID);
    CHECK_ERR(dtls_udp_get_packet(udp, buf, sizeof buf, &out_len), INVALID);
    CHECK(dtls_udp_get_available_packet_count(udp) == 0);
    CHECK_ERR(dtls_udp_get_packet_error(udp), INVALID);

    /* UDPServer */
    CHECK_ERR(dtls_udp_server_listen(userver, 0, "127.0.0.1"), INVALID);
    CHECK_ERR(dtls_udp_server_poll(userver), INVALID);
    CHECK(!dtls_udp_server_is_connection_available(userver));
    CHECK(dtls_udp_server_take_connection(userver) == NULL);
    CHECK(!dtls_udp_server_is_listening(userver));
    CHECK(dtls_udp_server_get_local_port(userver) == 0);
    CHECK_ERR(dtls_udp_server_stop(userver), INVALID);
    CHECK_ERR(dtls_udp_server_set_max_pending_connections(userver, 4), INVALID);
    CHECK(dtls_udp_server_get_max_pending_connections(userver) == 0);
    CHECK_ERR(dtls_udp_server_set_reuse_port(userver, true), INVALID);

    /* CryptoKey */
    CHECK_ERR(dtls_key_load(key, "/nonexistent.key", false), INVALID);
    CHECK_ERR(dtls_key_save(key, "/tmp/packetdtls-misuse-never-written.key", false), INVALID);
    CHECK(access("/tmp/packetdtls-misuse-never-written.key", F_OK) != 0);
    CHECK_ERR(dtls_key_load_from_string(key, "-----BEGIN PRIVATE KEY-----", false), INVALID);
    CHECK(dtls_key_save_to_string(key, false, text, sizeof text) == 0);
    CHECK(!dtls_key_is_public_only(key));

    /* X509Certificate */
    CHECK_ERR(dtls_cert_load(cert, "/nonexistent.crt"), INVALID);
    CHECK_ERR(dtls_cert_save(cert, "/tmp/packetdtls-misuse-never-written.crt"), INVALID);
    CHECK_ERR(dtls_cert_load_from_string(cert, "-----BEGIN CERTIFICATE-----"), INVALID);
    CHECK(dtls_cert_save_to_string(cert, text, sizeof text) == 0);

    /* Crypto with a bad key */
    CHECK(dtls_crypto_generate_self_signed_certificate(key, NULL, NULL, NULL) == NULL);
    CHECK_MESSAGE();
    CHECK_ERR(dtls_crypto_sign(DTLS_HASH_SHA256, buf, 32, key, buf, sizeof buf, &out_len), INVALID);
    CHECK(!dtls_crypto_verify(DTLS_HASH_SHA256, buf, 32, buf, 32, key));
    CHECK_ERR(dtls_crypto_encrypt(key, buf, 8, buf, sizeof buf, &out_len), INVALID);
    CHECK_ERR(dtls_crypto_decrypt(key, buf, 8, buf, sizeof buf, &out_len), INVALID);

    /* TLSOptions */
    if (cert != NULL) {
        CHECK(dtls_options_client(cert, NULL) == NULL);
        CHECK(dtls_options_client_unsafe(cert) == NULL);
    }
    CHECK(dtls_options_server(key, cert) == NULL);
    CHECK(!dtls_options_is_server(options));
    CHECK(!dtls_options_is_unsafe_client(options));
    CHECK(dtls_options_get_common_name_override(options, text, sizeof text) == 0);
    CHECK(dtls_options_get_trusted_ca_chain(options) == NULL);
    CHECK(dtls_options_get_private_key(options) == NULL);
    CHECK(dtls_options_get_own_certificate(options) == NULL);
    CHECK_ERR(dtls_options_set_handshake_timeout(options, 10, 100), INVALID);
    CHECK_ERR(dtls_options_set_idle_timeout(options, 10), INVALID);
    CHECK_ERR(dtls_options_set_mtu(options, 1200), INVALID);

    /* PacketPeerDTLS */
    CHECK_ERR(dtls_peer_connect_to_peer(peer, udp, false, NULL, NULL), INVALID);
    CHECK_ERR(dtls_peer_connect_to_peer_with_options(peer, udp, "localhost", options), INVALID);
    CHECK_ERR(dtls_peer_poll(peer), INVALID);
    CHECK(dtls_peer_get_status(peer) == DTLS_STATUS_DISCONNECTED);
    CHECK_ERR(dtls_peer_disconnect_from_peer(peer), INVALID);
    CHECK_ERR(dtls_peer_put_packet(peer, buf, sizeof buf), INVALID);
    CHECK_ERR(dtls_peer_get_packet(peer, buf, sizeof buf, &out_len), INVALID);
    CHECK(dtls_peer_get_available_packet_count(peer) == 0);
    CHECK_ERR(dtls_peer_get_packet_error(peer), INVALID);
    CHECK(dtls_peer_get_error_message(peer, text, sizeof text) == 0);
    CHECK(dtls_peer_get_ciphersuite(peer, text, sizeof text) == 0);
    CHECK(dtls_peer_get_max_packet_size(peer) == 0);

    /* DTLSServer */
    CHECK_ERR(dtls_server_setup(server, key, cert, NULL), INVALID);
    CHECK_ERR(dtls_server_setup_with_options(server, options), INVALID);
    CHECK(dtls_server_take_connection(server, udp) == NULL);
    CHECK_ERR(dtls_server_stop(server), INVALID);
    CHECK_ERR(dtls_server_set_handshake_limits(server, 1, 1, 1), INVALID);
    int32_t limit = 7;
    CHECK_ERR(dtls_server_get_handshake_limits(server, &limit, &limit, &limit), INVALID);
    CHECK(limit == 7);
    CHECK(dtls_server_get_handshakes_in_flight(server) == -1);
    CHECK_ERR(dtls_server_load_keys(server, "/nonexistent.keys"), INVALID);
    CHECK_ERR(dtls_server_save_keys(server, "/tmp/packetdtls-misuse-never-written.keys"), INVALID);
    CHECK_ERR(dtls_server_rotate_keys(server), INVALID);

    /* Freeing what is not live is harmless. */
    free_all(udp, userver, peer, server, key, cert, options);
}

static void test_null_handles(void) { refuse_everything(NULL, NULL, NULL, NULL, NULL, NULL, NULL); }

static void test_freed_handles(void) {
    dtls_udp *udp = dtls_udp_new();
    dtls_udp_server *userver = dtls_udp_server_new();
    dtls_peer *peer = dtls_peer_new();
    dtls_server *server = dtls_server_new();
    dtls_key *key = dtls_key_new();
    dtls_cert *cert = dtls_cert_new();
    dtls_options *options = dtls_options_new();
    CHECK(udp && userver && peer && server && key && cert && options);
    free_all(udp, userver, peer, server, key, cert, options);
    refuse_everything(udp, userver, peer, server, key, cert, options);
    /* A handle freed twice, then its slot reused by a new object: the old handle stays dead. */
    dtls_udp *fresh = dtls_udp_new();
    CHECK_ERR(dtls_udp_bind(udp, 0, "127.0.0.1", 65536), INVALID);
    CHECK(!dtls_udp_is_bound(fresh));
    dtls_udp_free(fresh);
}

static void test_other_class_handles(void) {
    /* Each handle is live, but of the wrong class for every parameter it is passed to. */
    dtls_key *key = dtls_key_new();
    dtls_cert *cert = dtls_cert_new();
    dtls_peer *peer = dtls_peer_new();
    refuse_everything((dtls_udp *)key, (dtls_udp_server *)cert, (dtls_peer *)key, (dtls_server *)peer,
                      (dtls_key *)peer, (dtls_cert *)key, (dtls_options *)cert);
    /* refuse_everything "freed" them as the wrong class: they must still be alive. */
    CHECK_ERR(dtls_key_load_from_string(key, "not a key", false), DTLS_ERR_PARSE_ERROR);
    CHECK(dtls_peer_get_status(peer) == DTLS_STATUS_DISCONNECTED);
    CHECK_ERR(dtls_cert_load_from_string(cert, "not a cert"), DTLS_ERR_PARSE_ERROR);
    dtls_key_free(key);
    dtls_cert_free(cert);
    dtls_peer_free(peer);
}

static void test_forged_handles(void) {
    refuse_everything((dtls_udp *)(uintptr_t)0x1234, (dtls_udp_server *)(uintptr_t)~(uintptr_t)0,
                      (dtls_peer *)(uintptr_t)0xdeadbeef03, (dtls_server *)(uintptr_t)0x100000004,
                      (dtls_key *)(uintptr_t)0xffffff05, (dtls_cert *)(uintptr_t)0x706,
                      (dtls_options *)(uintptr_t)0x8000000000000007ull);
}

static void test_buffers_and_lengths(void) {
    dtls_udp *udp = dtls_udp_new();
    uint8_t buf[64] = {0};
    size_t out_len = 0;
    CHECK_ERR(dtls_udp_bind(udp, 0, "127.0.0.1", 65536), DTLS_OK);
    CHECK_ERR(dtls_udp_set_dest_address(udp, "127.0.0.1", dtls_udp_get_local_port(udp)), DTLS_OK);
    CHECK_ERR(dtls_udp_put_packet(udp, NULL, 10), INVALID);
    CHECK_ERR(dtls_udp_put_packet(udp, buf, HUGE_LEN), INVALID);
    CHECK_ERR(dtls_udp_put_packet(udp, buf, HUGE_POSITIVE), INVALID);
    CHECK_ERR(dtls_udp_put_packet(udp, buf, 65508), INVALID);
    CHECK_ERR(dtls_udp_put_packet(udp, NULL, 0), DTLS_OK); /* an empty datagram is allowed */
    CHECK_ERR(dtls_udp_get_packet(udp, buf, sizeof buf, NULL), INVALID);
    CHECK_ERR(dtls_udp_get_packet(udp, NULL, 10, &out_len), INVALID);
    CHECK_ERR(dtls_udp_wait_timeout(udp, -1), INVALID);
    CHECK(dtls_udp_get_packet_ip(udp, NULL, 0) == 9 || dtls_udp_get_packet_ip(udp, NULL, 0) == 0);
    CHECK_ERR(dtls_udp_bind(udp, 0, NULL, 65536), DTLS_ERR_ALREADY_IN_USE);
    dtls_udp_free(udp);

    udp = dtls_udp_new();
    CHECK_ERR(dtls_udp_bind(udp, 0, "127.0.0.1", 0), INVALID);
    CHECK_ERR(dtls_udp_bind(udp, 0, "127.0.0.1", -5), INVALID);
    dtls_udp_free(udp);

    /* Crypto: NULL buffers, zero and huge lengths. */
    CHECK_ERR(dtls_crypto_generate_random_bytes(NULL, 16), INVALID);
    CHECK_ERR(dtls_crypto_generate_random_bytes(NULL, 0), DTLS_OK);
    CHECK_ERR(dtls_crypto_generate_random_bytes(buf, HUGE_LEN), INVALID);
    CHECK(dtls_crypto_generate_rsa(-1) == NULL);
    CHECK(dtls_crypto_generate_rsa(0) == NULL);
    CHECK(dtls_crypto_generate_rsa(1 << 30) == NULL);
    dtls_key *key = dtls_crypto_generate_ec_p256();
    CHECK(key != NULL);
    CHECK_ERR(dtls_crypto_sign(DTLS_HASH_SHA256, NULL, 32, key, buf, sizeof buf, &out_len), INVALID);
    CHECK_ERR(dtls_crypto_sign(DTLS_HASH_SHA256, buf, HUGE_LEN, key, buf, sizeof buf, &out_len), INVALID);
    CHECK_ERR(dtls_crypto_sign(DTLS_HASH_SHA256, buf, 0, key, buf, sizeof buf, &out_len), INVALID);
    CHECK_ERR(dtls_crypto_sign(DTLS_HASH_SHA256, buf, 32, key, NULL, 512, &out_len), INVALID);
    CHECK_ERR(dtls_crypto_sign(DTLS_HASH_SHA256, buf, 32, key, buf, sizeof buf, NULL), INVALID);
    CHECK_ERR(dtls_crypto_sign((dtls_hash_type)99, buf, 32, key, buf, sizeof buf, &out_len), INVALID);
    CHECK(!dtls_crypto_verify(DTLS_HASH_SHA256, NULL, 32, buf, 64, key));
    CHECK(!dtls_crypto_verify(DTLS_HASH_SHA256, buf, 32, NULL, 64, key));
    CHECK(!dtls_crypto_verify(DTLS_HASH_SHA256, buf, HUGE_LEN, buf, HUGE_LEN, key));
    CHECK(!dtls_crypto_verify((dtls_hash_type)-1, buf, 32, buf, 64, key));
    CHECK(dtls_crypto_encrypt(key, NULL, 8, buf, sizeof buf, &out_len) != DTLS_OK);
    CHECK(dtls_crypto_encrypt(key, buf, HUGE_LEN, buf, sizeof buf, &out_len) != DTLS_OK);
    CHECK(dtls_crypto_decrypt(key, buf, HUGE_LEN, buf, sizeof buf, &out_len) != DTLS_OK);
    CHECK(dtls_crypto_decrypt(key, buf, 0, NULL, 0, &out_len) != DTLS_OK);
    CHECK_ERR(dtls_crypto_hmac_digest(DTLS_HASH_SHA256, NULL, 4, buf, 4, buf, sizeof buf, &out_len), INVALID);
    CHECK_ERR(dtls_crypto_hmac_digest(DTLS_HASH_SHA256, buf, 4, NULL, 4, buf, sizeof buf, &out_len), INVALID);
    CHECK_ERR(dtls_crypto_hmac_digest(DTLS_HASH_SHA256, buf, HUGE_LEN, buf, 4, buf, sizeof buf, &out_len), INVALID);
    CHECK_ERR(dtls_crypto_hmac_digest(DTLS_HASH_SHA256, buf, 4, buf, 4, NULL, 32, &out_len), INVALID);
    CHECK_ERR(dtls_crypto_hmac_digest(DTLS_HASH_SHA256, buf, 4, buf, 4, buf, 31, &out_len),
              DTLS_ERR_PARAMETER_RANGE_ERROR);
    CHECK(out_len == 32);
    CHECK_ERR(dtls_crypto_hmac_digest((dtls_hash_type)7, buf, 4, buf, 4, buf, sizeof buf, &out_len), INVALID);
    CHECK(!dtls_crypto_constant_time_compare(NULL, 4, buf, 4));
    CHECK(!dtls_crypto_constant_time_compare(buf, HUGE_LEN, buf, HUGE_LEN));
    CHECK(dtls_crypto_constant_time_compare(NULL, 0, NULL, 0));

    /* Strings out: NULL buffers with cap 0 report the length needed; cap 1 gets only the NUL. */
    char one[1] = {'x'};
    size_t needed = dtls_key_save_to_string(key, false, NULL, 0);
    CHECK(needed > 100);
    CHECK(dtls_key_save_to_string(key, false, one, 1) == needed && one[0] == '\0');
    CHECK_ERR(dtls_key_load_from_string(key, NULL, false), INVALID);
    CHECK_ERR(dtls_key_load_from_string(key, "", false), DTLS_ERR_PARSE_ERROR);
    CHECK_ERR(dtls_key_load(key, NULL, false), INVALID);
    CHECK_ERR(dtls_key_load(key, "", false), INVALID);
    CHECK_ERR(dtls_key_load(key, bad_utf8, false), INVALID);
    CHECK_ERR(dtls_key_load(key, "/", false), INVALID);
    CHECK(dtls_key_save(key, NULL, false) != DTLS_OK);
    CHECK(dtls_key_save(key, "/nonexistent-dir/x.key", false) != DTLS_OK);
    CHECK(dtls_crypto_generate_self_signed_certificate(key, bad_utf8, NULL, NULL) == NULL);
    CHECK(dtls_crypto_generate_self_signed_certificate(key, NULL, "garbage", "also garbage") == NULL);
    CHECK(dtls_crypto_generate_self_signed_certificate(key, NULL, "20300101000000", "20200101000000") == NULL);
    dtls_cert *cert = dtls_cert_new();
    CHECK_ERR(dtls_cert_load_from_string(cert, NULL), INVALID);
    CHECK_ERR(dtls_cert_load(cert, NULL), INVALID);
    CHECK(dtls_cert_save(cert, "/tmp/packetdtls-misuse-empty.crt") != DTLS_OK); /* nothing to save */
    CHECK(dtls_cert_save_to_string(cert, NULL, 0) == 0);
    /* Options: an empty certificate, a public-only key, NULL arguments. */
    CHECK(dtls_options_server(key, NULL) == NULL);
    CHECK(dtls_options_server(NULL, cert) == NULL);
    CHECK(dtls_options_server(key, cert) == NULL);
    dtls_options *options = dtls_options_client_unsafe(NULL);
    CHECK_ERR(dtls_options_set_handshake_timeout(options, 0, 100), INVALID);
    CHECK_ERR(dtls_options_set_handshake_timeout(options, 200, 100), INVALID);
    CHECK_ERR(dtls_options_set_mtu(options, 1), INVALID);
    CHECK_ERR(dtls_options_set_mtu(options, UINT32_MAX), INVALID);
    CHECK_ERR(dtls_options_set_idle_timeout(options, UINT32_MAX), DTLS_OK);
    dtls_server *server = dtls_server_new();
    CHECK_ERR(dtls_server_setup(server, key, cert, NULL), INVALID);
    CHECK_ERR(dtls_server_setup_with_options(server, options), INVALID); /* client options */
    CHECK_ERR(dtls_server_setup(server, NULL, NULL, NULL), INVALID);
    dtls_server_free(server);
    dtls_options_free(options);
    dtls_cert_free(cert);
    dtls_key_free(key);

    /* Library: numbers outside the enums. */
    CHECK(strcmp(dtls_error_string((dtls_error)-1), "ERR_UNKNOWN") == 0);
    CHECK(strcmp(dtls_error_string((dtls_error)1000), "ERR_UNKNOWN") == 0);
    CHECK(strcmp(dtls_status_string((dtls_status)77), "STATUS_UNKNOWN") == 0);
}

static void test_ports_and_names(void) {
    dtls_udp *udp = dtls_udp_new();
    int ports[] = {-1, -65535, 65536, 1 << 30, -2147483647 - 1};
    for (size_t i = 0; i < sizeof ports / sizeof ports[0]; i++) {
        CHECK_ERR(dtls_udp_bind(udp, ports[i], "127.0.0.1", 65536), INVALID);
        CHECK_ERR(dtls_udp_connect_to_host(udp, "127.0.0.1", ports[i]), INVALID);
        CHECK_ERR(dtls_udp_set_dest_address(udp, "127.0.0.1", ports[i]), INVALID);
    }
    CHECK_ERR(dtls_udp_connect_to_host(udp, "127.0.0.1", 0), INVALID);
    CHECK_ERR(dtls_udp_connect_to_host(udp, NULL, 9), INVALID);
    CHECK_ERR(dtls_udp_connect_to_host(udp, "", 9), INVALID);
    CHECK(dtls_udp_connect_to_host(udp, bad_utf8, 9) != DTLS_OK);
    CHECK_MESSAGE();
    CHECK(dtls_udp_set_dest_address(udp, bad_utf8, 9) != DTLS_OK);
    CHECK(dtls_udp_bind(udp, 0, bad_utf8, 65536) != DTLS_OK);
    CHECK(dtls_udp_join_multicast_group(udp, bad_utf8, bad_utf8) != DTLS_OK);
    CHECK(dtls_udp_join_multicast_group(udp, NULL, NULL) != DTLS_OK);
    CHECK(dtls_udp_leave_multicast_group(udp, "224.0.0.1", bad_utf8) != DTLS_OK);
    CHECK(!dtls_udp_is_socket_connected(udp));

    dtls_udp_server *userver = dtls_udp_server_new();
    CHECK_ERR(dtls_udp_server_listen(userver, -1, "127.0.0.1"), INVALID);
    CHECK_ERR(dtls_udp_server_listen(userver, 70000, "127.0.0.1"), INVALID);
    CHECK(dtls_udp_server_listen(userver, 0, bad_utf8) != DTLS_OK);
    CHECK_ERR(dtls_udp_server_poll(userver), DTLS_ERR_UNCONFIGURED);
    CHECK_ERR(dtls_udp_server_set_max_pending_connections(userver, -1), INVALID);
    CHECK(dtls_udp_server_get_max_pending_connections(userver) == 16);
    CHECK_ERR(dtls_udp_server_listen(userver, 0, "127.0.0.1"), DTLS_OK);

    /* A DTLS client over a real, connected socket, with hostile names: refused or failing cleanly. */
    CHECK_ERR(dtls_udp_connect_to_host(udp, "127.0.0.1", dtls_udp_server_get_local_port(userver)), DTLS_OK);
    dtls_peer *peer = dtls_peer_new();
    dtls_options *options = dtls_options_client(NULL, bad_utf8);
    if (options != NULL) {
        dtls_error got = dtls_peer_connect_to_peer_with_options(peer, udp, bad_utf8, options);
        CHECK(got == DTLS_OK || got == DTLS_ERR_UNCONFIGURED || got == INVALID);
        dtls_peer_poll(peer);
        dtls_peer_disconnect_from_peer(peer);
        dtls_options_free(options);
    }
    dtls_options *unsafe = dtls_options_client_unsafe(NULL);
    CHECK_ERR(dtls_peer_connect_to_peer_with_options(peer, udp, bad_utf8, unsafe), DTLS_OK);
    CHECK_ERR(dtls_peer_connect_to_peer_with_options(peer, udp, "x", unsafe), DTLS_ERR_ALREADY_IN_USE);
    CHECK_ERR(dtls_peer_put_packet(peer, (const uint8_t *)"x", 1), DTLS_ERR_UNCONFIGURED);
    uint8_t buf[8];
    size_t out_len;
    CHECK_ERR(dtls_peer_get_packet(peer, NULL, 8, &out_len), INVALID);
    CHECK_ERR(dtls_peer_get_packet(peer, buf, sizeof buf, NULL), INVALID);
    CHECK_ERR(dtls_peer_put_packet(peer, NULL, 4), INVALID);
    CHECK_ERR(dtls_peer_put_packet(peer, buf, HUGE_LEN), INVALID);
    dtls_peer_disconnect_from_peer(peer);
    CHECK_ERR(dtls_peer_poll(peer), DTLS_ERR_UNCONFIGURED);
    /* Server options where client options belong; an unconnected UDP peer. */
    dtls_key *key = dtls_crypto_generate_ec_p256();
    dtls_cert *cert = dtls_crypto_generate_self_signed_certificate(key, "CN=misuse", NULL, NULL);
    dtls_options *server_options = dtls_options_server(key, cert);
    CHECK(server_options != NULL);
    CHECK_ERR(dtls_peer_connect_to_peer_with_options(peer, udp, "localhost", server_options), INVALID);
    dtls_udp *unconnected = dtls_udp_new();
    CHECK_ERR(dtls_peer_connect_to_peer(peer, unconnected, false, NULL, NULL), INVALID);
    dtls_server *server = dtls_server_new();
    CHECK(dtls_server_take_connection(server, unconnected) == NULL); /* not set up */
    CHECK_ERR(dtls_server_setup_with_options(server, server_options), DTLS_OK);
    CHECK(dtls_server_take_connection(server, unconnected) == NULL); /* not connected */
    CHECK(dtls_server_take_connection(server, NULL) == NULL);
    CHECK_ERR(dtls_server_stop(server), DTLS_OK);
    CHECK(dtls_server_take_connection(server, udp) == NULL); /* stopped */
    dtls_server_free(server);
    dtls_udp_free(unconnected);
    dtls_options_free(server_options);
    dtls_cert_free(cert);
    dtls_key_free(key);
    dtls_options_free(unsafe);
    dtls_peer_free(peer);
    dtls_udp_free(udp);
    dtls_udp_server_free(userver);
}

/* Objects freed in any order while still in use by others: nothing dangles. */
static void test_free_order(void) {
    dtls_udp_server *userver = dtls_udp_server_new();
    CHECK_ERR(dtls_udp_server_listen(userver, 0, "127.0.0.1"), DTLS_OK);
    dtls_udp *udp = dtls_udp_new();
    CHECK_ERR(dtls_udp_connect_to_host(udp, "127.0.0.1", dtls_udp_server_get_local_port(userver)), DTLS_OK);
    dtls_options *options = dtls_options_client_unsafe(NULL);
    dtls_peer *peer = dtls_peer_new();
    CHECK_ERR(dtls_peer_connect_to_peer_with_options(peer, udp, NULL, options), DTLS_OK);
    dtls_udp_free(udp);         /* the peer still holds it */
    dtls_options_free(options); /* copied at connect */
    CHECK_ERR(dtls_peer_poll(peer), DTLS_OK);
    CHECK(dtls_udp_server_poll(userver) == DTLS_OK);
    dtls_udp *taken = dtls_udp_server_take_connection(userver);
    CHECK(taken != NULL);
    dtls_udp_server_free(userver); /* the taken peer outlives its server, disconnected */
    CHECK(!dtls_udp_is_socket_connected(taken));
    CHECK(dtls_udp_put_packet(taken, (const uint8_t *)"x", 1) != DTLS_OK);
    dtls_udp_free(taken);
    dtls_peer_free(peer);
}

/* True when the last message names `function` and says its handle is bad. */
static bool names_bad_handle(const char *function) {
    const char *message = dtls_last_error_message();
    return strstr(message, function) == message && strstr(message, "handle is NULL, freed") != NULL;
}

/*
 * A bad handle leaves the same sentence whether the function returns a dtls_error or a neutral
 * value, for dtls_udp_* as for dtls_peer_* and the others: each getter names itself.
 */
static void test_bad_handle_messages(void) {
    dtls_key *key = dtls_key_new(); /* live, but of another class for every call below */
    CHECK(!dtls_udp_is_bound((dtls_udp *)key));
    CHECK(names_bad_handle("dtls_udp_is_bound"));
    CHECK(dtls_udp_get_local_port(NULL) == 0);
    CHECK(names_bad_handle("dtls_udp_get_local_port"));
    CHECK(dtls_udp_get_available_packet_count(NULL) == 0);
    CHECK(names_bad_handle("dtls_udp_get_available_packet_count"));
    CHECK(!dtls_udp_server_is_listening((dtls_udp_server *)key));
    CHECK(names_bad_handle("dtls_udp_server_is_listening"));
    CHECK(dtls_udp_server_get_max_pending_connections(NULL) == 0);
    CHECK(names_bad_handle("dtls_udp_server_get_max_pending_connections"));
    CHECK(dtls_peer_get_status((dtls_peer *)key) == DTLS_STATUS_DISCONNECTED);
    CHECK(names_bad_handle("dtls_peer_get_status"));
    CHECK(dtls_peer_get_max_packet_size(NULL) == 0);
    CHECK(names_bad_handle("dtls_peer_get_max_packet_size"));
    CHECK_ERR(dtls_peer_poll(NULL), INVALID);
    CHECK(names_bad_handle("dtls_peer_poll"));
    CHECK_ERR(dtls_udp_close(NULL), INVALID);
    CHECK(names_bad_handle("dtls_udp_close"));
    CHECK(!dtls_options_is_server((dtls_options *)key));
    CHECK(names_bad_handle("dtls_options_is_server"));
    CHECK(dtls_var_get_type(NULL) == DTLS_VAR_NIL);
    CHECK(names_bad_handle("dtls_var_get_type"));
    dtls_key_free(key);
}

/* Makes the last message one that never mentions SSIZE_MAX, so the next check sees a fresh one. */
static void forget_message(void) { (void)dtls_var_get_type(NULL); }

/* `refused` holds for a call given a size above SSIZE_MAX, and the call said why. */
#define CHECK_HUGE(call, refused)                                                                       \
    do {                                                                                                \
        forget_message();                                                                               \
        CHECK(refused(call));                                                                           \
        CHECK(strstr(dtls_last_error_message(), "SSIZE_MAX") != NULL);                                  \
    } while (0)
#define IS_INVALID(result) ((result) == INVALID)
#define IS_FALSE(result) (!(result))
#define IS_NULL(result) ((result) == NULL)
#define IS_ZERO(result) ((result) == 0 && text[0] == '\0')

/*
 * Every size_t of the header -- lengths, capacities, counts, indices -- with HUGE_LEN (SIZE_MAX, which
 * Swift sees as -1) and HUGE_POSITIVE's neighbour above SSIZE_MAX: each call refuses it with its
 * neutral value and a sentence, on live objects, so the size itself is what is refused.
 */
static void test_sizes_above_ssize_max(void) {
    const size_t huge[] = {HUGE_LEN, HUGE_POSITIVE + 1};
    uint8_t buf[64] = {1, 2, 3};
    char text[64];
    size_t out_len = 0;
    dtls_udp *udp = dtls_udp_new();
    dtls_peer *peer = dtls_peer_new();
    dtls_key *key = dtls_crypto_generate_ec_p256();
    dtls_cert *cert = dtls_crypto_generate_self_signed_certificate(key, NULL, NULL, NULL);
    dtls_options *options = dtls_options_server_psk();
    dtls_var *string = dtls_var_new_string("text");
    dtls_var *bytes = dtls_var_new_bytes(buf, 3);
    dtls_var *array = dtls_var_new_array();
    dtls_var *dict = dtls_var_new_dictionary();
    double xy[2] = {1, 2};
    dtls_var *vector = dtls_var_new_components(DTLS_VAR_VECTOR2, xy, 2);
    dtls_peer_stats stats;
    dtls_udp_stats udp_stats;
    const char *names[] = {"a"};
    CHECK(udp && peer && key && cert && options && string && bytes && array && dict && vector);
    CHECK_ERR(dtls_var_array_append(array, string), DTLS_OK);
    CHECK_ERR(dtls_var_dict_set(dict, string, bytes), DTLS_OK);
    CHECK_ERR(dtls_udp_bind(udp, 0, "127.0.0.1", 65536), DTLS_OK);
    CHECK_ERR(dtls_udp_set_dest_address(udp, "127.0.0.1", dtls_udp_get_local_port(udp)), DTLS_OK);

    for (size_t i = 0; i < sizeof huge / sizeof huge[0]; i++) {
        size_t n = huge[i];
        text[0] = 'x';
        /* PacketPeerUDP */
        CHECK_HUGE(dtls_udp_get_packet_ip(udp, text, n), IS_ZERO);
        CHECK_HUGE(dtls_udp_put_packet(udp, buf, n), IS_INVALID);
        CHECK_HUGE(dtls_udp_get_packet(udp, buf, n, &out_len), IS_INVALID);
        CHECK_HUGE(dtls_udp_get_stats(udp, &udp_stats, n), IS_INVALID);
        /* CryptoKey, X509Certificate */
        CHECK_HUGE(dtls_key_save_to_string(key, false, text, n), IS_ZERO);
        CHECK_HUGE(dtls_cert_save_to_string(cert, text, n), IS_ZERO);
        CHECK_HUGE(dtls_cert_get_public_key_sha256(cert, buf, n, &out_len), IS_INVALID);
        /* Crypto */
        CHECK_HUGE(dtls_crypto_generate_random_bytes(buf, n), IS_INVALID);
        CHECK_HUGE(dtls_crypto_sign(DTLS_HASH_SHA256, buf, n, key, buf, sizeof buf, &out_len), IS_INVALID);
        CHECK_HUGE(dtls_crypto_sign(DTLS_HASH_SHA256, buf, 32, key, buf, n, &out_len), IS_INVALID);
        CHECK_HUGE(dtls_crypto_verify(DTLS_HASH_SHA256, buf, n, buf, 64, key), IS_FALSE);
        CHECK_HUGE(dtls_crypto_verify(DTLS_HASH_SHA256, buf, 32, buf, n, key), IS_FALSE);
        CHECK_HUGE(dtls_crypto_encrypt(key, buf, n, buf, sizeof buf, &out_len), IS_INVALID);
        CHECK_HUGE(dtls_crypto_encrypt(key, buf, 8, buf, n, &out_len), IS_INVALID);
        CHECK_HUGE(dtls_crypto_decrypt(key, buf, n, buf, sizeof buf, &out_len), IS_INVALID);
        CHECK_HUGE(dtls_crypto_decrypt(key, buf, 8, buf, n, &out_len), IS_INVALID);
        CHECK_HUGE(dtls_crypto_hmac_digest(DTLS_HASH_SHA256, buf, n, buf, 4, buf, sizeof buf, &out_len), IS_INVALID);
        CHECK_HUGE(dtls_crypto_hmac_digest(DTLS_HASH_SHA256, buf, 4, buf, n, buf, sizeof buf, &out_len), IS_INVALID);
        CHECK_HUGE(dtls_crypto_hmac_digest(DTLS_HASH_SHA256, buf, 4, buf, 4, buf, n, &out_len), IS_INVALID);
        CHECK_HUGE(dtls_crypto_constant_time_compare(buf, n, buf, 4), IS_FALSE);
        CHECK_HUGE(dtls_crypto_constant_time_compare(buf, 4, buf, n), IS_FALSE);
        /* TLSOptions */
        CHECK_HUGE(dtls_options_get_common_name_override(options, text, n), IS_ZERO);
        CHECK_HUGE(dtls_options_client_psk("id", buf, n), IS_NULL);
        CHECK_HUGE(dtls_options_add_psk(options, "id", buf, n), IS_INVALID);
        CHECK_HUGE(dtls_options_set_alpn_protocols(options, names, n), IS_INVALID);
        CHECK_HUGE(dtls_options_pin_public_key(options, buf, n), IS_INVALID);
        CHECK_HUGE(dtls_options_set_cipher_suites(options, names, n), IS_INVALID);
        /* PacketPeerDTLS */
        CHECK_HUGE(dtls_peer_put_packet(peer, buf, n), IS_INVALID);
        CHECK_HUGE(dtls_peer_get_packet(peer, buf, n, &out_len), IS_INVALID);
        CHECK_HUGE(dtls_peer_get_error_message(peer, text, n), IS_ZERO);
        CHECK_HUGE(dtls_peer_get_ciphersuite(peer, text, n), IS_ZERO);
        CHECK_HUGE(dtls_peer_get_alpn_protocol(peer, text, n), IS_ZERO);
        CHECK_HUGE(dtls_peer_get_verify_text(peer, text, n), IS_ZERO);
        CHECK_HUGE(dtls_peer_get_stats(peer, &stats, n), IS_INVALID);
        /* Variant */
        CHECK_HUGE(dtls_var_new_bytes(buf, n), IS_NULL);
        CHECK_HUGE(dtls_var_new_components(DTLS_VAR_VECTOR2, xy, n), IS_NULL);
        CHECK_HUGE(dtls_var_get_string(string, text, n), IS_ZERO);
        CHECK_HUGE(dtls_var_get_bytes(bytes, buf, n, &out_len), IS_INVALID);
        CHECK_HUGE(dtls_var_get_components(vector, xy, n), IS_FALSE);
        CHECK_HUGE(dtls_var_array_get(array, n), IS_NULL);
        CHECK_HUGE(dtls_var_dict_key_at(dict, n), IS_NULL);
        CHECK_HUGE(dtls_var_dict_value_at(dict, n), IS_NULL);
        CHECK_HUGE(dtls_var_encode(vector, 4, buf, n, &out_len), IS_INVALID);
        CHECK_HUGE(dtls_var_decode(buf, n, 4), IS_NULL);
    }
    /* The values kept their content: nothing was written through a refused size. */
    CHECK(xy[0] == 1 && xy[1] == 2 && buf[0] == 1);
    CHECK(dtls_var_array_size(array) == 1 && dtls_var_dict_size(dict) == 1);

    dtls_var *all[] = {string, bytes, array, dict, vector};
    for (size_t i = 0; i < sizeof all / sizeof all[0]; i++) dtls_var_free(all[i]);
    free_all(udp, NULL, peer, NULL, key, cert, options);
}

int main(void) {
    RUN(test_null_handles);
    RUN(test_freed_handles);
    RUN(test_other_class_handles);
    RUN(test_forged_handles);
    RUN(test_bad_handle_messages);
    RUN(test_buffers_and_lengths);
    RUN(test_sizes_above_ssize_max);
    RUN(test_ports_and_names);
    RUN(test_free_order);
    return check_summary("test_misuse");
}
