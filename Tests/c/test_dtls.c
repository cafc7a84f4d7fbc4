/*
 * test_dtls.c — the seeds' DTLSServer example (server_node.gd + client_node.gd) in C, in one process,
 * over real loopback UDP: a UDPServer and a DTLSServer on one side, PacketPeerUDP + PacketPeerDTLS
 * clients on the other, both polled by one bounded loop as Godot's _process() would.
 *
 * Also: the cookie round trip, many clients on one server, certificate verification (trusted,
 * wrong name, untrusted, expired), a server that is not set up, bad handles to every dtls_peer_* and
 * dtls_server_* function, a peer vanishing mid-handshake, and garbage datagrams around a session.
 *
 * Build (from the repository root, after `swift build --product packetdtls`):
 *   gcc -std=c99 -Wall -Wextra -Werror -I include Tests/c/test_dtls.c -L .build/debug -lpacketdtls \
 *       -Wl,-rpath,$PWD/.build/debug -o /tmp/test_dtls && /tmp/test_dtls
 */
#define _POSIX_C_SOURCE 200809L

#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <unistd.h>

#include "check.h"

#define MESSAGE "The answer is... 42!"
#define REPLY "Hello DTLS client"
#define MAX_PEERS 64
#define MAX_CLIENTS 20

#include "seed_nodes.h"

/* MARK: - The seeds' example */

static void test_seed_example_loopback(void) {
    server_node s;
    client_node c;
    CHECK(server_ready(&s, g_key, g_cert, NULL));
    client_ready(&c, server_port(&s));
    CHECK(dtls_peer_get_status(c.dtls) == DTLS_STATUS_HANDSHAKING);
    run_pair(&s, &c, 5000);

    CHECK(dtls_peer_get_status(c.dtls) == DTLS_STATUS_CONNECTED);
    CHECK(s.peer_count == 1);
    CHECK(s.not_handshaking >= 1); /* the cookie exchange happened */
    CHECK(s.received == 1 && s.replied == 1);
    CHECK(strcmp(s.last_message, MESSAGE) == 0);
    CHECK(c.connected);
    CHECK(strcmp(c.reply, REPLY) == 0);

    char suite[128];
    CHECK(dtls_peer_get_ciphersuite(c.dtls, suite, sizeof suite) > 0);
    CHECK(dtls_peer_get_max_packet_size(c.dtls) > 0);

    /* A second exchange on the same session, then close_notify reaches the server's peer. */
    c.connected = false;
    c.reply[0] = '\0';
    strcpy(c.message, "again");
    run_pair(&s, &c, 3000);
    CHECK(strcmp(s.last_message, "again") == 0);
    CHECK(strcmp(c.reply, REPLY) == 0);
    CHECK_ERR(dtls_peer_disconnect_from_peer(c.dtls), DTLS_OK);
    CHECK(dtls_peer_get_status(c.dtls) == DTLS_STATUS_DISCONNECTED);
    POLL_UNTIL(dtls_peer_get_status(s.peers[0]) == DTLS_STATUS_DISCONNECTED, (server_process(&s), tiny_wait()), 2000);
    CHECK(dtls_peer_get_status(s.peers[0]) == DTLS_STATUS_DISCONNECTED);
    client_free(&c);
    server_free(&s);
}

/* The 3.x seed (004): dtls.setup(key, cert) instead of TLSOptions. */
static void test_seed_example_3x_setup(void) {
    server_node s;
    client_node c;
    CHECK(server_ready(&s, g_key, g_cert, NULL));
    CHECK_ERR(dtls_server_setup(s.dtls, g_key, g_cert, NULL), DTLS_OK);
    client_ready(&c, server_port(&s));
    run_pair(&s, &c, 5000);
    CHECK(strcmp(c.reply, REPLY) == 0);
    CHECK(strcmp(s.last_message, MESSAGE) == 0);
    client_free(&c);
    server_free(&s);
}

/* The first take_connection answers with a HelloVerifyRequest; only the ClientHello with the cookie starts a
 * handshake. */
static void test_cookie_round_trip(void) {
    server_node s;
    client_node c;
    CHECK(server_ready(&s, g_key, g_cert, NULL));
    client_ready(&c, server_port(&s)); /* sends the first ClientHello */

    POLL_UNTIL(dtls_udp_server_is_connection_available(s.server), (dtls_udp_server_poll(s.server), tiny_wait()), 2000);
    dtls_udp *first_udp = dtls_udp_server_take_connection(s.server);
    CHECK(first_udp != NULL);
    dtls_peer *first = dtls_server_take_connection(s.dtls, first_udp);
    CHECK(first != NULL);
    CHECK(dtls_peer_get_status(first) != DTLS_STATUS_HANDSHAKING);
    CHECK(dtls_peer_get_status(first) == DTLS_STATUS_DISCONNECTED);
    dtls_peer_free(first);
    dtls_udp_free(first_udp);

    /* The client reads the HelloVerifyRequest and sends its ClientHello again, with the cookie. */
    POLL_UNTIL(dtls_udp_server_is_connection_available(s.server),
               (dtls_peer_poll(c.dtls), dtls_udp_server_poll(s.server), tiny_wait()), 2000);
    dtls_udp *second_udp = dtls_udp_server_take_connection(s.server);
    CHECK(second_udp != NULL);
    dtls_peer *second = dtls_server_take_connection(s.dtls, second_udp);
    CHECK(dtls_peer_get_status(second) == DTLS_STATUS_HANDSHAKING);
    dtls_udp_free(second_udp);
    s.peers[s.peer_count++] = second;

    run_pair(&s, &c, 5000);
    CHECK(strcmp(c.reply, REPLY) == 0);
    CHECK(s.peer_count == 1);
    client_free(&c);
    server_free(&s);
}

static void test_many_clients(void) {
    static client_node clients[MAX_CLIENTS];
    server_node s;
    CHECK(server_ready(&s, g_key, g_cert, NULL));
    for (int i = 0; i < MAX_CLIENTS; i++) {
        client_ready(&clients[i], server_port(&s));
        snprintf(clients[i].message, sizeof clients[i].message, "%s #%d", MESSAGE, i);
    }
    long long started = check_now_ms();
    long long deadline = started + 20000;
    int done = 0;
    while (done < MAX_CLIENTS && check_now_ms() < deadline) {
        server_process(&s);
        done = 0;
        for (int i = 0; i < MAX_CLIENTS; i++) {
            client_process(&clients[i]);
            done += clients[i].connected;
        }
        tiny_wait();
    }
    printf("     %d of %d clients exchanged in %lld ms\n", done, MAX_CLIENTS, check_now_ms() - started);
    CHECK(done == MAX_CLIENTS);
    CHECK(s.peer_count == MAX_CLIENTS);
    CHECK(s.received == MAX_CLIENTS && s.replied == MAX_CLIENTS);
    for (int i = 0; i < MAX_CLIENTS; i++) {
        CHECK(strcmp(clients[i].reply, REPLY) == 0);
        client_free(&clients[i]);
    }
    server_free(&s);
}

/* MARK: - Verification */

/* Connects a 4.x client (options, hostname) to a server with (key, cert) and runs the pair. */
static dtls_status verified_client(dtls_key *key, dtls_cert *cert, dtls_cert *trusted, const char *hostname,
                                   bool print_error) {
    server_node s;
    client_node c;
    CHECK(server_ready(&s, key, cert, NULL));
    client_ready_udp(&c, server_port(&s));
    dtls_options *options = dtls_options_client(trusted, NULL);
    CHECK(options != NULL);
    CHECK_ERR(dtls_peer_connect_to_peer_with_options(c.dtls, c.udp, hostname, options), DTLS_OK);
    dtls_options_free(options); /* the peer keeps what it needs */
    run_pair(&s, &c, 5000);
    dtls_status status = dtls_peer_get_status(c.dtls);
    if (status == DTLS_STATUS_CONNECTED) {
        CHECK(strcmp(c.reply, REPLY) == 0);
    } else {
        char message[512] = "x";
        CHECK(dtls_peer_get_error_message(c.dtls, message, sizeof message) > 0);
        CHECK(message[0] != '\0');
        if (print_error) print_peer_error(hostname, c.dtls);
    }
    client_free(&c);
    server_free(&s);
    return status;
}

static void test_verify_trusted_hostname(void) {
    CHECK(verified_client(g_key, g_cert, g_cert, "localhost", true) == DTLS_STATUS_CONNECTED);
}

static void test_verify_hostname_mismatch(void) {
    CHECK(verified_client(g_key, g_cert, g_cert, "wrong.example", true) == DTLS_STATUS_ERROR_HOSTNAME_MISMATCH);
}

static void test_verify_untrusted_certificate(void) {
    CHECK(verified_client(g_key, g_cert, g_other_cert, "localhost", true) == DTLS_STATUS_ERROR);
}

static void test_verify_expired_certificate(void) {
    dtls_key *key = dtls_crypto_generate_ec_p256();
    dtls_cert *expired = dtls_crypto_generate_self_signed_certificate(key, "CN=localhost", "20100101000000",
                                                                      "20200101000000");
    CHECK(expired != NULL);
    if (expired) CHECK(verified_client(key, expired, expired, "localhost", true) == DTLS_STATUS_ERROR);
    dtls_cert_free(expired);
    dtls_key_free(key);
}

/* The 3.x spelling with validation: connect_to_peer(udp, true, "localhost", cert). */
static void test_verify_3x_valid_certificate(void) {
    server_node s;
    client_node c;
    CHECK(server_ready(&s, g_key, g_cert, NULL));
    client_ready_udp(&c, server_port(&s));
    CHECK_ERR(dtls_peer_connect_to_peer(c.dtls, c.udp, true, "localhost", g_cert), DTLS_OK);
    run_pair(&s, &c, 5000);
    CHECK(strcmp(c.reply, REPLY) == 0);
    client_free(&c);
    server_free(&s);
}

/* MARK: - Servers that cannot take connections */

static void test_server_not_set_up(void) {
    dtls_udp_server *udp_server = dtls_udp_server_new();
    dtls_server *dtls = dtls_server_new();
    CHECK_ERR(dtls_udp_server_listen(udp_server, 0, "127.0.0.1"), DTLS_OK);
    dtls_udp *client = dtls_udp_new();
    CHECK_ERR(dtls_udp_connect_to_host(client, "127.0.0.1", dtls_udp_server_get_local_port(udp_server)), DTLS_OK);
    CHECK_ERR(dtls_udp_put_packet(client, (const uint8_t *)"hi", 2), DTLS_OK);
    POLL_UNTIL(dtls_udp_server_is_connection_available(udp_server), (dtls_udp_server_poll(udp_server), tiny_wait()),
               2000);
    dtls_udp *peer = dtls_udp_server_take_connection(udp_server);
    CHECK(peer != NULL);
    CHECK(dtls_server_take_connection(dtls, peer) == NULL); /* never set up */
    CHECK(strlen(dtls_last_error_message()) > 0);

    /* Set up, then stopped: NULL again. */
    CHECK_ERR(dtls_server_setup(dtls, g_key, g_cert, NULL), DTLS_OK);
    CHECK_ERR(dtls_server_stop(dtls), DTLS_OK);
    CHECK(dtls_server_take_connection(dtls, peer) == NULL);

    /* A UDP peer that is not connected: NULL. */
    CHECK_ERR(dtls_server_setup(dtls, g_key, g_cert, NULL), DTLS_OK);
    dtls_udp *unconnected = dtls_udp_new();
    CHECK(dtls_server_take_connection(dtls, unconnected) == NULL);

    /* Setup with client options, a public-only key or a mismatched key is refused. */
    dtls_options *client_options = dtls_options_client(g_cert, NULL);
    CHECK_ERR(dtls_server_setup_with_options(dtls, client_options), DTLS_ERR_INVALID_PARAMETER);
    CHECK_ERR(dtls_server_setup(dtls, g_other_key, g_cert, NULL), DTLS_ERR_INVALID_PARAMETER);
    dtls_key *public_only = dtls_key_new();
    char pem[4096];
    CHECK(dtls_key_save_to_string(g_key, true, pem, sizeof pem) < sizeof pem);
    CHECK_ERR(dtls_key_load_from_string(public_only, pem, true), DTLS_OK);
    CHECK_ERR(dtls_server_setup(dtls, public_only, g_cert, NULL), DTLS_ERR_INVALID_PARAMETER);
    dtls_key_free(public_only);
    dtls_options_free(client_options);

    dtls_udp_free(unconnected);
    dtls_udp_free(peer);
    dtls_udp_free(client);
    dtls_server_free(dtls);
    dtls_udp_server_free(udp_server);
}

/* MARK: - Bad handles */

/* Calls every dtls_peer_* function with `peer` and expects rejection. */
static void check_peer_rejected(dtls_peer *peer, dtls_udp *good_udp) {
    uint8_t buf[16];
    size_t len = 77;
    char text[16];
    CHECK_ERR(dtls_peer_connect_to_peer(peer, good_udp, false, NULL, NULL), DTLS_ERR_INVALID_PARAMETER);
    CHECK_ERR(dtls_peer_connect_to_peer_with_options(peer, good_udp, "localhost", NULL), DTLS_ERR_INVALID_PARAMETER);
    CHECK_ERR(dtls_peer_poll(peer), DTLS_ERR_INVALID_PARAMETER);
    CHECK(dtls_peer_get_status(peer) == DTLS_STATUS_DISCONNECTED);
    CHECK_ERR(dtls_peer_disconnect_from_peer(peer), DTLS_ERR_INVALID_PARAMETER);
    CHECK_ERR(dtls_peer_put_packet(peer, (const uint8_t *)"x", 1), DTLS_ERR_INVALID_PARAMETER);
    CHECK_ERR(dtls_peer_get_packet(peer, buf, sizeof buf, &len), DTLS_ERR_INVALID_PARAMETER);
    CHECK(dtls_peer_get_available_packet_count(peer) == 0);
    CHECK_ERR(dtls_peer_get_packet_error(peer), DTLS_ERR_INVALID_PARAMETER);
    strcpy(text, "junk");
    CHECK(dtls_peer_get_error_message(peer, text, sizeof text) == 0 && text[0] == '\0');
    strcpy(text, "junk");
    CHECK(dtls_peer_get_ciphersuite(peer, text, sizeof text) == 0 && text[0] == '\0');
    CHECK(dtls_peer_get_max_packet_size(peer) == 0);
    CHECK(strlen(dtls_last_error_message()) > 0);
    dtls_peer_free(peer); /* ignored, never crashes */
}

/* Calls every dtls_server_* function with `server` and expects rejection. */
static void check_server_rejected(dtls_server *server, dtls_udp *good_udp) {
    dtls_options *options = dtls_options_server(g_key, g_cert);
    CHECK_ERR(dtls_server_setup(server, g_key, g_cert, NULL), DTLS_ERR_INVALID_PARAMETER);
    CHECK_ERR(dtls_server_setup_with_options(server, options), DTLS_ERR_INVALID_PARAMETER);
    CHECK(dtls_server_take_connection(server, good_udp) == NULL);
    CHECK_ERR(dtls_server_stop(server), DTLS_ERR_INVALID_PARAMETER);
    dtls_server_free(server); /* ignored, never crashes */
    dtls_options_free(options);
}

static void test_bad_handles(void) {
    /* Live objects of every class, to pass as the wrong class and to check they survive. */
    dtls_udp *udp = dtls_udp_new();
    CHECK_ERR(dtls_udp_connect_to_host(udp, "127.0.0.1", 9), DTLS_OK);
    dtls_peer *live_peer = dtls_peer_new();
    dtls_server *live_server = dtls_server_new();
    CHECK_ERR(dtls_server_setup(live_server, g_key, g_cert, NULL), DTLS_OK);
    dtls_options *options = dtls_options_server(g_key, g_cert);

    dtls_peer *freed_peer = dtls_peer_new();
    dtls_peer_free(freed_peer);
    dtls_server *freed_server = dtls_server_new();
    dtls_server_free(freed_server);

    check_peer_rejected(NULL, udp);
    check_peer_rejected(freed_peer, udp);
    check_peer_rejected((dtls_peer *)live_server, udp);
    check_peer_rejected((dtls_peer *)udp, udp);
    check_peer_rejected((dtls_peer *)g_cert, udp);
    check_peer_rejected((dtls_peer *)(uintptr_t)0xdeadbeefu, udp);

    check_server_rejected(NULL, udp);
    check_server_rejected(freed_server, udp);
    check_server_rejected((dtls_server *)live_peer, udp);
    check_server_rejected((dtls_server *)options, udp);
    check_server_rejected((dtls_server *)g_key, udp);
    check_server_rejected((dtls_server *)(uintptr_t)0x12345678u, udp);

    /* Good first handle, bad other arguments. */
    CHECK_ERR(dtls_peer_connect_to_peer(live_peer, NULL, false, NULL, NULL), DTLS_ERR_INVALID_PARAMETER);
    CHECK_ERR(dtls_peer_connect_to_peer(live_peer, (dtls_udp *)live_server, false, NULL, NULL),
              DTLS_ERR_INVALID_PARAMETER);
    CHECK_ERR(dtls_peer_connect_to_peer(live_peer, udp, true, "localhost", (dtls_cert *)g_key),
              DTLS_ERR_INVALID_PARAMETER);
    CHECK_ERR(dtls_peer_connect_to_peer_with_options(live_peer, udp, "localhost", (dtls_options *)g_cert),
              DTLS_ERR_INVALID_PARAMETER);
    CHECK_ERR(dtls_peer_connect_to_peer_with_options(live_peer, udp, "localhost", options), /* server options */
              DTLS_ERR_INVALID_PARAMETER);
    dtls_udp *unconnected = dtls_udp_new();
    CHECK_ERR(dtls_peer_connect_to_peer(live_peer, unconnected, false, NULL, NULL), DTLS_ERR_INVALID_PARAMETER);
    dtls_udp_free(unconnected);
    size_t len = 0;
    uint8_t buf[4];
    CHECK_ERR(dtls_peer_get_packet(live_peer, buf, sizeof buf, NULL), DTLS_ERR_INVALID_PARAMETER);
    CHECK_ERR(dtls_peer_get_packet(live_peer, NULL, 4, &len), DTLS_ERR_INVALID_PARAMETER);
    CHECK_ERR(dtls_peer_put_packet(live_peer, NULL, 4), DTLS_ERR_INVALID_PARAMETER);
    CHECK_ERR(dtls_peer_put_packet(live_peer, (const uint8_t *)"x", 1), DTLS_ERR_UNCONFIGURED);
    CHECK_ERR(dtls_peer_get_packet(live_peer, buf, sizeof buf, &len), DTLS_ERR_UNCONFIGURED);
    CHECK_ERR(dtls_peer_poll(live_peer), DTLS_ERR_UNCONFIGURED);
    CHECK_ERR(dtls_server_setup(live_server, (dtls_key *)g_cert, g_cert, NULL), DTLS_ERR_INVALID_PARAMETER);
    CHECK_ERR(dtls_server_setup(live_server, g_key, (dtls_cert *)g_key, NULL), DTLS_ERR_INVALID_PARAMETER);
    CHECK_ERR(dtls_server_setup(live_server, g_key, g_cert, (dtls_cert *)udp), DTLS_ERR_INVALID_PARAMETER);
    CHECK_ERR(dtls_server_setup_with_options(live_server, NULL), DTLS_ERR_INVALID_PARAMETER);
    CHECK_ERR(dtls_server_setup_with_options(live_server, (dtls_options *)live_peer), DTLS_ERR_INVALID_PARAMETER);
    CHECK(dtls_server_take_connection(live_server, NULL) == NULL);
    CHECK(dtls_server_take_connection(live_server, (dtls_udp *)live_peer) == NULL);

    /* The wrong-class frees above reached nothing: every live object still works. */
    CHECK(dtls_peer_get_status(live_peer) == DTLS_STATUS_DISCONNECTED);
    CHECK_ERR(dtls_peer_disconnect_from_peer(live_peer), DTLS_OK);
    CHECK_ERR(dtls_server_setup_with_options(live_server, options), DTLS_OK);
    CHECK(dtls_udp_is_socket_connected(udp));
    CHECK(dtls_options_is_server(options));
    CHECK(dtls_cert_save_to_string(g_cert, NULL, 0) > 0);
    CHECK(dtls_key_save_to_string(g_key, false, NULL, 0) > 0);

    /* A live DTLS client still works after all that. */
    server_node s;
    client_node c;
    CHECK(server_ready(&s, g_key, g_cert, NULL));
    client_ready(&c, server_port(&s));
    run_pair(&s, &c, 5000);
    CHECK(strcmp(c.reply, REPLY) == 0);
    client_free(&c);
    server_free(&s);

    dtls_options_free(options);
    dtls_server_free(live_server);
    dtls_peer_free(live_peer);
    dtls_udp_free(udp);
    dtls_peer_free(NULL);
    dtls_server_free(NULL);
}

/* MARK: - Vanishing peers */

/* True when the peer's error message names a timeout (not, say, a certificate problem). */
static bool reason_is_timeout(dtls_peer *peer) {
    char message[512];
    dtls_peer_get_error_message(peer, message, sizeof message);
    return strstr(message, "timeout") != NULL;
}

/* Connects the client as the seed does (no verification), with a short handshake timeout (20-80 ms) so
 * that a vanished server shows soon. */
static void connect_with_short_timeout(client_node *c) {
    dtls_options *options = dtls_options_client_unsafe(NULL);
    CHECK_ERR(dtls_options_set_handshake_timeout(options, 20, 80), DTLS_OK);
    CHECK_ERR(dtls_peer_connect_to_peer_with_options(c->dtls, c->udp, "localhost", options), DTLS_OK);
    dtls_options_free(options);
}

/* Steps the server, then the client, until the server holds a HANDSHAKING peer (after the cookie) or 3 s
 * pass. The client is not stepped again once the server holds it: it has not read the server's flight. */
static void run_until_server_holds_a_peer(server_node *s, client_node *c) {
    long long deadline = check_now_ms() + 3000;
    while (check_now_ms() < deadline) {
        server_process(s);
        if (s->peer_count > 0) break;
        client_process(c);
        tiny_wait();
    }
}

/* Steps the client alone until its handshake ends: it must end in ERROR within 2 s, and say it timed out. */
static void check_client_times_out(client_node *c) {
    long long started = check_now_ms();
    POLL_UNTIL(client_done(c), (client_process(c), tiny_wait()), 3000);
    long long took = check_now_ms() - started;
    CHECK(dtls_peer_get_status(c->dtls) == DTLS_STATUS_ERROR);
    CHECK(took < 2000);
    print_peer_error("client", c->dtls);
    CHECK(reason_is_timeout(c->dtls));
}

/* A client whose server never answers ends in ERROR once the short handshake timeout runs out. */
static void test_server_vanishes_mid_handshake(void) {
    dtls_udp_server *silent = dtls_udp_server_new(); /* a port that reads nothing and answers nothing */
    CHECK_ERR(dtls_udp_server_listen(silent, 0, "127.0.0.1"), DTLS_OK);
    client_node c;
    client_ready_udp(&c, dtls_udp_server_get_local_port(silent));
    connect_with_short_timeout(&c);
    check_client_times_out(&c);
    client_free(&c);
    dtls_udp_server_free(silent);
}

/* The server vanishes after sending its certificate: the unverifying client (as in the seed) times out, and
 * says so (verification was skipped on purpose, so it is not the reason). */
static void test_server_vanishes_after_its_flight(void) {
    server_node s;
    client_node c;
    CHECK(server_ready(&s, g_key, g_cert, NULL));
    client_ready_udp(&c, server_port(&s));
    connect_with_short_timeout(&c);
    /* The server takes the cookie-verified connection and sends ServerHello..ServerHelloDone. */
    run_until_server_holds_a_peer(&s, &c);
    CHECK(s.peer_count == 1);
    server_free(&s); /* gone before the client's Finished */
    check_client_times_out(&c);
    client_free(&c);
}

/* A client that disappears after the cookie exchange leaves the server's peer in ERROR, soon. */
static void test_client_vanishes_mid_handshake(void) {
    server_node s;
    client_node c;
    dtls_options *server_options = dtls_options_server(g_key, g_cert);
    CHECK_ERR(dtls_options_set_handshake_timeout(server_options, 20, 80), DTLS_OK);
    CHECK(server_ready(&s, g_key, g_cert, server_options));
    dtls_options_free(server_options);
    client_ready(&c, server_port(&s));
    /* Once the server holds a HANDSHAKING peer the client vanishes before it reads the server's flight, so the
     * handshake cannot finish. */
    run_until_server_holds_a_peer(&s, &c);
    CHECK(s.peer_count == 1);
    client_free(&c);
    if (s.peer_count != 1) {
        server_free(&s);
        return;
    }
    CHECK(dtls_peer_get_status(s.peers[0]) == DTLS_STATUS_HANDSHAKING);
    long long started = check_now_ms();
    POLL_UNTIL(dtls_peer_get_status(s.peers[0]) != DTLS_STATUS_HANDSHAKING, (server_process(&s), tiny_wait()), 3000);
    long long took = check_now_ms() - started;
    CHECK(dtls_peer_get_status(s.peers[0]) == DTLS_STATUS_ERROR);
    CHECK(took < 2000);
    print_peer_error("server's peer", s.peers[0]);
    CHECK(reason_is_timeout(s.peers[0]));
    server_free(&s);
}

/* MARK: - Garbage */

/* A plain POSIX UDP socket that sends garbage to 127.0.0.1:port. */
static int garbage_socket(int port, struct sockaddr_in *to) {
    int fd = socket(AF_INET, SOCK_DGRAM, 0);
    memset(to, 0, sizeof *to);
    to->sin_family = AF_INET;
    to->sin_port = htons((uint16_t)port);
    to->sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    return fd;
}

static void send_garbage(int fd, const struct sockaddr_in *to, unsigned round) {
    uint8_t junk[1200];
    srand(round + 1);
    for (size_t i = 0; i < sizeof junk; i++) junk[i] = (uint8_t)rand();
    /* Random bytes, an empty datagram, and records that look like DTLS 1.2 (ClientHello, app data). */
    static const uint8_t fake_hello[] = {22, 0xfe, 0xfd, 0, 0, 0, 0, 0, 0, 0, 0, 0, 4, 1, 0, 0, 0};
    static const uint8_t fake_data[] = {23, 0xfe, 0xfd, 0, 1, 0, 0, 0, 0, 0, 9, 0, 4, 0xde, 0xad, 0xbe, 0xef};
    ssize_t sent = 0;
    sent += sendto(fd, junk, 1 + round % sizeof junk, 0, (const struct sockaddr *)to, sizeof *to);
    sent += sendto(fd, junk, 0, 0, (const struct sockaddr *)to, sizeof *to);
    sent += sendto(fd, fake_hello, sizeof fake_hello, 0, (const struct sockaddr *)to, sizeof *to);
    sent += sendto(fd, fake_data, sizeof fake_data, 0, (const struct sockaddr *)to, sizeof *to);
    CHECK(sent >= 0);
}

static void test_garbage_does_not_disturb(void) {
    server_node s;
    client_node c;
    CHECK(server_ready(&s, g_key, g_cert, NULL));
    struct sockaddr_in to;
    int fd = garbage_socket(server_port(&s), &to);
    CHECK(fd >= 0);
    unsigned round = 0;
    send_garbage(fd, &to, round++); /* before */
    client_ready(&c, server_port(&s));
    /* during the handshake: garbage every round */
    POLL_UNTIL(client_done(&c),
               (server_process(&s), send_garbage(fd, &to, round++), client_process(&c), tiny_wait()), 5000);
    CHECK(strcmp(c.reply, REPLY) == 0);
    CHECK(dtls_peer_get_status(c.dtls) == DTLS_STATUS_CONNECTED);

    /* after: more garbage between exchanges, on the same session */
    for (int i = 0; i < 5; i++) {
        char expected[64];
        snprintf(expected, sizeof expected, "after garbage %d", i);
        send_garbage(fd, &to, round++);
        c.connected = false;
        c.reply[0] = '\0';
        strcpy(c.message, expected);
        run_pair(&s, &c, 3000);
        CHECK(strcmp(c.reply, REPLY) == 0);
        CHECK(strcmp(s.last_message, expected) == 0);
    }
    CHECK(strcmp(s.last_message, "after garbage 4") == 0);
    CHECK(s.received == 6 && s.replied == 6);
    CHECK(dtls_peer_get_status(c.dtls) == DTLS_STATUS_CONNECTED);
    CHECK(s.peer_count == 1);
    CHECK(dtls_peer_get_status(s.peers[0]) == DTLS_STATUS_CONNECTED);
    printf("     %u garbage rounds, %d non-handshaking connections dropped\n", round, s.not_handshaking);
    close(fd);
    client_free(&c);
    server_free(&s);
}

/* Garbage from the client's own address (through its UDP socket) reaches the session itself. */
static void test_in_session_garbage_is_dropped(void) {
    server_node s;
    client_node c;
    CHECK(server_ready(&s, g_key, g_cert, NULL));
    client_ready(&c, server_port(&s));
    run_pair(&s, &c, 5000);
    CHECK(strcmp(c.reply, REPLY) == 0);

    static const uint8_t not_a_record[] = {0xff, 1, 2, 3};
    static const uint8_t bad_mac[] = {23, 0xfe, 0xfd, 0, 1, 0, 0, 0, 0, 0, 99, 0, 24, 1, 2, 3, 4, 5, 6, 7, 8,
                                      9, 10, 11, 12, 13, 14, 15, 16, 17, 18, 19, 20, 21, 22, 23, 24};
    CHECK_ERR(dtls_udp_put_packet(c.udp, not_a_record, sizeof not_a_record), DTLS_OK);
    CHECK_ERR(dtls_udp_put_packet(c.udp, bad_mac, sizeof bad_mac), DTLS_OK);
    c.connected = false;
    c.reply[0] = '\0';
    strcpy(c.message, "after in-session garbage");
    run_pair(&s, &c, 3000);
    CHECK(strcmp(c.reply, REPLY) == 0);
    CHECK(strcmp(s.last_message, "after in-session garbage") == 0);
    CHECK(s.peer_count == 1 && dtls_peer_get_status(s.peers[0]) == DTLS_STATUS_CONNECTED);
    if (s.peer_count == 1 && dtls_peer_get_status(s.peers[0]) != DTLS_STATUS_CONNECTED) {
        print_peer_error("server's peer", s.peers[0]);
    }
    client_free(&c);
    server_free(&s);
}

/* Issue 18: a client bound to a fixed port dies without close_notify; a new client on the same address and
 * port is CONNECTED and echoing within 1.5 s with default timers, and the old server peer ends
 * DISCONNECTED saying the client reconnected. */
static void test_reconnect_from_the_same_port(void) {
    server_node s;
    client_node first, second;
    CHECK(server_ready(&s, g_key, g_cert, NULL));
    memset(&first, 0, sizeof first);
    strcpy(first.message, MESSAGE);
    first.dtls = dtls_peer_new();
    first.udp = dtls_udp_new();
    CHECK_ERR(dtls_udp_bind(first.udp, 0, "127.0.0.1", 65536), DTLS_OK);
    int port = dtls_udp_get_local_port(first.udp);
    CHECK_ERR(dtls_udp_connect_to_host(first.udp, "127.0.0.1", server_port(&s)), DTLS_OK);
    CHECK_ERR(dtls_peer_connect_to_peer(first.dtls, first.udp, false, NULL, NULL), DTLS_OK);
    run_pair(&s, &first, 5000);
    CHECK(strcmp(first.reply, REPLY) == 0);
    CHECK(s.peer_count == 1);
    dtls_udp_close(first.udp); /* the crash: the socket goes first, so nothing says goodbye */
    client_free(&first);

    memset(&second, 0, sizeof second);
    strcpy(second.message, MESSAGE);
    second.dtls = dtls_peer_new();
    second.udp = dtls_udp_new();
    CHECK_ERR(dtls_udp_bind(second.udp, port, "127.0.0.1", 65536), DTLS_OK);
    CHECK_ERR(dtls_udp_connect_to_host(second.udp, "127.0.0.1", server_port(&s)), DTLS_OK);
    long long started = check_now_ms();
    CHECK_ERR(dtls_peer_connect_to_peer(second.dtls, second.udp, false, NULL, NULL), DTLS_OK);
    run_pair(&s, &second, 5000);
    long long took = check_now_ms() - started;
    CHECK(strcmp(second.reply, REPLY) == 0);
    CHECK(took < 1500);
    CHECK(s.peer_count == 2);
    if (s.peer_count == 2) {
        char reason[512];
        dtls_peer_get_error_message(s.peers[0], reason, sizeof reason);
        CHECK(dtls_peer_get_status(s.peers[0]) == DTLS_STATUS_DISCONNECTED);
        CHECK(strstr(reason, "reconnected") != NULL);
        CHECK(dtls_peer_get_status(s.peers[1]) == DTLS_STATUS_CONNECTED);
    }
    printf("     reconnected from port %d in %lld ms\n", port, took);
    CHECK(dtls_server_get_handshakes_in_flight(s.dtls) == 0);
    client_free(&second);
    server_free(&s);
}

/* Issue 20: the handshake limits, validated, and read back. */
static void test_handshake_limits(void) {
    dtls_server *server = dtls_server_new();
    int32_t total = 0, per_address = 0, deadline = 0;
    CHECK_ERR(dtls_server_get_handshake_limits(server, &total, &per_address, &deadline), DTLS_OK);
    CHECK(total == 512 && per_address == 128 && deadline == 20000);
    CHECK_ERR(dtls_server_set_handshake_limits(server, 4, -1, 100), DTLS_ERR_INVALID_PARAMETER);
    CHECK_ERR(dtls_server_set_handshake_limits(server, 4, 2, 100), DTLS_OK);
    CHECK_ERR(dtls_server_get_handshake_limits(server, &total, NULL, &deadline), DTLS_OK);
    CHECK(total == 4 && deadline == 100);
    CHECK(dtls_server_get_handshakes_in_flight(server) == 0);
    CHECK(dtls_server_get_handshakes_in_flight(NULL) == -1);
    CHECK_ERR(dtls_server_set_handshake_limits(NULL, 1, 1, 1), DTLS_ERR_INVALID_PARAMETER);
    dtls_server_free(server);
}

int main(void) {
    if (!make_identities()) {
        fprintf(stderr, "cannot make the test identities: %s\n", dtls_last_error_message());
        return 1;
    }
    RUN(test_seed_example_loopback);
    RUN(test_seed_example_3x_setup);
    RUN(test_cookie_round_trip);
    RUN(test_many_clients);
    RUN(test_verify_trusted_hostname);
    RUN(test_verify_hostname_mismatch);
    RUN(test_verify_untrusted_certificate);
    RUN(test_verify_expired_certificate);
    RUN(test_verify_3x_valid_certificate);
    RUN(test_server_not_set_up);
    RUN(test_bad_handles);
    RUN(test_server_vanishes_mid_handshake);
    RUN(test_server_vanishes_after_its_flight);
    RUN(test_client_vanishes_mid_handshake);
    RUN(test_garbage_does_not_disturb);
    RUN(test_in_session_garbage_is_dropped);
    RUN(test_reconnect_from_the_same_port);
    RUN(test_handshake_limits);
    free_identities();
    return check_summary("test_dtls");
}
