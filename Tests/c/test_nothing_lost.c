/*
 * test_nothing_lost.c — issue 19 through the C ABI, over real loopback sockets: a burst the kernel
 * kept reaches the application whole, every drop is readable (dtls_udp_stats, dtls_peer_stats), a
 * server bound to "*" answers from the address its client used (127.0.0.5, ::1), stopping a server
 * ends its DTLS sessions with close_notify, misuse is refused, and a Godot 3 Variant read with the
 * Godot 4 numbering is an error with a reason.
 */
#define _POSIX_C_SOURCE 200809L

#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <unistd.h>

#include "check.h"

#define MAX_PEERS 64
#include "seed_nodes.h"

/* A dtls_udp connected to `host`:`port`. */
static dtls_udp *connected_udp(const char *host, int port) {
    dtls_udp *udp = dtls_udp_new();
    CHECK_ERR(dtls_udp_connect_to_host(udp, host, port), DTLS_OK);
    return udp;
}

/* Polls `server` until a peer is pending, and takes it. */
static dtls_udp *take_peer(dtls_udp_server *server) {
    POLL_UNTIL(dtls_udp_server_is_connection_available(server), (dtls_udp_server_poll(server), tiny_wait()), 3000);
    return dtls_udp_server_take_connection(server);
}

/* MARK: - Bursts and stats */

static void test_burst_of_500_while_busy_arrives_whole(void) {
    dtls_udp_server *server = dtls_udp_server_new();
    CHECK_ERR(dtls_udp_server_listen(server, 0, "127.0.0.1"), DTLS_OK);
    dtls_udp *client = connected_udp("127.0.0.1", dtls_udp_server_get_local_port(server));
    uint8_t first = 0;
    CHECK_ERR(dtls_udp_put_packet(client, &first, 1), DTLS_OK);
    dtls_udp *peer = take_peer(server);
    CHECK(peer != NULL);
    uint8_t buffer[2048];
    size_t length = 0;
    CHECK_ERR(dtls_udp_get_packet(peer, buffer, sizeof buffer, &length), DTLS_OK);

    uint8_t kib[1024];
    for (int i = 0; i < 500; i++) {
        memset(kib, i & 0xff, sizeof kib);
        CHECK_ERR(dtls_udp_put_packet(client, kib, sizeof kib), DTLS_OK);
    }
    usleep(300 * 1000); /* the server is busy; the kernel keeps the burst */
    CHECK_ERR(dtls_udp_server_poll(server), DTLS_OK);
    CHECK(dtls_udp_get_available_packet_count(peer) == 500);
    int in_order = 0;
    for (int i = 0; i < 500; i++) {
        if (dtls_udp_get_packet(peer, buffer, sizeof buffer, &length) == DTLS_OK && length == 1024
            && buffer[0] == (uint8_t)(i & 0xff)) in_order++;
    }
    CHECK(in_order == 500);

    dtls_udp_stats stats;
    CHECK_ERR(dtls_udp_server_get_stats(server, &stats, sizeof stats), DTLS_OK);
    CHECK(stats.datagrams_received == 501);
    CHECK(stats.datagrams_dropped == 0);
    CHECK(stats.datagrams_dropped_by_kernel == 0);
    CHECK(stats.packets_queued == 0 && stats.bytes_queued == 0);
    CHECK_ERR(dtls_udp_get_stats(peer, &stats, sizeof stats), DTLS_OK);
    CHECK(stats.datagrams_received == 501 && stats.datagrams_dropped == 0);
    dtls_udp_free(peer);
    dtls_udp_free(client);
    dtls_udp_server_free(server);
}

static void test_an_unread_full_peer_drops_and_counts(void) {
    dtls_udp_server *server = dtls_udp_server_new();
    CHECK_ERR(dtls_udp_server_listen(server, 0, "127.0.0.1"), DTLS_OK);
    CHECK_ERR(dtls_udp_server_set_peer_queue_limit(server, 4 * (100 + 24)), DTLS_OK);
    CHECK(dtls_udp_server_get_peer_queue_limit(server) == 4 * (100 + 24));
    dtls_udp *client = connected_udp("127.0.0.1", dtls_udp_server_get_local_port(server));
    uint8_t bytes[100] = {0};
    CHECK_ERR(dtls_udp_put_packet(client, bytes, sizeof bytes), DTLS_OK);
    dtls_udp *peer = take_peer(server);
    for (int i = 0; i < 9; i++) CHECK_ERR(dtls_udp_put_packet(client, bytes, sizeof bytes), DTLS_OK);
    /* One poll holds back what does not fit; the next, with nothing read meanwhile, drops it. */
    dtls_udp_stats stats;
    memset(&stats, 0, sizeof stats);
    POLL_UNTIL(stats.datagrams_dropped == 6,
               (dtls_udp_server_poll(server), dtls_udp_get_stats(peer, &stats, sizeof stats), tiny_wait()), 3000);
    CHECK(stats.datagrams_dropped == 6);
    CHECK(stats.packets_queued == 4);
    dtls_udp_stats server_stats;
    CHECK_ERR(dtls_udp_server_get_stats(server, &server_stats, sizeof server_stats), DTLS_OK);
    CHECK(server_stats.datagrams_dropped == 6);
    dtls_udp_free(peer);
    dtls_udp_free(client);
    dtls_udp_server_free(server);
}

static void test_stats_and_limits_refuse_bad_arguments(void) {
    dtls_udp_server *server = dtls_udp_server_new();
    dtls_udp_stats stats;
    CHECK_ERR(dtls_udp_server_get_stats(server, NULL, sizeof stats), DTLS_ERR_INVALID_PARAMETER);
    CHECK_ERR(dtls_udp_server_get_stats(server, &stats, 0), DTLS_ERR_INVALID_PARAMETER);
    CHECK_ERR(dtls_udp_server_get_stats(NULL, &stats, sizeof stats), DTLS_ERR_INVALID_PARAMETER);
    CHECK_ERR(dtls_udp_get_stats(NULL, &stats, sizeof stats), DTLS_ERR_INVALID_PARAMETER);
    CHECK_ERR(dtls_udp_get_stats((dtls_udp *)server, &stats, sizeof stats), DTLS_ERR_INVALID_PARAMETER);
    CHECK_ERR(dtls_udp_server_set_peer_queue_limit(server, 0), DTLS_ERR_INVALID_PARAMETER);
    CHECK_ERR(dtls_udp_server_set_total_queue_limit(server, -1), DTLS_ERR_INVALID_PARAMETER);
    CHECK(dtls_udp_server_get_peer_queue_limit(server) == 1 << 20);
    CHECK(dtls_udp_server_get_total_queue_limit(server) == 16 << 20);
    CHECK_ERR(dtls_udp_server_set_total_queue_limit(server, 4 << 20), DTLS_OK);
    CHECK(dtls_udp_server_get_total_queue_limit(server) == 4 << 20);
    CHECK(dtls_udp_server_get_peer_queue_limit(NULL) == 0);
    /* An older caller's smaller struct gets the fields it knows. */
    uint64_t first_field = 99;
    CHECK_ERR(dtls_udp_server_get_stats(server, (dtls_udp_stats *)&first_field, sizeof first_field), DTLS_OK);
    CHECK(first_field == 0);
    dtls_udp_server_free(server);
}

/* MARK: - Replies from the address the client used */

static void check_echo_through(const char *bind_address, const char *client_host) {
    dtls_udp_server *server = dtls_udp_server_new();
    CHECK_ERR(dtls_udp_server_listen(server, 0, bind_address), DTLS_OK);
    dtls_udp *client = connected_udp(client_host, dtls_udp_server_get_local_port(server));
    CHECK_ERR(dtls_udp_put_packet(client, (const uint8_t *)"ping", 4), DTLS_OK);
    dtls_udp *peer = take_peer(server);
    CHECK(peer != NULL);
    uint8_t buffer[16];
    size_t length = 0;
    CHECK_ERR(dtls_udp_get_packet(peer, buffer, sizeof buffer, &length), DTLS_OK);
    CHECK_ERR(dtls_udp_put_packet(peer, (const uint8_t *)"pong", 4), DTLS_OK);
    POLL_UNTIL(dtls_udp_get_available_packet_count(client) > 0, tiny_wait(), 3000);
    CHECK_ERR(dtls_udp_get_packet(client, buffer, sizeof buffer, &length), DTLS_OK);
    CHECK(length == 4 && memcmp(buffer, "pong", 4) == 0);
    if (length != 4) fprintf(stderr, "     no reply through %s to a server on %s\n", client_host, bind_address);
    dtls_udp_free(peer);
    dtls_udp_free(client);
    dtls_udp_server_free(server);
}

static void test_replies_leave_from_the_address_the_client_used(void) {
    check_echo_through("*", "127.0.0.5");
    check_echo_through("0.0.0.0", "127.0.0.5");
    check_echo_through("*", "::1");
}

static void test_dtls_through_127_0_0_5_to_a_wildcard_server(void) {
    server_node s;
    CHECK(server_ready(&s, g_key, g_cert, NULL));
    CHECK_ERR(dtls_udp_server_stop(s.server), DTLS_OK);
    CHECK_ERR(dtls_udp_server_listen(s.server, 0, "*"), DTLS_OK);
    client_node c;
    memset(&c, 0, sizeof c);
    strcpy(c.message, MESSAGE);
    c.dtls = dtls_peer_new();
    c.udp = connected_udp("127.0.0.5", server_port(&s));
    CHECK_ERR(dtls_peer_connect_to_peer(c.dtls, c.udp, false, NULL, NULL), DTLS_OK);
    run_pair(&s, &c, 10000);
    CHECK(dtls_peer_get_status(c.dtls) == DTLS_STATUS_CONNECTED);
    CHECK(strcmp(c.reply, REPLY) == 0);
    client_free(&c);
    server_free(&s);
}

/* MARK: - stop() ends the sessions */

static void test_stop_with_ten_connected_clients(void) {
    enum { CLIENTS = 10 };
    server_node s;
    static client_node clients[CLIENTS];
    CHECK(server_ready(&s, g_key, g_cert, NULL));
    for (int i = 0; i < CLIENTS; i++) client_ready(&clients[i], server_port(&s));
    int replied = 0;
    long long deadline = check_now_ms() + 20000;
    while (replied < CLIENTS && check_now_ms() < deadline) {
        server_process(&s);
        replied = 0;
        for (int i = 0; i < CLIENTS; i++) {
            client_process(&clients[i]);
            if (clients[i].connected) replied++;
        }
        tiny_wait();
    }
    CHECK(replied == CLIENTS);

    CHECK_ERR(dtls_udp_server_stop(s.server), DTLS_OK);
    int told = 0;
    for (int i = 0; i < s.peer_count; i++) {
        char reason[256];
        dtls_peer_get_error_message(s.peers[i], reason, sizeof reason);
        CHECK(dtls_peer_get_status(s.peers[i]) == DTLS_STATUS_DISCONNECTED);
        if (strstr(reason, "UDPServer stopped")) told++;
    }
    CHECK(told == CLIENTS);

    long long start = check_now_ms();
    int disconnected = 0;
    while (disconnected < CLIENTS && check_now_ms() - start < 1000) {
        disconnected = 0;
        for (int i = 0; i < CLIENTS; i++) {
            dtls_peer_poll(clients[i].dtls);
            if (dtls_peer_get_status(clients[i].dtls) == DTLS_STATUS_DISCONNECTED) disconnected++;
        }
        tiny_wait();
    }
    CHECK(disconnected == CLIENTS);
    for (int i = 0; i < CLIENTS; i++) client_free(&clients[i]);
    server_free(&s);
}

/* MARK: - Misuse */

static void test_two_dtls_peers_over_one_udp_peer(void) {
    server_node s;
    client_node c;
    CHECK(server_ready(&s, g_key, g_cert, NULL));
    client_ready(&c, server_port(&s));
    dtls_peer *second = dtls_peer_new();
    CHECK_ERR(dtls_peer_connect_to_peer(second, c.udp, false, NULL, NULL), DTLS_ERR_ALREADY_IN_USE);
    CHECK(strstr(dtls_last_error_message(), "connect_to_peer: another") != NULL);
    run_pair(&s, &c, 5000);
    CHECK(strcmp(c.reply, REPLY) == 0);

    /* Closing the UDP peer under the connected client: the next poll says so. */
    dtls_udp_close(c.udp);
    CHECK_ERR(dtls_peer_poll(c.dtls), DTLS_ERR_CONNECTION_ERROR);
    CHECK(dtls_peer_get_status(c.dtls) == DTLS_STATUS_ERROR);
    dtls_peer_free(second);
    client_free(&c);
    server_free(&s);
}

static void test_take_connection_twice_with_one_udp_peer(void) {
    server_node s;
    client_node c;
    CHECK(server_ready(&s, g_key, g_cert, NULL));
    client_ready(&c, server_port(&s));
    dtls_udp *udp = NULL;
    dtls_peer *accepted = NULL;
    long long deadline = check_now_ms() + 5000;
    while (!accepted && check_now_ms() < deadline) {
        dtls_udp_server_poll(s.server);
        dtls_peer_poll(c.dtls);
        while (!accepted && dtls_udp_server_is_connection_available(s.server)) {
            udp = dtls_udp_server_take_connection(s.server);
            dtls_peer *peer = dtls_server_take_connection(s.dtls, udp);
            if (peer && dtls_peer_get_status(peer) == DTLS_STATUS_HANDSHAKING) {
                accepted = peer;
            } else {
                dtls_peer_free(peer);
                dtls_udp_free(udp);
            }
        }
        tiny_wait();
    }
    CHECK(accepted != NULL);
    if (!accepted) return;
    CHECK(dtls_server_take_connection(s.dtls, udp) == NULL);
    CHECK(strstr(dtls_last_error_message(), "take_connection: another") != NULL);
    s.peers[s.peer_count++] = accepted;
    dtls_udp_free(udp);
    run_pair(&s, &c, 5000);
    CHECK(strcmp(c.reply, REPLY) == 0); /* the first handshake went on undisturbed */
    client_free(&c);
    server_free(&s);
}

/* MARK: - Variant numbering */

static void test_godot3_variant_read_with_the_godot4_default_is_invalid_data(void) {
    dtls_udp *receiver = dtls_udp_new();
    CHECK_ERR(dtls_udp_bind(receiver, 0, "127.0.0.1", 65536), DTLS_OK);
    dtls_udp *sender = connected_udp("127.0.0.1", dtls_udp_get_local_port(receiver));
    dtls_var *dict = dtls_var_new_dictionary();
    dtls_var *key = dtls_var_new_string("alpha");
    dtls_var *value = dtls_var_new_string("a value long enough to fill a Transform3D's 48 bytes");
    CHECK_ERR(dtls_var_dict_set(dict, key, value), DTLS_OK);

    CHECK(dtls_udp_get_godot_version(sender) == 4);
    CHECK_ERR(dtls_udp_set_godot_version(sender, 5), DTLS_ERR_INVALID_PARAMETER);
    CHECK_ERR(dtls_udp_set_godot_version(sender, 3), DTLS_OK);
    CHECK(dtls_udp_get_godot_version(sender) == 3);
    CHECK_ERR(dtls_udp_put_var(sender, dict, false, 0), DTLS_OK);
    CHECK_ERR(dtls_udp_put_var(sender, dict, false, 0), DTLS_OK);
    POLL_UNTIL(dtls_udp_get_available_packet_count(receiver) == 2, tiny_wait(), 3000);

    dtls_var *out = NULL;
    CHECK_ERR(dtls_udp_get_var(receiver, false, 0, &out), DTLS_ERR_INVALID_DATA);
    CHECK(out == NULL);
    CHECK(strstr(dtls_last_error_message(), "Godot 3") != NULL);
    CHECK_ERR(dtls_udp_set_godot_version(receiver, 3), DTLS_OK);
    CHECK_ERR(dtls_udp_get_var(receiver, false, 0, &out), DTLS_OK);
    CHECK(dtls_var_get_type(out) == DTLS_VAR_DICTIONARY && dtls_var_dict_size(out) == 1);
    CHECK_ERR(dtls_udp_get_var(receiver, false, 7, &out), DTLS_ERR_INVALID_PARAMETER);
    dtls_var_free(out);
    dtls_var_free(value);
    dtls_var_free(key);
    dtls_var_free(dict);
    dtls_udp_free(sender);
    dtls_udp_free(receiver);
}

int main(void) {
    if (!make_identities()) {
        fprintf(stderr, "cannot make the test identities: %s\n", dtls_last_error_message());
        return 1;
    }
    RUN(test_burst_of_500_while_busy_arrives_whole);
    RUN(test_an_unread_full_peer_drops_and_counts);
    RUN(test_stats_and_limits_refuse_bad_arguments);
    RUN(test_replies_leave_from_the_address_the_client_used);
    RUN(test_dtls_through_127_0_0_5_to_a_wildcard_server);
    RUN(test_stop_with_ten_connected_clients);
    RUN(test_two_dtls_peers_over_one_udp_peer);
    RUN(test_take_connection_twice_with_one_udp_peer);
    RUN(test_godot3_variant_read_with_the_godot4_default_is_invalid_data);
    free_identities();
    return check_summary("test_nothing_lost");
}
