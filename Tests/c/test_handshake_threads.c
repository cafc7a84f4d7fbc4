/*
 * test_handshake_threads.c — dtls_server_set_handshake_threads from C: the seeds' example with the
 * handshakes on worker threads, and every status path of a handshake that runs there (success, bad
 * certificate, hostname mismatch, timeout, a peer or the server freed mid-handshake, the handshake
 * deadline, a refused client, the UDPServer stopped mid-handshake), over loopback UDP.
 *
 * Build (from the repository root, after `swift build --product packetdtls`):
 *   gcc -std=c99 -Wall -Wextra -Werror -I include Tests/c/test_handshake_threads.c -L .build/debug \
 *       -lpacketdtls -Wl,-rpath,$PWD/.build/debug -o /tmp/test_hst && /tmp/test_hst
 */
#define _POSIX_C_SOURCE 200809L

#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>

#include "check.h"

#define MESSAGE "The answer is... 42!"
#define REPLY "Hello DTLS client"
#define MAX_PEERS 64

#include "seed_nodes.h"

static bool message_contains(dtls_peer *peer, const char *text) {
    char message[512] = "";
    dtls_peer_get_error_message(peer, message, sizeof message);
    return strstr(message, text) != NULL;
}

/* The server of the seeds with `threads` handshake threads. */
static bool threaded_server(server_node *s, dtls_options *options, int threads) {
    if (!server_ready(s, g_key, g_cert, options)) return false;
    CHECK_ERR(dtls_server_set_handshake_threads(s->dtls, threads), DTLS_OK);
    return true;
}

static void test_thread_counts_are_checked(void) {
    dtls_server *server = dtls_server_new();
    CHECK_ERR(dtls_server_set_handshake_threads(server, -2), DTLS_ERR_INVALID_PARAMETER);
    CHECK(strstr(dtls_last_error_message(), "set_handshake_threads") != NULL);
    CHECK_ERR(dtls_server_set_handshake_threads(server, 65), DTLS_ERR_INVALID_PARAMETER);
    CHECK_ERR(dtls_server_set_handshake_threads(NULL, 2), DTLS_ERR_INVALID_PARAMETER);
    CHECK_ERR(dtls_server_set_handshake_threads(server, -1), DTLS_OK);
    CHECK_ERR(dtls_server_set_handshake_threads(server, 2), DTLS_OK);
    CHECK_ERR(dtls_server_set_handshake_threads(server, 0), DTLS_OK);
    dtls_server_free(server);
    CHECK_ERR(dtls_server_set_handshake_threads(server, 2), DTLS_ERR_INVALID_PARAMETER);
}

/* How much nicer the workers run: 0...19, and a change restarts running workers. */
static void test_thread_nice_is_checked(void) {
    dtls_server *server = dtls_server_new();
    CHECK_ERR(dtls_server_set_handshake_threads_nice(server, -1), DTLS_ERR_INVALID_PARAMETER);
    CHECK(strstr(dtls_last_error_message(), "set_handshake_threads_nice") != NULL);
    CHECK_ERR(dtls_server_set_handshake_threads_nice(server, 20), DTLS_ERR_INVALID_PARAMETER);
    CHECK_ERR(dtls_server_set_handshake_threads_nice(NULL, 0), DTLS_ERR_INVALID_PARAMETER);
    CHECK_ERR(dtls_server_set_handshake_threads_nice(server, 0), DTLS_OK);
    CHECK_ERR(dtls_server_set_handshake_threads(server, 2), DTLS_OK);
    CHECK_ERR(dtls_server_set_handshake_threads_nice(server, 19), DTLS_OK);
    dtls_server_free(server);
    CHECK_ERR(dtls_server_set_handshake_threads_nice(server, 0), DTLS_ERR_INVALID_PARAMETER);
}

/* The seeds' loop, unchanged, with workers: take_connection still answers the cookie exchange at once. */
static void test_seed_example_with_workers(void) {
    server_node s;
    client_node c;
    CHECK(threaded_server(&s, NULL, 2));
    client_ready(&c, server_port(&s));
    run_pair(&s, &c, 5000);
    CHECK(dtls_peer_get_status(c.dtls) == DTLS_STATUS_CONNECTED);
    CHECK(s.peer_count == 1);
    CHECK(s.not_handshaking >= 1); /* the cookie exchange happened in take_connection */
    CHECK(s.received == 1 && s.replied == 1);
    CHECK(strcmp(c.reply, REPLY) == 0);
    client_free(&c);
    server_free(&s);
}

/* The client verifies: a wrong name and an untrusted certificate end the client, and the server's peer,
 * whose handshake is on a worker, receives the alert and ends in ERROR. */
static void verified_client_with_workers(const char *hostname, dtls_cert *trusted, dtls_status expected) {
    server_node s;
    client_node c;
    CHECK(threaded_server(&s, NULL, 2));
    client_ready_udp(&c, server_port(&s));
    dtls_options *options = dtls_options_client(trusted, NULL);
    CHECK_ERR(dtls_peer_connect_to_peer_with_options(c.dtls, c.udp, hostname, options), DTLS_OK);
    dtls_options_free(options);
    run_pair(&s, &c, 5000);
    CHECK(dtls_peer_get_status(c.dtls) == expected);
    CHECK(s.peer_count == 1);
    if (s.peer_count == 1) {
        POLL_UNTIL(dtls_peer_get_status(s.peers[0]) != DTLS_STATUS_HANDSHAKING, (server_process(&s), tiny_wait()), 3000);
        CHECK(dtls_peer_get_status(s.peers[0]) == DTLS_STATUS_ERROR);
        CHECK(message_contains(s.peers[0], "fatal alert"));
        print_peer_error("server's peer", s.peers[0]);
    }
    client_free(&c);
    server_free(&s);
}

static void test_hostname_mismatch_with_workers(void) {
    verified_client_with_workers("wrong.example", g_cert, DTLS_STATUS_ERROR_HOSTNAME_MISMATCH);
}

static void test_bad_certificate_with_workers(void) {
    verified_client_with_workers("localhost", g_other_cert, DTLS_STATUS_ERROR);
}

/* Steps the server, and the client until the server holds a HANDSHAKING peer (its handshake now on a
 * worker); the client is not stepped after that. */
static void run_until_server_holds_a_peer(server_node *s, client_node *c) {
    long long deadline = check_now_ms() + 3000;
    while (check_now_ms() < deadline) {
        server_process(s);
        if (s->peer_count > 0) break;
        client_process(c);
        tiny_wait();
    }
}

/* A server with two handshake threads (`options`, freed here; NULL: the defaults) and a client whose
 * ClientHello with cookie the server took as its one peer, its handshake now on a worker. False (and
 * a failed check) when the server holds no peer. */
static bool handshake_on_a_worker(server_node *s, client_node *c, dtls_options *options) {
    CHECK(threaded_server(s, options, 2));
    if (options) dtls_options_free(options);
    client_ready(c, server_port(s));
    run_until_server_holds_a_peer(s, c);
    CHECK(s->peer_count == 1);
    return s->peer_count == 1;
}

/* The client vanishes after its ClientHello with cookie: the worker's timer ends the handshake. */
static void test_timeout_on_a_worker(void) {
    server_node s;
    client_node c;
    dtls_options *options = dtls_options_server(g_key, g_cert);
    CHECK_ERR(dtls_options_set_handshake_timeout(options, 20, 80), DTLS_OK);
    bool held = handshake_on_a_worker(&s, &c, options);
    client_free(&c);
    if (held) {
        CHECK(dtls_peer_get_status(s.peers[0]) == DTLS_STATUS_HANDSHAKING);
        POLL_UNTIL(dtls_peer_get_status(s.peers[0]) != DTLS_STATUS_HANDSHAKING, (server_process(&s), tiny_wait()), 3000);
        CHECK(dtls_peer_get_status(s.peers[0]) == DTLS_STATUS_ERROR);
        CHECK(message_contains(s.peers[0], "timeout"));
    }
    server_free(&s);
}

/* Server peers freed while their handshake is on a worker, then the whole server: nothing crashes,
 * and a client started afterwards on a new server connects. */
static void test_peer_and_server_freed_mid_handshake(void) {
    for (int round = 0; round < 10; round++) {
        server_node s;
        client_node c;
        bool held = handshake_on_a_worker(&s, &c, NULL);
        if (round % 2 && held) {
            dtls_peer_free(s.peers[0]); /* the peer alone, the server stays */
            s.peer_count = 0;
            client_process(&c);
            server_process(&s);
        }
        server_free(&s); /* the server (and any peer left) while the worker may hold a handshake */
        client_free(&c);
    }
    server_node s;
    client_node c;
    CHECK(threaded_server(&s, NULL, 2));
    client_ready(&c, server_port(&s));
    run_pair(&s, &c, 5000);
    CHECK(dtls_peer_get_status(c.dtls) == DTLS_STATUS_CONNECTED);
    client_free(&c);
    server_free(&s);
}

/* The DTLS server freed while a handshake is on its worker, the peer kept: the handshake finishes. */
static void test_server_freed_peer_connects(void) {
    server_node s;
    client_node c;
    if (handshake_on_a_worker(&s, &c, NULL)) {
        dtls_peer *peer = s.peers[0];
        dtls_server_free(s.dtls);
        s.dtls = NULL;
        POLL_UNTIL(dtls_peer_get_status(peer) == DTLS_STATUS_CONNECTED &&
                       dtls_peer_get_status(c.dtls) == DTLS_STATUS_CONNECTED,
                   (dtls_udp_server_poll(s.server), dtls_peer_poll(peer), client_process(&c), tiny_wait()), 5000);
        CHECK(dtls_peer_get_status(peer) == DTLS_STATUS_CONNECTED);
        CHECK(dtls_peer_get_status(c.dtls) == DTLS_STATUS_CONNECTED);
    }
    client_free(&c);
    server_free(&s);
}

/* The handshake deadline (300 ms, long before mbedTLS's timeout) ends a handshake on a worker with the
 * sentence of the caller's path. */
static void test_deadline_on_a_worker(void) {
    server_node s;
    client_node c;
    dtls_options *options = dtls_options_server(g_key, g_cert);
    CHECK_ERR(dtls_options_set_handshake_timeout(options, 50, 20000), DTLS_OK);
    CHECK(threaded_server(&s, options, 2));
    dtls_options_free(options);
    CHECK_ERR(dtls_server_set_handshake_limits(s.dtls, 512, 128, 300), DTLS_OK);
    client_ready(&c, server_port(&s));
    run_until_server_holds_a_peer(&s, &c);
    CHECK(s.peer_count == 1);
    long long start = check_now_ms();
    if (s.peer_count == 1) {
        POLL_UNTIL(dtls_peer_get_status(s.peers[0]) != DTLS_STATUS_HANDSHAKING, (server_process(&s), tiny_wait()), 5000);
        CHECK(dtls_peer_get_status(s.peers[0]) == DTLS_STATUS_ERROR);
        CHECK(message_contains(s.peers[0], "handshake deadline: the client did not complete its handshake within 300 ms"));
        CHECK(check_now_ms() - start < 5000);
        print_peer_error("server's peer", s.peers[0]);
    }
    client_free(&c);
    server_free(&s);
}

/* dtls_udp_server_stop() while handshakes are on workers: each peer is DISCONNECTED at its next poll,
 * as on the caller's thread, and freeing everything afterwards is safe. */
static void test_udp_server_stop_during_worker_handshake(void) {
    for (int round = 0; round < 4; round++) {
        server_node s;
        client_node c;
        bool held = handshake_on_a_worker(&s, &c, NULL);
        if (round % 2) client_process(&c); /* the client's flight under way: a worker may be stepping */
        CHECK_ERR(dtls_udp_server_stop(s.server), DTLS_OK);
        if (held) {
            dtls_peer_poll(s.peers[0]);
            CHECK(dtls_peer_get_status(s.peers[0]) == DTLS_STATUS_DISCONNECTED);
            CHECK(message_contains(s.peers[0], "the UDPServer stopped during the handshake"));
        }
        client_free(&c);
        server_free(&s);
    }
}

/* A server-side peer over a UDP peer of its own (bound, connected to the client), its client gone after
 * its ClientHello with cookie: the kernel refuses the server's flights (ICMP port unreachable) and the
 * handshake on the worker ends in ERROR after one retransmission, as on the caller's thread. */
static void refused_client(int threads) {
    dtls_options *options = dtls_options_server(g_key, g_cert);
    CHECK_ERR(dtls_options_set_handshake_timeout(options, 100, 20000), DTLS_OK);
    dtls_server *server = dtls_server_new();
    CHECK_ERR(dtls_server_setup_with_options(server, options), DTLS_OK);
    dtls_options_free(options);
    CHECK_ERR(dtls_server_set_handshake_threads(server, threads), DTLS_OK);
    dtls_udp *client_udp = dtls_udp_new();
    dtls_udp *server_udp = dtls_udp_new();
    CHECK_ERR(dtls_udp_bind(client_udp, 0, "127.0.0.1", 65536), DTLS_OK);
    CHECK_ERR(dtls_udp_bind(server_udp, 0, "127.0.0.1", 65536), DTLS_OK);
    CHECK_ERR(dtls_udp_connect_to_host(server_udp, "127.0.0.1", dtls_udp_get_local_port(client_udp)), DTLS_OK);
    CHECK_ERR(dtls_udp_connect_to_host(client_udp, "127.0.0.1", dtls_udp_get_local_port(server_udp)), DTLS_OK);
    dtls_peer *client = dtls_peer_new();
    CHECK_ERR(dtls_peer_connect_to_peer(client, client_udp, false, NULL, NULL), DTLS_OK);
    dtls_peer *peer = NULL;
    long long deadline = check_now_ms() + 3000;
    while (!peer && check_now_ms() < deadline) {
        dtls_peer_poll(client);
        dtls_peer *next = dtls_server_take_connection(server, server_udp);
        if (next && dtls_peer_get_status(next) == DTLS_STATUS_HANDSHAKING) peer = next;
        else dtls_peer_free(next);
        tiny_wait();
    }
    CHECK(peer != NULL);
    dtls_peer_free(client);
    dtls_udp_free(client_udp); /* the port closes: the server's flights are refused */
    if (peer) {
        POLL_UNTIL(dtls_peer_get_status(peer) != DTLS_STATUS_HANDSHAKING, (dtls_peer_poll(peer), tiny_wait()), 10000);
        CHECK(dtls_peer_get_status(peer) == DTLS_STATUS_ERROR);
        CHECK(message_contains(peer, "connection refused: nothing listens on 127.0.0.1 port"));
        print_peer_error(threads ? "server's peer (workers)" : "server's peer (caller)", peer);
    }
    dtls_peer_free(peer);
    dtls_udp_free(server_udp);
    dtls_server_free(server);
}

static void test_refused_client_on_a_worker(void) {
    refused_client(2);
    refused_client(0);
}

int main(void) {
    if (!make_identities()) {
        fprintf(stderr, "cannot make the test identities: %s\n", dtls_last_error_message());
        return 1;
    }
    RUN(test_thread_counts_are_checked);
    RUN(test_thread_nice_is_checked);
    RUN(test_seed_example_with_workers);
    RUN(test_hostname_mismatch_with_workers);
    RUN(test_bad_certificate_with_workers);
    RUN(test_timeout_on_a_worker);
    RUN(test_peer_and_server_freed_mid_handshake);
    RUN(test_server_freed_peer_connects);
    RUN(test_deadline_on_a_worker);
    RUN(test_udp_server_stop_during_worker_handshake);
    RUN(test_refused_client_on_a_worker);
    free_identities();
    return check_summary("test_handshake_threads");
}
