/*
 * test_liveness.c — both ends agree whether a session is alive, through the C API:
 * an idle timeout tells the other end (it becomes DISCONNECTED "for inactivity" within a second),
 * keepalives (dtls_peer_set_keepalive_ms, dtls_options_set_keepalive_ms) keep a quiet session alive
 * and are counted in dtls_peer_stats, and ICMP "connection refused" ends a handshake to a closed port
 * and a session whose server process was killed (a forked child serving DTLS).
 *
 * Build (from the repository root, after `swift build --product packetdtls`):
 *   gcc -std=c99 -D_DEFAULT_SOURCE -Wall -Wextra -Werror -I include Tests/c/test_liveness.c -L .build/debug \
 *       -lpacketdtls -Wl,-rpath,$PWD/.build/debug -o /tmp/test_liveness && /tmp/test_liveness
 */
#define _POSIX_C_SOURCE 200809L

#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <sys/wait.h>
#include <unistd.h>

#include "check.h"

#define MESSAGE "The answer is... 42!"
#define REPLY "Hello DTLS client"
#define MAX_PEERS 8

#include "seed_nodes.h"

static bool message_contains(dtls_peer *peer, const char *part) {
    char message[512];
    dtls_peer_get_error_message(peer, message, sizeof message);
    return strstr(message, part) != NULL;
}

/* A server with `server_options` and a client with `client_options` (freed here), connected, one exchange done. */
static bool connect_pair(server_node *s, client_node *c, dtls_options *server_options, dtls_options *client_options) {
    CHECK(server_ready(s, g_key, g_cert, server_options));
    dtls_options_free(server_options);
    client_ready_udp(c, server_port(s));
    CHECK_ERR(dtls_peer_connect_to_peer_with_options(c->dtls, c->udp, "", client_options), DTLS_OK);
    dtls_options_free(client_options);
    run_pair(s, c, 5000);
    CHECK(strcmp(c->reply, REPLY) == 0);
    return s->peer_count == 1 && dtls_peer_get_status(c->dtls) == DTLS_STATUS_CONNECTED;
}

static dtls_options *server_options(uint32_t idle_ms, uint32_t keepalive_ms) {
    dtls_options *options = dtls_options_server(g_key, g_cert);
    CHECK_ERR(dtls_options_set_idle_timeout(options, idle_ms), DTLS_OK);
    CHECK_ERR(dtls_options_set_keepalive_ms(options, keepalive_ms), DTLS_OK);
    return options;
}

static dtls_options *client_options(uint32_t idle_ms) {
    dtls_options *options = dtls_options_client_unsafe(NULL);
    CHECK_ERR(dtls_options_set_idle_timeout(options, idle_ms), DTLS_OK);
    return options;
}

/* Polls both quiet ends until both left CONNECTED (or 5 s); the ms at which each did. */
static void times_of_ending(server_node *s, client_node *c, long long *server_ended, long long *client_ended) {
    *server_ended = *client_ended = 0;
    long long deadline = check_now_ms() + 5000;
    while ((!*server_ended || !*client_ended) && check_now_ms() < deadline) {
        server_process(s);
        dtls_peer_poll(c->dtls);
        long long now = check_now_ms();
        if (!*server_ended && dtls_peer_get_status(s->peers[0]) != DTLS_STATUS_CONNECTED) *server_ended = now;
        if (!*client_ended && dtls_peer_get_status(c->dtls) != DTLS_STATUS_CONNECTED) *client_ended = now;
        tiny_wait();
    }
}

/* MARK: - An idle timeout tells the other end */

static void test_server_idle_timeout_tells_the_quiet_client(void) {
    server_node s;
    client_node c;
    if (connect_pair(&s, &c, server_options(1000, 0), client_options(0))) {
        long long server_ended, client_ended;
        times_of_ending(&s, &c, &server_ended, &client_ended);
        CHECK(server_ended && client_ended);
        CHECK(dtls_peer_get_status(s.peers[0]) == DTLS_STATUS_ERROR);
        CHECK(message_contains(s.peers[0], "idle timeout"));
        CHECK(dtls_peer_get_status(c.dtls) == DTLS_STATUS_DISCONNECTED);
        CHECK(message_contains(c.dtls, "for inactivity"));
        CHECK(client_ended - server_ended < 1000);
        print_peer_error("client", c.dtls);
    }
    client_free(&c);
    server_free(&s);
}

static void test_client_idle_timeout_tells_the_quiet_server(void) {
    server_node s;
    client_node c;
    if (connect_pair(&s, &c, server_options(0, 0), client_options(1000))) {
        long long server_ended, client_ended;
        times_of_ending(&s, &c, &server_ended, &client_ended);
        CHECK(server_ended && client_ended);
        CHECK(dtls_peer_get_status(c.dtls) == DTLS_STATUS_ERROR);
        CHECK(message_contains(c.dtls, "idle timeout"));
        CHECK(dtls_peer_get_status(s.peers[0]) == DTLS_STATUS_DISCONNECTED);
        CHECK(message_contains(s.peers[0], "for inactivity"));
        CHECK(server_ended - client_ended < 1000);
        print_peer_error("server's peer", s.peers[0]);
    }
    client_free(&c);
    server_free(&s);
}

/* MARK: - Keepalive */

/* 500 ms keepalives each way (the client's set on the peer, the server's through its options) against 2 s idle
 * timeouts: 10 s without application traffic, no packet surfaces, the stats count the keepalives. */
static void test_keepalive_keeps_a_quiet_session_alive(void) {
    server_node s;
    client_node c;
    if (connect_pair(&s, &c, server_options(2000, 500), client_options(2000))) {
        CHECK_ERR(dtls_peer_set_keepalive_ms(c.dtls, 500), DTLS_OK);
        int surfaced = 0;
        long long until = check_now_ms() + 10000;
        while (check_now_ms() < until && dtls_peer_get_status(c.dtls) == DTLS_STATUS_CONNECTED &&
               dtls_peer_get_status(s.peers[0]) == DTLS_STATUS_CONNECTED) {
            dtls_udp_server_poll(s.server);
            dtls_peer_poll(s.peers[0]);
            dtls_peer_poll(c.dtls);
            surfaced += dtls_peer_get_available_packet_count(c.dtls) + dtls_peer_get_available_packet_count(s.peers[0]);
            tiny_wait();
        }
        CHECK(dtls_peer_get_status(c.dtls) == DTLS_STATUS_CONNECTED);
        CHECK(dtls_peer_get_status(s.peers[0]) == DTLS_STATUS_CONNECTED);
        CHECK(surfaced == 0);
        dtls_peer_stats client = {0}, server = {0};
        CHECK_ERR(dtls_peer_get_stats(c.dtls, &client, sizeof client), DTLS_OK);
        CHECK_ERR(dtls_peer_get_stats(s.peers[0], &server, sizeof server), DTLS_OK);
        CHECK(client.keepalives_sent >= 15 && server.keepalives_received >= 15);
        CHECK(server.keepalives_sent >= 15 && client.keepalives_received >= 15);
        CHECK(client.records_dropped_bad_mac == 0 && server.records_dropped_bad_mac == 0);
        printf("     keepalives: client sent %llu, received %llu; server sent %llu, received %llu\n",
               (unsigned long long)client.keepalives_sent, (unsigned long long)client.keepalives_received,
               (unsigned long long)server.keepalives_sent, (unsigned long long)server.keepalives_received);
    }
    CHECK_ERR(dtls_peer_set_keepalive_ms(NULL, 500), DTLS_ERR_INVALID_PARAMETER);
    CHECK_ERR(dtls_options_set_keepalive_ms(NULL, 500), DTLS_ERR_INVALID_PARAMETER);
    client_free(&c);
    server_free(&s);
}

/* MARK: - ICMP "connection refused" */

/* A UDP port nobody listens on right now. */
static int closed_port(void) {
    dtls_udp *probe = dtls_udp_new();
    CHECK_ERR(dtls_udp_bind(probe, 0, "127.0.0.1", 65536), DTLS_OK);
    int port = dtls_udp_get_local_port(probe);
    dtls_udp_free(probe);
    return port;
}

static void test_handshake_to_a_closed_port_fails_fast(void) {
    client_node c;
    client_ready_udp(&c, closed_port());
    long long started = check_now_ms();
    CHECK_ERR(dtls_peer_connect_to_peer(c.dtls, c.udp, false, NULL, NULL), DTLS_OK);
    POLL_UNTIL(dtls_peer_get_status(c.dtls) != DTLS_STATUS_HANDSHAKING, (dtls_peer_poll(c.dtls), tiny_wait()), 3000);
    long long took = check_now_ms() - started;
    CHECK(dtls_peer_get_status(c.dtls) == DTLS_STATUS_ERROR);
    CHECK(message_contains(c.dtls, "connection refused"));
    CHECK(took < 1500);
    print_peer_error("client", c.dtls);
    printf("     failed after %lld ms\n", took);
    client_free(&c);
}

/* A forked child serves DTLS on `port` until killed. */
static void serve_until_killed(int port, int ready_fd) {
    server_node s;
    memset(&s, 0, sizeof s);
    s.server = dtls_udp_server_new();
    s.dtls = dtls_server_new();
    dtls_options *options = dtls_options_server(g_key, g_cert);
    bool ok = dtls_udp_server_listen(s.server, port, "127.0.0.1") == DTLS_OK &&
              dtls_server_setup_with_options(s.dtls, options) == DTLS_OK;
    char byte = ok ? 'y' : 'n';
    if (write(ready_fd, &byte, 1) != 1 || !ok) _exit(1);
    for (;;) {
        server_process(&s);
        tiny_wait();
    }
}

static void test_session_whose_server_process_is_killed(void) {
    int port = closed_port();
    int ready[2];
    CHECK(pipe(ready) == 0);
    fflush(NULL);
    pid_t child = fork();
    CHECK(child >= 0);
    if (child == 0) {
        close(ready[0]);
        serve_until_killed(port, ready[1]);
    }
    close(ready[1]);
    char byte = 0;
    CHECK(read(ready[0], &byte, 1) == 1 && byte == 'y');
    close(ready[0]);

    client_node c;
    client_ready(&c, port);
    POLL_UNTIL(client_done(&c), (client_process(&c), tiny_wait()), 5000);
    CHECK(strcmp(c.reply, REPLY) == 0);
    CHECK(dtls_peer_get_status(c.dtls) == DTLS_STATUS_CONNECTED);

    CHECK(kill(child, SIGKILL) == 0);
    CHECK(waitpid(child, NULL, 0) == child);
    long long killed = check_now_ms(), last_put = 0;
    /* A game keeps sending every 100 ms; put_packet stays OK while the session lasts. */
    while (dtls_peer_get_status(c.dtls) == DTLS_STATUS_CONNECTED && check_now_ms() - killed < 4000) {
        if (check_now_ms() - last_put >= 100) {
            CHECK_ERR(dtls_peer_put_packet(c.dtls, (const uint8_t *)"tick", 4), DTLS_OK);
            last_put = check_now_ms();
        }
        dtls_peer_poll(c.dtls);
        tiny_wait();
    }
    long long took = check_now_ms() - killed;
    CHECK(dtls_peer_get_status(c.dtls) == DTLS_STATUS_ERROR);
    CHECK(message_contains(c.dtls, "connection refused"));
    CHECK(took < 3000);
    CHECK(took >= 1500); /* one refusal is soft */
    print_peer_error("client", c.dtls);
    printf("     ended %lld ms after the kill\n", took);
    client_free(&c);
}

int main(void) {
    if (!make_identities()) {
        fprintf(stderr, "cannot make the test identities: %s\n", dtls_last_error_message());
        return 1;
    }
    RUN(test_server_idle_timeout_tells_the_quiet_client);
    RUN(test_client_idle_timeout_tells_the_quiet_server);
    RUN(test_keepalive_keeps_a_quiet_session_alive);
    RUN(test_handshake_to_a_closed_port_fails_fast);
    RUN(test_session_whose_server_process_is_killed);
    free_identities();
    return check_summary("test_liveness");
}
