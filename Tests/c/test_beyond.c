/*
 * test_beyond.c — what PacketDTLS does beyond Godot, through the C header, over loopback UDP:
 * pre-shared keys, the opt-in AES-CCM suites, ALPN, public-key pinning, client certificates, session
 * resumption, per-peer figures, the key log, shared server keys and port reuse, and bad handles to
 * every function of that section.
 *
 * Build (from the repository root, after `swift build --product packetdtls`):
 *   gcc -std=c99 -Wall -Wextra -Werror -I include -I Tests/c Tests/c/test_beyond.c -L .build/debug \
 *       -lpacketdtls -Wl,-rpath,$PWD/.build/debug -o /tmp/test_beyond && /tmp/test_beyond
 */
#define _POSIX_C_SOURCE 200809L

#include <stdio.h>
#include <sys/stat.h>
#include <unistd.h>

#include "seed_nodes.h"

/* Runs one seeds-style exchange: the server with `server_options`, a client with `client_options`
 * connecting by `hostname`, offering `session` (may be NULL). Leaves both alive for inspection. */
static dtls_status exchange(server_node *s, client_node *c, dtls_options *server_options,
                            dtls_options *client_options, const char *hostname, dtls_session *session) {
    CHECK(server_ready(s, NULL, NULL, server_options));
    client_ready_udp(c, server_port(s));
    if (session) CHECK_ERR(dtls_peer_set_session(c->dtls, session), DTLS_OK);
    CHECK_ERR(dtls_peer_connect_to_peer_with_options(c->dtls, c->udp, hostname, client_options), DTLS_OK);
    run_pair(s, c, 5000);
    return dtls_peer_get_status(c->dtls);
}

static void test_pre_shared_key(void) {
    static const uint8_t key[16] = {1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16};
    dtls_options *server_options = dtls_options_server_psk();
    CHECK_ERR(dtls_options_add_psk(server_options, "player-1", key, sizeof key), DTLS_OK);
    dtls_options *client_options = dtls_options_client_psk("player-1", key, sizeof key);
    CHECK(client_options != NULL);
    server_node s;
    client_node c;
    CHECK(exchange(&s, &c, server_options, client_options, "localhost", NULL) == DTLS_STATUS_CONNECTED);
    CHECK(strcmp(c.reply, REPLY) == 0);
    char suite[128];
    dtls_peer_get_ciphersuite(c.dtls, suite, sizeof suite);
    CHECK(strstr(suite, "PSK") != NULL);
    CHECK(dtls_peer_get_peer_certificate(c.dtls) == NULL);
    client_free(&c);
    server_free(&s);

    CHECK(dtls_options_client_psk("x", key, 33) == NULL);
    CHECK(dtls_options_client_psk(NULL, key, sizeof key) == NULL);
    CHECK(dtls_options_client_psk("x", NULL, 4) == NULL);
    CHECK_ERR(dtls_options_add_psk(client_options, "x", key, sizeof key), DTLS_ERR_INVALID_PARAMETER);
    dtls_options_free(client_options);
    dtls_options_free(server_options);
}

/* The AES-CCM suites of constrained devices (CoAP's CCM_8 pair): taken only when named, on both ends. */
static void test_ccm_suites(void) {
    static const uint8_t key[16] = {1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16};
    const char *psk_ccm8[] = {"TLS_PSK_WITH_AES_128_CCM_8"};
    const char *ecdsa_ccm8[] = {"TLS_ECDHE_ECDSA_WITH_AES_128_CCM_8"};
    char suite[128];
    server_node s;
    client_node c;

    dtls_options *psk_server = dtls_options_server_psk();
    CHECK_ERR(dtls_options_add_psk(psk_server, "sensor-1", key, sizeof key), DTLS_OK);
    CHECK_ERR(dtls_options_set_cipher_suites(psk_server, psk_ccm8, 1), DTLS_OK);
    dtls_options *psk_client = dtls_options_client_psk("sensor-1", key, sizeof key);
    CHECK_ERR(dtls_options_set_cipher_suites(psk_client, psk_ccm8, 1), DTLS_OK);
    CHECK(exchange(&s, &c, psk_server, psk_client, "", NULL) == DTLS_STATUS_CONNECTED);
    CHECK(strcmp(c.reply, REPLY) == 0);
    dtls_peer_get_ciphersuite(c.dtls, suite, sizeof suite);
    CHECK(strcmp(suite, psk_ccm8[0]) == 0);
    CHECK(dtls_peer_get_max_packet_size(c.dtls) >= 16000);
    client_free(&c);
    server_free(&s);

    dtls_options *ecdsa_server = dtls_options_server(g_key, g_cert);
    CHECK_ERR(dtls_options_set_cipher_suites(ecdsa_server, ecdsa_ccm8, 1), DTLS_OK);
    dtls_options *ecdsa_client = dtls_options_client(g_cert, NULL);
    CHECK_ERR(dtls_options_set_cipher_suites(ecdsa_client, ecdsa_ccm8, 1), DTLS_OK);
    CHECK(exchange(&s, &c, ecdsa_server, ecdsa_client, "localhost", NULL) == DTLS_STATUS_CONNECTED);
    dtls_peer_get_ciphersuite(c.dtls, suite, sizeof suite);
    CHECK(strcmp(suite, ecdsa_ccm8[0]) == 0);
    client_free(&c);
    server_free(&s);

    /* A server left on the defaults shares nothing with a CCM-only client. */
    dtls_options *default_server = dtls_options_server(g_key, g_cert);
    CHECK(exchange(&s, &c, default_server, ecdsa_client, "localhost", NULL) != DTLS_STATUS_CONNECTED);
    client_free(&c);
    server_free(&s);

    dtls_options_free(default_server);
    dtls_options_free(ecdsa_client);
    dtls_options_free(ecdsa_server);
    dtls_options_free(psk_client);
    dtls_options_free(psk_server);
}

static void test_alpn_and_stats(void) {
    dtls_options *server_options = dtls_options_server(g_key, g_cert);
    const char *server_protocols[] = {"game/2", "game/1"};
    CHECK_ERR(dtls_options_set_alpn_protocols(server_options, server_protocols, 2), DTLS_OK);
    dtls_options *client_options = dtls_options_client_unsafe(NULL);
    const char *client_protocols[] = {"game/1"};
    CHECK_ERR(dtls_options_set_alpn_protocols(client_options, client_protocols, 1), DTLS_OK);
    server_node s;
    client_node c;
    CHECK(exchange(&s, &c, server_options, client_options, "localhost", NULL) == DTLS_STATUS_CONNECTED);
    char protocol[32];
    CHECK(dtls_peer_get_alpn_protocol(c.dtls, protocol, sizeof protocol) == 6);
    CHECK(strcmp(protocol, "game/1") == 0);

    dtls_peer_stats stats;
    CHECK_ERR(dtls_peer_get_stats(c.dtls, &stats, sizeof stats), DTLS_OK);
    CHECK(stats.packets_sent == 1 && stats.bytes_sent == strlen(MESSAGE));
    CHECK(stats.packets_received == 1 && stats.bytes_received == strlen(REPLY));
    CHECK(stats.datagrams_sent >= 3 && stats.datagrams_received >= 3);
    CHECK(stats.records_dropped_bad_mac == 0);
    CHECK_ERR(dtls_peer_get_stats(c.dtls, NULL, sizeof stats), DTLS_ERR_INVALID_PARAMETER);
    uint64_t first_two[2] = {0, 0};
    CHECK_ERR(dtls_peer_get_stats(c.dtls, (dtls_peer_stats *)(void *)first_two, sizeof first_two), DTLS_OK);
    CHECK(first_two[0] == 1 && first_two[1] == 1); /* an older, shorter struct gets its prefix */

    const char *aes[] = {"TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384"};
    CHECK_ERR(dtls_options_set_cipher_suites(client_options, aes, 1), DTLS_OK);
    const char *cbc[] = {"TLS_ECDHE_ECDSA_WITH_AES_128_CBC_SHA256"};
    CHECK_ERR(dtls_options_set_cipher_suites(client_options, cbc, 1), DTLS_ERR_INVALID_PARAMETER);
    CHECK_ERR(dtls_options_set_cipher_suites(client_options, NULL, 1), DTLS_ERR_INVALID_PARAMETER);
    CHECK_ERR(dtls_options_set_cipher_suites(NULL, aes, 1), DTLS_ERR_INVALID_PARAMETER);
    const char *bad[] = {""};
    CHECK_ERR(dtls_options_set_alpn_protocols(client_options, bad, 1), DTLS_ERR_INVALID_PARAMETER);
    CHECK_ERR(dtls_options_set_alpn_protocols(client_options, NULL, 2), DTLS_ERR_INVALID_PARAMETER);
    client_free(&c);
    server_free(&s);
    dtls_options_free(client_options);
    dtls_options_free(server_options);
}

static void test_pinning(void) {
    uint8_t pin[32];
    size_t len = 0;
    CHECK_ERR(dtls_cert_get_public_key_sha256(g_cert, pin, sizeof pin, &len), DTLS_OK);
    CHECK(len == 32);
    CHECK_ERR(dtls_cert_get_public_key_sha256(g_cert, pin, 8, &len), DTLS_ERR_PARAMETER_RANGE_ERROR);

    dtls_options *server_options = dtls_options_server(g_key, g_cert);
    dtls_options *pinned = dtls_options_client_unsafe(NULL);
    CHECK_ERR(dtls_options_pin_public_key(pinned, pin, sizeof pin), DTLS_OK);
    server_node s;
    client_node c;
    CHECK(exchange(&s, &c, server_options, pinned, "any.name", NULL) == DTLS_STATUS_CONNECTED);
    client_free(&c);
    server_free(&s);

    dtls_options *wrong = dtls_options_client_unsafe(NULL);
    CHECK_ERR(dtls_options_pin_certificate(wrong, g_other_cert), DTLS_OK);
    CHECK(exchange(&s, &c, server_options, wrong, "localhost", NULL) == DTLS_STATUS_ERROR);
    char message[256];
    dtls_peer_get_error_message(c.dtls, message, sizeof message);
    CHECK(strstr(message, "pinned") != NULL);
    client_free(&c);
    server_free(&s);
    CHECK_ERR(dtls_options_pin_public_key(wrong, pin, 31), DTLS_ERR_INVALID_PARAMETER);
    dtls_options_free(wrong);
    dtls_options_free(pinned);
    dtls_options_free(server_options);
}

static void test_client_certificate(void) {
    dtls_options *server_options = dtls_options_server(g_key, g_cert);
    CHECK_ERR(dtls_options_set_client_certificate_mode(server_options, DTLS_CLIENT_CERT_REQUIRE, g_other_cert),
              DTLS_OK);
    dtls_options *client_options = dtls_options_client(g_cert, NULL);
    CHECK_ERR(dtls_options_set_client_certificate(client_options, g_other_key, g_other_cert), DTLS_OK);
    server_node s;
    client_node c;
    CHECK(exchange(&s, &c, server_options, client_options, "localhost", NULL) == DTLS_STATUS_CONNECTED);
    CHECK(s.peer_count == 1);
    dtls_cert *seen = s.peer_count ? dtls_peer_get_peer_certificate(s.peers[0]) : NULL;
    CHECK(seen != NULL);
    uint8_t a[32], b[32];
    size_t la = 0, lb = 0;
    dtls_cert_get_public_key_sha256(seen, a, sizeof a, &la);
    dtls_cert_get_public_key_sha256(g_other_cert, b, sizeof b, &lb);
    CHECK(la == 32 && lb == 32 && memcmp(a, b, 32) == 0);
    dtls_cert_free(seen);
    client_free(&c);
    server_free(&s);

    dtls_options *anonymous = dtls_options_client(g_cert, NULL);
    CHECK(exchange(&s, &c, server_options, anonymous, "localhost", NULL) != DTLS_STATUS_CONNECTED);
    client_free(&c);
    server_free(&s);
    CHECK_ERR(dtls_options_set_client_certificate_mode(server_options, DTLS_CLIENT_CERT_REQUIRE, NULL),
              DTLS_ERR_INVALID_PARAMETER);
    CHECK_ERR(dtls_options_set_client_certificate_mode(server_options, (dtls_client_cert_mode)7, g_cert),
              DTLS_ERR_INVALID_PARAMETER);
    CHECK_ERR(dtls_options_set_client_certificate(server_options, g_key, g_cert), DTLS_ERR_INVALID_PARAMETER);
    dtls_options_free(anonymous);
    dtls_options_free(client_options);
    dtls_options_free(server_options);
}

static void test_session_resumption(void) {
    dtls_options *server_options = dtls_options_server(g_key, g_cert);
    dtls_options *client_options = dtls_options_client(g_cert, NULL);
    server_node s;
    client_node c;
    CHECK(exchange(&s, &c, server_options, client_options, "localhost", NULL) == DTLS_STATUS_CONNECTED);
    CHECK(!dtls_peer_is_session_resumed(c.dtls));
    dtls_session *session = dtls_peer_get_session(c.dtls);
    CHECK(session != NULL);
    client_free(&c);

    /* A second client of the same server offers the saved session. */
    client_ready_udp(&c, server_port(&s));
    CHECK_ERR(dtls_peer_set_session(c.dtls, session), DTLS_OK);
    CHECK_ERR(dtls_peer_connect_to_peer_with_options(c.dtls, c.udp, "localhost", client_options), DTLS_OK);
    run_pair(&s, &c, 5000);
    CHECK(dtls_peer_get_status(c.dtls) == DTLS_STATUS_CONNECTED);
    CHECK(dtls_peer_is_session_resumed(c.dtls));
    CHECK(strcmp(c.reply, REPLY) == 0);
    client_free(&c);
    server_free(&s);
    dtls_session_free(session);
    dtls_options_free(client_options);
    dtls_options_free(server_options);
}

static void test_key_log(void) {
    char path[] = "/tmp/packetdtls-keylog-XXXXXX";
    int fd = mkstemp(path);
    CHECK(fd >= 0);
    close(fd);
    unlink(path);
    dtls_options *server_options = dtls_options_server(g_key, g_cert);
    dtls_options *client_options = dtls_options_client_unsafe(NULL);
    CHECK_ERR(dtls_options_set_key_log_file(client_options, path), DTLS_OK);
    server_node s;
    client_node c;
    CHECK(exchange(&s, &c, server_options, client_options, "localhost", NULL) == DTLS_STATUS_CONNECTED);
    FILE *log = fopen(path, "r");
    CHECK(log != NULL);
    char line[256] = "";
    if (log) {
        CHECK(fgets(line, sizeof line, log) != NULL);
        fclose(log);
    }
    CHECK(strncmp(line, "CLIENT_RANDOM ", 14) == 0 && strlen(line) == 14 + 64 + 1 + 96 + 1);
    struct stat info;
    CHECK(stat(path, &info) == 0 && (info.st_mode & 0777) == 0600);
    unlink(path);
    client_free(&c);
    server_free(&s);
    dtls_options_free(client_options);
    dtls_options_free(server_options);
}

/* EMS is required by default on both ends; a server that opts out still uses it with our client. */
static void test_extended_master_secret(void) {
    dtls_options *server_options = dtls_options_server(g_key, g_cert);
    dtls_options *client_options = dtls_options_client(g_cert, NULL);
    CHECK_ERR(dtls_options_set_extended_master_secret_required(server_options, false), DTLS_OK);
    CHECK_ERR(dtls_options_set_extended_master_secret_required(client_options, true), DTLS_OK);
    server_node s;
    client_node c;
    CHECK(exchange(&s, &c, server_options, client_options, "localhost", NULL) == DTLS_STATUS_CONNECTED);
    client_free(&c);
    server_free(&s);
    dtls_options_free(client_options);
    dtls_options_free(server_options);
}

/* Settings that contradict each other are refused when the server starts, with a sentence. */
static void test_contradictions_are_refused(void) {
    static const uint8_t psk[16] = {1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16};
    dtls_server *server = dtls_server_new();
    dtls_options *requiring = dtls_options_server(g_key, g_cert);
    CHECK_ERR(dtls_options_set_client_certificate_mode(requiring, DTLS_CLIENT_CERT_REQUIRE, g_cert), DTLS_OK);
    CHECK_ERR(dtls_options_add_psk(requiring, "alice", psk, sizeof psk), DTLS_OK);
    CHECK_ERR(dtls_server_setup_with_options(server, requiring), DTLS_ERR_INVALID_PARAMETER);
    CHECK(strstr(dtls_last_error_message(), "REQUIRE") != NULL);
    dtls_options *psk_only = dtls_options_server_psk();
    const char *certificate_suite[] = {"TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256"};
    CHECK_ERR(dtls_options_add_psk(psk_only, "alice", psk, sizeof psk), DTLS_OK);
    CHECK_ERR(dtls_options_set_cipher_suites(psk_only, certificate_suite, 1), DTLS_OK);
    CHECK_ERR(dtls_server_setup_with_options(server, psk_only), DTLS_ERR_INVALID_PARAMETER);
    CHECK(strstr(dtls_last_error_message(), "needs a certificate") != NULL);
    CHECK_ERR(dtls_options_pin_certificate(requiring, g_cert), DTLS_ERR_INVALID_PARAMETER);
    dtls_options_free(psk_only);
    dtls_options_free(requiring);
    dtls_server_free(server);
}

/* A key log that others may read is refused, and the log stays off. */
static void test_key_log_refusals(void) {
    char path[] = "/tmp/packetdtls-keylog-XXXXXX";
    int fd = mkstemp(path);
    CHECK(fd >= 0);
    CHECK(fchmod(fd, 0644) == 0);
    close(fd);
    dtls_options *options = dtls_options_client_unsafe(NULL);
    CHECK_ERR(dtls_options_set_key_log_file(options, path), DTLS_ERR_FILE_NO_PERMISSION);
    CHECK_ERR(dtls_options_set_key_log_file(options, "/nonexistent-dir/keys.log"), DTLS_ERR_FILE_CANT_OPEN);
    CHECK(chmod(path, 0600) == 0);
    CHECK_ERR(dtls_options_set_key_log_file(options, path), DTLS_OK);
    unlink(path);
    dtls_options_free(options);
}

static void test_hibernation(void) {
    server_node s;
    client_node c;
    CHECK(server_ready(&s, g_key, g_cert, NULL));
    CHECK_ERR(dtls_server_set_hibernate_after_ms(s.dtls, 1), DTLS_OK);
    client_ready(&c, server_port(&s));
    CHECK_ERR(dtls_peer_set_hibernate_after_ms(c.dtls, 1), DTLS_OK);
    run_pair(&s, &c, 5000);
    CHECK(c.connected && s.peer_count == 1);
    /* A message each way was exchanged: both ends let the handshake go and fall asleep. */
    POLL_UNTIL(dtls_peer_is_hibernated(c.dtls) && dtls_peer_is_hibernated(s.peers[0]),
               (server_process(&s), client_process(&c), tiny_wait()), 5000);
    CHECK(dtls_peer_is_hibernated(c.dtls) && dtls_peer_is_hibernated(s.peers[0]));
    CHECK(dtls_peer_get_status(c.dtls) == DTLS_STATUS_CONNECTED);
    CHECK(dtls_peer_get_max_packet_size(c.dtls) > 0);
    /* A put wakes the client, its datagram the server's peer, which answers (server_process). */
    c.connected = false;
    c.reply[0] = '\0';
    CHECK_ERR(dtls_peer_put_packet(c.dtls, (const uint8_t *)MESSAGE, strlen(MESSAGE)), DTLS_OK);
    CHECK(!dtls_peer_is_hibernated(c.dtls));
    run_pair(&s, &c, 5000);
    CHECK(strcmp(c.reply, REPLY) == 0 && s.received == 2);
    dtls_peer_stats stats;
    CHECK_ERR(dtls_peer_get_stats(s.peers[0], &stats, sizeof stats), DTLS_OK);
    CHECK(stats.hibernations >= 1 && stats.wakes >= 1 && stats.packets_received == 2);
    CHECK_ERR(dtls_peer_get_stats(c.dtls, &stats, sizeof stats), DTLS_OK);
    CHECK(stats.hibernations >= 1 && stats.wakes >= 1 && stats.packets_sent == 2);
    /* 0 turns it off, waking a sleeping session. */
    POLL_UNTIL(dtls_peer_is_hibernated(c.dtls), (server_process(&s), client_process(&c), tiny_wait()), 5000);
    CHECK_ERR(dtls_peer_set_hibernate_after_ms(c.dtls, 0), DTLS_OK);
    CHECK(!dtls_peer_is_hibernated(c.dtls));
    client_free(&c);
    server_free(&s);
}

static void test_bad_handles(void) {
    dtls_options *bogus = (dtls_options *)(uintptr_t)0x1234;
    dtls_peer *freed = dtls_peer_new();
    dtls_peer_free(freed);
    uint8_t digest[32] = {0};
    const char *names[] = {"a"};
    CHECK_ERR(dtls_options_add_psk(bogus, "a", digest, 4), DTLS_ERR_INVALID_PARAMETER);
    CHECK_ERR(dtls_options_set_alpn_protocols(bogus, names, 1), DTLS_ERR_INVALID_PARAMETER);
    CHECK_ERR(dtls_options_pin_public_key(NULL, digest, 32), DTLS_ERR_INVALID_PARAMETER);
    CHECK_ERR(dtls_options_pin_certificate(bogus, g_cert), DTLS_ERR_INVALID_PARAMETER);
    CHECK_ERR(dtls_options_set_client_certificate(bogus, g_key, g_cert), DTLS_ERR_INVALID_PARAMETER);
    CHECK_ERR(dtls_options_set_client_certificate_mode(bogus, DTLS_CLIENT_CERT_NONE, NULL),
              DTLS_ERR_INVALID_PARAMETER);
    CHECK_ERR(dtls_options_load_crl(bogus, "/nonexistent"), DTLS_ERR_INVALID_PARAMETER);
    CHECK_ERR(dtls_options_load_crl_from_string(bogus, "x"), DTLS_ERR_INVALID_PARAMETER);
    CHECK_ERR(dtls_options_set_session_tickets(bogus, true), DTLS_ERR_INVALID_PARAMETER);
    CHECK_ERR(dtls_options_set_key_log_file(bogus, "/tmp/x"), DTLS_ERR_INVALID_PARAMETER);
    CHECK_ERR(dtls_options_set_extended_master_secret_required(bogus, false), DTLS_ERR_INVALID_PARAMETER);
    size_t len = 0;
    CHECK_ERR(dtls_cert_get_public_key_sha256((dtls_cert *)g_key, digest, 32, &len), DTLS_ERR_INVALID_PARAMETER);
    CHECK(dtls_peer_get_session(freed) == NULL);
    CHECK_ERR(dtls_peer_set_session(freed, NULL), DTLS_ERR_INVALID_PARAMETER);
    CHECK(!dtls_peer_is_session_resumed(freed));
    char text[16];
    CHECK(dtls_peer_get_alpn_protocol(freed, text, sizeof text) == 0 && text[0] == '\0');
    CHECK(dtls_peer_get_peer_certificate(freed) == NULL);
    CHECK(dtls_peer_get_verify_flags(freed) == 0);
    CHECK(dtls_peer_get_verify_text(freed, text, sizeof text) == 0);
    CHECK(dtls_peer_get_last_alert(freed) == -1);
    dtls_peer_stats stats;
    CHECK_ERR(dtls_peer_get_stats(freed, &stats, sizeof stats), DTLS_ERR_INVALID_PARAMETER);
    CHECK_ERR(dtls_peer_set_hibernate_after_ms(freed, 5), DTLS_ERR_INVALID_PARAMETER);
    CHECK(!dtls_peer_is_hibernated(freed));
    CHECK_ERR(dtls_server_set_hibernate_after_ms((dtls_server *)freed, 5), DTLS_ERR_INVALID_PARAMETER);
    CHECK_ERR(dtls_server_set_hibernate_after_ms(NULL, 5), DTLS_ERR_INVALID_PARAMETER);
    dtls_peer *live = dtls_peer_new();
    CHECK_ERR(dtls_peer_set_session(live, (dtls_session *)live), DTLS_ERR_INVALID_PARAMETER);
    dtls_peer_free(live);
    dtls_session_free(NULL);
    dtls_session_free((dtls_session *)bogus);

    dtls_options *options = dtls_options_client_unsafe(NULL);
    CHECK_ERR(dtls_options_load_crl(options, "/nonexistent/crl.pem"), DTLS_ERR_INVALID_PARAMETER);
    CHECK_ERR(dtls_options_load_crl_from_string(options, "not a crl"), DTLS_ERR_PARSE_ERROR);
    dtls_options_free(options);
}

/* Two servers sharing one key file: a session made on one resumes on the other; after two
 * rotations it gets a full handshake; a damaged file is refused; two UDP servers share a port. */
static void test_shared_keys_and_reuse_port(void) {
    char path[] = "/tmp/packetdtls-keys-XXXXXX";
    int fd = mkstemp(path);
    CHECK(fd >= 0);
    close(fd);
    dtls_options *server_options = dtls_options_server(g_key, g_cert);
    dtls_options *client_options = dtls_options_client(g_cert, NULL);
    server_node first, second;
    client_node c;
    CHECK(exchange(&first, &c, server_options, client_options, "localhost", NULL) == DTLS_STATUS_CONNECTED);
    dtls_session *session = dtls_peer_get_session(c.dtls);
    CHECK(session != NULL);
    client_free(&c);
    CHECK_ERR(dtls_server_save_keys(first.dtls, path), DTLS_OK);
    struct stat info;
    CHECK(stat(path, &info) == 0 && (info.st_mode & 0777) == 0600 && info.st_size == 180);

    CHECK(server_ready(&second, NULL, NULL, server_options));
    CHECK_ERR(dtls_server_load_keys(second.dtls, path), DTLS_OK);
    client_ready_udp(&c, server_port(&second));
    CHECK_ERR(dtls_peer_set_session(c.dtls, session), DTLS_OK);
    CHECK_ERR(dtls_peer_connect_to_peer_with_options(c.dtls, c.udp, "localhost", client_options), DTLS_OK);
    run_pair(&second, &c, 5000);
    CHECK(dtls_peer_get_status(c.dtls) == DTLS_STATUS_CONNECTED);
    CHECK(dtls_peer_is_session_resumed(c.dtls));
    client_free(&c);

    CHECK_ERR(dtls_server_rotate_keys(second.dtls), DTLS_OK);
    CHECK_ERR(dtls_server_rotate_keys(second.dtls), DTLS_OK);
    client_ready_udp(&c, server_port(&second));
    CHECK_ERR(dtls_peer_set_session(c.dtls, session), DTLS_OK);
    CHECK_ERR(dtls_peer_connect_to_peer_with_options(c.dtls, c.udp, "localhost", client_options), DTLS_OK);
    run_pair(&second, &c, 5000);
    CHECK(dtls_peer_get_status(c.dtls) == DTLS_STATUS_CONNECTED);
    CHECK(!dtls_peer_is_session_resumed(c.dtls));
    client_free(&c);

    CHECK(truncate(path, 100) == 0);
    CHECK_ERR(dtls_server_load_keys(second.dtls, path), DTLS_ERR_FILE_CORRUPT);
    CHECK(strstr(dtls_last_error_message(), "100 bytes") != NULL);
    CHECK_ERR(dtls_server_load_keys(second.dtls, NULL), DTLS_ERR_INVALID_PARAMETER);
    CHECK_ERR(dtls_server_save_keys(second.dtls, NULL), DTLS_ERR_INVALID_PARAMETER);
    CHECK_ERR(dtls_server_load_keys(NULL, path), DTLS_ERR_INVALID_PARAMETER);
    CHECK_ERR(dtls_server_save_keys((dtls_server *)g_key, path), DTLS_ERR_INVALID_PARAMETER);
    CHECK_ERR(dtls_server_rotate_keys(NULL), DTLS_ERR_INVALID_PARAMETER);
    unlink(path);
    server_free(&first);
    server_free(&second);
    dtls_session_free(session);

    dtls_udp_server *a = dtls_udp_server_new(), *b = dtls_udp_server_new(), *plain = dtls_udp_server_new();
    CHECK_ERR(dtls_udp_server_set_reuse_port(a, true), DTLS_OK);
    CHECK_ERR(dtls_udp_server_listen(a, 0, "127.0.0.1"), DTLS_OK);
    int port = dtls_udp_server_get_local_port(a);
    CHECK_ERR(dtls_udp_server_listen(plain, port, "127.0.0.1"), DTLS_ERR_UNAVAILABLE);
    CHECK_ERR(dtls_udp_server_set_reuse_port(b, true), DTLS_OK);
    CHECK_ERR(dtls_udp_server_listen(b, port, "127.0.0.1"), DTLS_OK);
    CHECK_ERR(dtls_udp_server_set_reuse_port(b, false), DTLS_ERR_ALREADY_IN_USE);
    CHECK_ERR(dtls_udp_server_set_reuse_port(NULL, true), DTLS_ERR_INVALID_PARAMETER);
    dtls_udp_server_free(a);
    dtls_udp_server_free(b);
    dtls_udp_server_free(plain);
    dtls_options_free(client_options);
    dtls_options_free(server_options);
}

int main(void) {
    if (!make_identities()) {
        fprintf(stderr, "could not make test identities: %s\n", dtls_last_error_message());
        return 1;
    }
    RUN(test_pre_shared_key);
    RUN(test_ccm_suites);
    RUN(test_alpn_and_stats);
    RUN(test_pinning);
    RUN(test_client_certificate);
    RUN(test_session_resumption);
    RUN(test_key_log);
    RUN(test_extended_master_secret);
    RUN(test_contradictions_are_refused);
    RUN(test_key_log_refusals);
    RUN(test_shared_keys_and_reuse_port);
    RUN(test_hibernation);
    RUN(test_bad_handles);
    free_identities();
    return check_summary("test_beyond");
}
