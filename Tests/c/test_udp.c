/*
 * test_udp.c — PacketPeerUDP and UDPServer through include/packetdtls.h, over loopback only.
 *
 * Every dtls_udp_* and dtls_udp_server_* function is called here, with good arguments and with
 * the bad ones a C caller can pass: NULL, freed, never-issued and wrong-class handles, NULL
 * strings and buffers, negative ports. Ports come from binding port 0; loops poll with a deadline.
 */
#define _POSIX_C_SOURCE 200809L
#include <poll.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <stdlib.h>
#include "check.h"

#define DEADLINE_MS 3000

/* A handle that was never issued. */
#define FORGED_UDP ((dtls_udp *)(uintptr_t)0x1234)
#define FORGED_SERVER ((dtls_udp_server *)(uintptr_t)0x1234)

static dtls_udp *bound_peer(const char *address) {
    dtls_udp *udp = dtls_udp_new();
    CHECK(udp != NULL);
    CHECK_ERR(dtls_udp_bind(udp, 0, address, 65536), DTLS_OK);
    return udp;
}

static dtls_udp_server *listening_server(const char *address) {
    dtls_udp_server *server = dtls_udp_server_new();
    CHECK(server != NULL);
    CHECK_ERR(dtls_udp_server_listen(server, 0, address), DTLS_OK);
    return server;
}

/* Polls `server` until a connection is available, then takes it. */
static dtls_udp *take(dtls_udp_server *server) {
    POLL_UNTIL(dtls_udp_server_is_connection_available(server), dtls_udp_server_poll(server), DEADLINE_MS);
    return dtls_udp_server_take_connection(server);
}

static void test_new_and_free(void) {
    dtls_udp *udp = dtls_udp_new();
    CHECK(udp != NULL);
    CHECK(!dtls_udp_is_bound(udp));
    CHECK(!dtls_udp_is_listening(udp));
    CHECK(!dtls_udp_is_socket_connected(udp));
    CHECK(!dtls_udp_is_connected_to_host(udp));
    CHECK(dtls_udp_get_local_port(udp) == 0);
    dtls_udp_free(udp);
    dtls_udp_free(udp); /* a second free is ignored */
    dtls_udp_free(NULL);
    dtls_udp_server_free(NULL);
}

static void test_bind_and_listen(void) {
    dtls_udp *udp = dtls_udp_new();
    CHECK_ERR(dtls_udp_bind(udp, 0, "127.0.0.1", 65536), DTLS_OK);
    CHECK(dtls_udp_is_bound(udp));
    CHECK(dtls_udp_is_listening(udp));
    int port = dtls_udp_get_local_port(udp);
    CHECK(port > 0);
    CHECK_ERR(dtls_udp_bind(udp, 0, "127.0.0.1", 65536), DTLS_ERR_ALREADY_IN_USE);

    dtls_udp *other = dtls_udp_new();
    CHECK_ERR(dtls_udp_listen(other, port, "127.0.0.1", 65536), DTLS_ERR_UNAVAILABLE);
    CHECK(strstr(dtls_last_error_message(), "in use") != NULL);
    CHECK_ERR(dtls_udp_listen(other, -1, NULL, 65536), DTLS_ERR_INVALID_PARAMETER);
    CHECK_ERR(dtls_udp_listen(other, 65536, NULL, 65536), DTLS_ERR_INVALID_PARAMETER);
    CHECK_ERR(dtls_udp_listen(other, 0, "bogus", 65536), DTLS_ERR_INVALID_PARAMETER);
    CHECK_ERR(dtls_udp_listen(other, 0, "\xff\xfe", 65536), DTLS_ERR_INVALID_PARAMETER); /* invalid UTF-8 */
    CHECK_ERR(dtls_udp_listen(other, 0, NULL, -5), DTLS_ERR_INVALID_PARAMETER);
    CHECK_ERR(dtls_udp_listen(other, 0, NULL, 65536), DTLS_OK); /* NULL = "*" */
    CHECK(dtls_udp_is_listening(other));

    CHECK_ERR(dtls_udp_close(udp), DTLS_OK);
    CHECK(!dtls_udp_is_bound(udp));
    CHECK(dtls_udp_get_local_port(udp) == 0);
    dtls_udp_free(udp);
    dtls_udp_free(other);
}

static void test_exchange_and_packet_source(void) {
    dtls_udp *server = bound_peer("127.0.0.1");
    dtls_udp *client = dtls_udp_new();
    CHECK_ERR(dtls_udp_put_packet(client, (const uint8_t *)"x", 1), DTLS_ERR_UNCONFIGURED);
    CHECK_ERR(dtls_udp_set_dest_address(client, "127.0.0.1", dtls_udp_get_local_port(server)), DTLS_OK);
    CHECK_ERR(dtls_udp_put_packet(client, (const uint8_t *)"hello", 5), DTLS_OK);
    CHECK(dtls_udp_is_bound(client)); /* put_packet opened a socket */

    POLL_UNTIL(dtls_udp_get_available_packet_count(server) == 1, (void)0, DEADLINE_MS);
    CHECK(dtls_udp_get_available_packet_count(server) == 1);
    uint8_t buf[64];
    size_t len = 99;
    CHECK_ERR(dtls_udp_get_packet(server, buf, sizeof buf, &len), DTLS_OK);
    CHECK(len == 5 && memcmp(buf, "hello", 5) == 0);
    CHECK_ERR(dtls_udp_get_packet_error(server), DTLS_OK);

    char ip[64];
    CHECK(dtls_udp_get_packet_ip(server, ip, sizeof ip) == 9);
    CHECK(strcmp(ip, "127.0.0.1") == 0);
    char tiny[4];
    CHECK(dtls_udp_get_packet_ip(server, tiny, sizeof tiny) == 9); /* snprintf-style */
    CHECK(strcmp(tiny, "127") == 0);
    CHECK(dtls_udp_get_packet_ip(server, NULL, 0) == 9);
    CHECK(dtls_udp_get_packet_port(server) == dtls_udp_get_local_port(client));

    /* Empty datagrams are datagrams. */
    CHECK_ERR(dtls_udp_put_packet(client, NULL, 0), DTLS_OK);
    POLL_UNTIL(dtls_udp_get_available_packet_count(server) == 1, (void)0, DEADLINE_MS);
    CHECK_ERR(dtls_udp_get_packet(server, NULL, 0, &len), DTLS_OK);
    CHECK(len == 0);

    /* Nothing queued. */
    CHECK_ERR(dtls_udp_get_packet(server, buf, sizeof buf, &len), DTLS_ERR_UNAVAILABLE);
    CHECK_ERR(dtls_udp_get_packet_error(server), DTLS_ERR_UNAVAILABLE);
    dtls_udp_free(server);
    dtls_udp_free(client);
}

static void test_small_buffer_keeps_the_packet(void) {
    dtls_udp *server = bound_peer("127.0.0.1");
    dtls_udp *client = bound_peer("127.0.0.1");
    CHECK_ERR(dtls_udp_set_dest_address(client, "127.0.0.1", dtls_udp_get_local_port(server)), DTLS_OK);
    CHECK_ERR(dtls_udp_put_packet(client, (const uint8_t *)"0123456789", 10), DTLS_OK);
    POLL_UNTIL(dtls_udp_get_available_packet_count(server) == 1, (void)0, DEADLINE_MS);

    uint8_t buf[16];
    size_t len = 0;
    CHECK_ERR(dtls_udp_get_packet(server, buf, 4, &len), DTLS_ERR_PARAMETER_RANGE_ERROR);
    CHECK(len == 10);
    CHECK_ERR(dtls_udp_get_packet_error(server), DTLS_ERR_PARAMETER_RANGE_ERROR);
    CHECK_ERR(dtls_udp_get_packet(server, NULL, 0, &len), DTLS_ERR_PARAMETER_RANGE_ERROR); /* size probe */
    CHECK(len == 10);
    CHECK(dtls_udp_get_available_packet_count(server) == 1); /* still queued */

    CHECK_ERR(dtls_udp_get_packet(server, buf, sizeof buf, NULL), DTLS_ERR_INVALID_PARAMETER);
    CHECK_ERR(dtls_udp_get_packet(server, NULL, 16, &len), DTLS_ERR_INVALID_PARAMETER);
    CHECK_ERR(dtls_udp_get_packet(server, buf, (size_t)-1, &len), DTLS_ERR_INVALID_PARAMETER);
    CHECK(dtls_udp_get_available_packet_count(server) == 1);

    CHECK_ERR(dtls_udp_get_packet(server, buf, 10, &len), DTLS_OK);
    CHECK(len == 10 && memcmp(buf, "0123456789", 10) == 0);
    dtls_udp_free(server);
    dtls_udp_free(client);
}

static void test_put_packet_arguments(void) {
    dtls_udp *server = bound_peer("127.0.0.1");
    dtls_udp *client = bound_peer("127.0.0.1");
    CHECK_ERR(dtls_udp_set_dest_address(client, "127.0.0.1", dtls_udp_get_local_port(server)), DTLS_OK);
    CHECK_ERR(dtls_udp_put_packet(client, NULL, 5), DTLS_ERR_INVALID_PARAMETER);
    CHECK_ERR(dtls_udp_put_packet(client, (const uint8_t *)"x", (size_t)-1), DTLS_ERR_INVALID_PARAMETER);
    uint8_t *big = calloc(65508, 1);
    CHECK(big != NULL);
    CHECK_ERR(dtls_udp_put_packet(client, big, 65508), DTLS_ERR_INVALID_PARAMETER);
    CHECK(strstr(dtls_last_error_message(), "65508") != NULL);
    CHECK_ERR(dtls_udp_put_packet(client, big, 65507), DTLS_OK);
    POLL_UNTIL(dtls_udp_get_available_packet_count(server) == 1, (void)0, DEADLINE_MS);
    size_t len = 0;
    CHECK_ERR(dtls_udp_get_packet(server, big, 65508, &len), DTLS_OK);
    CHECK(len == 65507);
    free(big);
    dtls_udp_free(server);
    dtls_udp_free(client);
}

static void test_connect_to_host(void) {
    dtls_udp *host = bound_peer("127.0.0.1");
    dtls_udp *client = dtls_udp_new();
    CHECK_ERR(dtls_udp_connect_to_host(client, NULL, 9), DTLS_ERR_INVALID_PARAMETER);
    CHECK_ERR(dtls_udp_connect_to_host(client, "", 9), DTLS_ERR_INVALID_PARAMETER);
    CHECK_ERR(dtls_udp_connect_to_host(client, "127.0.0.1", 0), DTLS_ERR_INVALID_PARAMETER);
    CHECK_ERR(dtls_udp_connect_to_host(client, "127.0.0.1", -1), DTLS_ERR_INVALID_PARAMETER);
    CHECK_ERR(dtls_udp_connect_to_host(client, "no-such-host.invalid", 9), DTLS_ERR_CANT_RESOLVE);
    CHECK_ERR(dtls_udp_connect_to_host(client, "\xc3\x28", 9), DTLS_ERR_CANT_RESOLVE); /* invalid UTF-8 */
    CHECK(!dtls_udp_is_bound(client));

    CHECK_ERR(dtls_udp_connect_to_host(client, "localhost", dtls_udp_get_local_port(host)), DTLS_OK);
    CHECK(dtls_udp_is_socket_connected(client));
    CHECK(dtls_udp_is_connected_to_host(client));
    CHECK(dtls_udp_get_local_port(client) > 0);
    CHECK_ERR(dtls_udp_set_dest_address(client, "127.0.0.1", 9), DTLS_ERR_UNCONFIGURED);
    CHECK_ERR(dtls_udp_put_packet(client, (const uint8_t *)"hi", 2), DTLS_OK);
    POLL_UNTIL(dtls_udp_get_available_packet_count(host) == 1, (void)0, DEADLINE_MS);
    CHECK(dtls_udp_get_packet_port(host) == 0); /* nothing read yet */
    size_t len = 0;
    uint8_t buf[8];
    CHECK_ERR(dtls_udp_get_packet(host, buf, sizeof buf, &len), DTLS_OK);
    CHECK(dtls_udp_get_packet_port(host) == dtls_udp_get_local_port(client));
    dtls_udp_free(host);
    dtls_udp_free(client);
}

static void test_set_dest_address(void) {
    dtls_udp *udp = dtls_udp_new();
    CHECK_ERR(dtls_udp_set_dest_address(udp, NULL, 9), DTLS_ERR_INVALID_PARAMETER);
    CHECK_ERR(dtls_udp_set_dest_address(udp, "", 9), DTLS_ERR_INVALID_PARAMETER);
    CHECK_ERR(dtls_udp_set_dest_address(udp, "::1", -3), DTLS_ERR_INVALID_PARAMETER);
    CHECK_ERR(dtls_udp_set_dest_address(udp, "no-such-host.invalid", 9), DTLS_ERR_CANT_RESOLVE);
    CHECK_ERR(dtls_udp_set_dest_address(udp, "::1", 9), DTLS_OK);
    dtls_udp_free(udp);
}

static void test_wait(void) {
    dtls_udp *udp = dtls_udp_new();
    CHECK_ERR(dtls_udp_wait(udp), DTLS_ERR_UNCONFIGURED);
    CHECK_ERR(dtls_udp_wait_timeout(udp, 0), DTLS_ERR_UNCONFIGURED);
    CHECK_ERR(dtls_udp_bind(udp, 0, "::1", 65536), DTLS_OK);
    CHECK_ERR(dtls_udp_wait_timeout(udp, 10), DTLS_ERR_TIMEOUT);
    CHECK_ERR(dtls_udp_wait_timeout(udp, -1), DTLS_ERR_INVALID_PARAMETER);

    dtls_udp *client = dtls_udp_new();
    CHECK_ERR(dtls_udp_connect_to_host(client, "::1", dtls_udp_get_local_port(udp)), DTLS_OK);
    CHECK_ERR(dtls_udp_put_packet(client, (const uint8_t *)"w", 1), DTLS_OK);
    CHECK_ERR(dtls_udp_wait(udp), DTLS_OK);
    CHECK(dtls_udp_get_available_packet_count(udp) == 1);
    char ip[64];
    size_t len = 0;
    uint8_t buf[4];
    CHECK_ERR(dtls_udp_get_packet(udp, buf, sizeof buf, &len), DTLS_OK);
    dtls_udp_get_packet_ip(udp, ip, sizeof ip);
    CHECK(strcmp(ip, "::1") == 0);
    dtls_udp_free(udp);
    dtls_udp_free(client);
}

/* True when `fd` becomes readable within DEADLINE_MS, as an event loop would see it. */
static int fd_readable(int fd) {
    struct pollfd entry = {.fd = fd, .events = POLLIN, .revents = 0};
    return poll(&entry, 1, DEADLINE_MS) == 1 && (entry.revents & POLLIN);
}

static void test_event_loop_descriptors(void) {
    CHECK(dtls_udp_get_fd(NULL) == -1);
    CHECK(strstr(dtls_last_error_message(), "dtls_udp_get_fd") != NULL);
    CHECK(dtls_udp_get_fd(FORGED_UDP) == -1);
    CHECK(dtls_udp_server_get_fd(NULL) == -1);
    CHECK(dtls_udp_server_get_fd(FORGED_SERVER) == -1);

    dtls_udp *unbound = dtls_udp_new();
    CHECK(dtls_udp_get_fd(unbound) == -1);
    CHECK(strstr(dtls_last_error_message(), "no socket") != NULL);
    dtls_udp_server *server = dtls_udp_server_new();
    CHECK(dtls_udp_server_get_fd(server) == -1);
    CHECK(strstr(dtls_last_error_message(), "not listening") != NULL);
    CHECK_ERR(dtls_udp_server_listen(server, 0, "127.0.0.1"), DTLS_OK);
    int server_fd = dtls_udp_server_get_fd(server);
    CHECK(server_fd >= 0);

    /* A datagram to the server makes its descriptor readable; poll routes it to a new peer, whose
       descriptor is the server's (it shares the socket). */
    CHECK_ERR(dtls_udp_connect_to_host(unbound, "127.0.0.1", dtls_udp_server_get_local_port(server)), DTLS_OK);
    int client_fd = dtls_udp_get_fd(unbound);
    CHECK(client_fd >= 0 && client_fd != server_fd);
    CHECK_ERR(dtls_udp_put_packet(unbound, (const uint8_t *)"ping", 4), DTLS_OK);
    CHECK(fd_readable(server_fd));
    CHECK_ERR(dtls_udp_server_poll(server), DTLS_OK);
    CHECK(dtls_udp_server_is_connection_available(server));
    dtls_udp *taken = dtls_udp_server_take_connection(server);
    CHECK(taken != NULL);
    CHECK(dtls_udp_get_fd(taken) == server_fd);

    /* The reply makes the client's own descriptor readable. */
    CHECK_ERR(dtls_udp_put_packet(taken, (const uint8_t *)"pong", 4), DTLS_OK);
    CHECK(fd_readable(client_fd));
    uint8_t buf[8];
    size_t len = 0;
    CHECK_ERR(dtls_udp_get_packet(unbound, buf, sizeof buf, &len), DTLS_OK);
    CHECK(len == 4 && memcmp(buf, "pong", 4) == 0);

    dtls_udp_close(unbound);
    CHECK(dtls_udp_get_fd(unbound) == -1);
    dtls_udp_server_stop(server);
    CHECK(dtls_udp_server_get_fd(server) == -1);
    dtls_udp_free(taken);
    dtls_udp_free(unbound);
    dtls_udp_server_free(server);
}

static void test_broadcast_and_multicast(void) {
    dtls_udp *udp = dtls_udp_new();
    CHECK_ERR(dtls_udp_set_broadcast_enabled(udp, true), DTLS_OK); /* stored until a socket exists */
    CHECK_ERR(dtls_udp_join_multicast_group(udp, "224.0.0.251", NULL), DTLS_ERR_UNCONFIGURED);
    CHECK_ERR(dtls_udp_bind(udp, 0, "0.0.0.0", 65536), DTLS_OK);
    CHECK_ERR(dtls_udp_set_broadcast_enabled(udp, false), DTLS_OK);
    CHECK_ERR(dtls_udp_join_multicast_group(udp, NULL, "lo"), DTLS_ERR_INVALID_PARAMETER);
    CHECK_ERR(dtls_udp_join_multicast_group(udp, "10.0.0.1", "lo"), DTLS_ERR_INVALID_PARAMETER);
    CHECK_ERR(dtls_udp_join_multicast_group(udp, "224.0.0.251", "no-such-if0"), DTLS_ERR_INVALID_PARAMETER);
    CHECK_ERR(dtls_udp_join_multicast_group(udp, "224.0.0.251", "lo"), DTLS_OK);
    CHECK_ERR(dtls_udp_leave_multicast_group(udp, "224.0.0.251", "lo"), DTLS_OK);
    CHECK_ERR(dtls_udp_leave_multicast_group(udp, "224.0.0.251", "lo"), DTLS_FAILED);
    CHECK_ERR(dtls_udp_leave_multicast_group(udp, NULL, NULL), DTLS_ERR_INVALID_PARAMETER);
    dtls_udp_free(udp);
}

static void test_bad_udp_handles(void) {
    dtls_udp *freed = dtls_udp_new();
    dtls_udp_free(freed);
    dtls_udp_server *server = dtls_udp_server_new();
    dtls_udp *wrong = (dtls_udp *)server; /* a handle of another class */
    dtls_udp *bad[] = {NULL, freed, FORGED_UDP, wrong};
    uint8_t buf[8];
    char text[8];
    size_t len = 7;
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        dtls_udp *udp = bad[i];
        CHECK_ERR(dtls_udp_bind(udp, 0, NULL, 65536), DTLS_ERR_INVALID_PARAMETER);
        CHECK(strstr(dtls_last_error_message(), "handle") != NULL);
        CHECK_ERR(dtls_udp_listen(udp, 0, NULL, 65536), DTLS_ERR_INVALID_PARAMETER);
        CHECK_ERR(dtls_udp_close(udp), DTLS_ERR_INVALID_PARAMETER);
        CHECK(!dtls_udp_is_bound(udp));
        CHECK(!dtls_udp_is_listening(udp));
        CHECK_ERR(dtls_udp_connect_to_host(udp, "127.0.0.1", 9), DTLS_ERR_INVALID_PARAMETER);
        CHECK(!dtls_udp_is_socket_connected(udp));
        CHECK(!dtls_udp_is_connected_to_host(udp));
        CHECK_ERR(dtls_udp_set_dest_address(udp, "127.0.0.1", 9), DTLS_ERR_INVALID_PARAMETER);
        CHECK_ERR(dtls_udp_wait(udp), DTLS_ERR_INVALID_PARAMETER);
        CHECK_ERR(dtls_udp_wait_timeout(udp, 0), DTLS_ERR_INVALID_PARAMETER);
        strcpy(text, "junk");
        CHECK(dtls_udp_get_packet_ip(udp, text, sizeof text) == 0);
        CHECK(text[0] == '\0');
        CHECK(dtls_udp_get_packet_port(udp) == 0);
        CHECK(dtls_udp_get_local_port(udp) == 0);
        CHECK_ERR(dtls_udp_set_broadcast_enabled(udp, true), DTLS_ERR_INVALID_PARAMETER);
        CHECK_ERR(dtls_udp_join_multicast_group(udp, "224.0.0.251", NULL), DTLS_ERR_INVALID_PARAMETER);
        CHECK_ERR(dtls_udp_leave_multicast_group(udp, "224.0.0.251", NULL), DTLS_ERR_INVALID_PARAMETER);
        CHECK_ERR(dtls_udp_put_packet(udp, buf, 1), DTLS_ERR_INVALID_PARAMETER);
        CHECK_ERR(dtls_udp_get_packet(udp, buf, sizeof buf, &len), DTLS_ERR_INVALID_PARAMETER);
        CHECK(dtls_udp_get_available_packet_count(udp) == 0);
        CHECK_ERR(dtls_udp_get_packet_error(udp), DTLS_ERR_INVALID_PARAMETER);
        dtls_udp_free(udp); /* ignored */
    }
    /* The wrong-class free above did not touch the server. */
    CHECK_ERR(dtls_udp_server_listen(server, 0, "127.0.0.1"), DTLS_OK);
    dtls_udp_server_free(server);
}

static void test_bad_server_handles(void) {
    dtls_udp_server *freed = dtls_udp_server_new();
    dtls_udp_server_free(freed);
    dtls_udp *udp = dtls_udp_new();
    dtls_udp_server *wrong = (dtls_udp_server *)udp;
    dtls_udp_server *bad[] = {NULL, freed, FORGED_SERVER, wrong};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        dtls_udp_server *server = bad[i];
        CHECK_ERR(dtls_udp_server_listen(server, 0, NULL), DTLS_ERR_INVALID_PARAMETER);
        CHECK(strstr(dtls_last_error_message(), "handle") != NULL);
        CHECK_ERR(dtls_udp_server_poll(server), DTLS_ERR_INVALID_PARAMETER);
        CHECK(!dtls_udp_server_is_connection_available(server));
        CHECK(dtls_udp_server_take_connection(server) == NULL);
        CHECK(!dtls_udp_server_is_listening(server));
        CHECK(dtls_udp_server_get_local_port(server) == 0);
        CHECK_ERR(dtls_udp_server_stop(server), DTLS_ERR_INVALID_PARAMETER);
        CHECK_ERR(dtls_udp_server_set_max_pending_connections(server, 3), DTLS_ERR_INVALID_PARAMETER);
        CHECK(dtls_udp_server_get_max_pending_connections(server) == 0);
        dtls_udp_server_free(server); /* ignored */
    }
    CHECK_ERR(dtls_udp_bind(udp, 0, "127.0.0.1", 65536), DTLS_OK); /* still alive */
    dtls_udp_free(udp);
}

static void test_server_accept_and_exchange(void) {
    dtls_udp_server *server = listening_server("127.0.0.1");
    CHECK(dtls_udp_server_is_listening(server));
    int port = dtls_udp_server_get_local_port(server);
    CHECK(port > 0);
    CHECK_ERR(dtls_udp_server_listen(server, 0, NULL), DTLS_ERR_ALREADY_IN_USE);
    CHECK(!dtls_udp_server_is_connection_available(server));
    CHECK(dtls_udp_server_take_connection(server) == NULL);

    dtls_udp *client = dtls_udp_new();
    CHECK_ERR(dtls_udp_connect_to_host(client, "127.0.0.1", port), DTLS_OK);
    CHECK_ERR(dtls_udp_put_packet(client, (const uint8_t *)"Hello", 5), DTLS_OK);
    dtls_udp *peer = take(server);
    CHECK(peer != NULL);
    if (peer == NULL) return;
    CHECK(dtls_udp_is_socket_connected(peer));
    CHECK(dtls_udp_get_local_port(peer) == port);
    CHECK_ERR(dtls_udp_bind(peer, 0, NULL, 65536), DTLS_ERR_LOCKED);
    CHECK_ERR(dtls_udp_connect_to_host(peer, "127.0.0.1", 9), DTLS_ERR_LOCKED);
    uint8_t buf[16];
    size_t len = 0;
    CHECK_ERR(dtls_udp_get_packet(peer, buf, sizeof buf, &len), DTLS_OK);
    CHECK(len == 5 && memcmp(buf, "Hello", 5) == 0);
    CHECK(dtls_udp_get_packet_port(peer) == dtls_udp_get_local_port(client));

    CHECK_ERR(dtls_udp_put_packet(peer, (const uint8_t *)"back", 4), DTLS_OK);
    POLL_UNTIL(dtls_udp_get_available_packet_count(client) == 1, (void)0, DEADLINE_MS);
    CHECK_ERR(dtls_udp_get_packet(client, buf, sizeof buf, &len), DTLS_OK);
    CHECK(len == 4 && memcmp(buf, "back", 4) == 0);

    /* stop() closes the taken peer. */
    CHECK_ERR(dtls_udp_server_stop(server), DTLS_OK);
    CHECK(!dtls_udp_server_is_listening(server));
    CHECK(dtls_udp_server_get_local_port(server) == 0);
    CHECK_ERR(dtls_udp_server_poll(server), DTLS_ERR_UNCONFIGURED);
    CHECK(!dtls_udp_is_socket_connected(peer));
    CHECK_ERR(dtls_udp_put_packet(peer, (const uint8_t *)"x", 1), DTLS_ERR_UNCONFIGURED);
    dtls_udp_free(peer);
    dtls_udp_free(client);
    dtls_udp_server_free(server);
}

static void test_server_max_pending(void) {
    dtls_udp_server *server = listening_server("127.0.0.1");
    CHECK(dtls_udp_server_get_max_pending_connections(server) == 16);
    CHECK_ERR(dtls_udp_server_set_max_pending_connections(server, -1), DTLS_ERR_INVALID_PARAMETER);
    CHECK_ERR(dtls_udp_server_set_max_pending_connections(server, 3), DTLS_OK);
    CHECK(dtls_udp_server_get_max_pending_connections(server) == 3);
    int port = dtls_udp_server_get_local_port(server);
    dtls_udp *clients[5];
    for (int i = 0; i < 5; i++) {
        clients[i] = dtls_udp_new();
        CHECK_ERR(dtls_udp_connect_to_host(clients[i], "127.0.0.1", port), DTLS_OK);
        uint8_t byte = (uint8_t)i;
        CHECK_ERR(dtls_udp_put_packet(clients[i], &byte, 1), DTLS_OK);
    }
    /* Wait until all five were read: three pending, two dropped. */
    int pending = 0;
    long long deadline = check_now_ms() + DEADLINE_MS;
    dtls_udp *taken[5] = {0};
    while (pending < 3 && check_now_ms() < deadline) {
        CHECK_ERR(dtls_udp_server_poll(server), DTLS_OK);
        dtls_udp *peer = dtls_udp_server_take_connection(server);
        if (peer) taken[pending++] = peer;
    }
    CHECK(pending == 3);
    /* Loopback queues all five before the first poll, which reads them all: two found no room. */
    CHECK_ERR(dtls_udp_server_poll(server), DTLS_OK);
    CHECK(dtls_udp_server_take_connection(server) == NULL);
    CHECK(!dtls_udp_server_is_connection_available(server));

    CHECK_ERR(dtls_udp_server_set_max_pending_connections(server, 0), DTLS_OK);
    CHECK(dtls_udp_server_get_max_pending_connections(server) == 0);
    for (int i = 0; i < 3; i++) dtls_udp_free(taken[i]);
    for (int i = 0; i < 5; i++) dtls_udp_free(clients[i]);
    dtls_udp_server_free(server);
}

static void test_server_wait_timeout(void) {
    dtls_udp_server *server = dtls_udp_server_new();
    CHECK_ERR(dtls_udp_server_wait_timeout(server, 5), DTLS_ERR_UNCONFIGURED);
    CHECK_ERR(dtls_udp_server_listen(server, 0, "127.0.0.1"), DTLS_OK);
    CHECK_ERR(dtls_udp_server_wait_timeout(server, 10), DTLS_ERR_TIMEOUT);
    CHECK_ERR(dtls_udp_server_wait_timeout(server, -1), DTLS_ERR_INVALID_PARAMETER);
    CHECK_ERR(dtls_udp_server_wait_timeout(NULL, 1), DTLS_ERR_INVALID_PARAMETER);
    dtls_udp *client = dtls_udp_new();
    CHECK_ERR(dtls_udp_connect_to_host(client, "127.0.0.1", dtls_udp_server_get_local_port(server)), DTLS_OK);
    CHECK_ERR(dtls_udp_put_packet(client, (const uint8_t *)"x", 1), DTLS_OK);
    CHECK_ERR(dtls_udp_server_wait_timeout(server, 5000), DTLS_OK);
    CHECK_ERR(dtls_udp_server_poll(server), DTLS_OK);
    CHECK(dtls_udp_server_is_connection_available(server));
    dtls_udp_free(client);
    dtls_udp_server_free(server);
}

/* Send batching (beyond Godot): off by default; on, a server peer's datagrams wait for
 * dtls_udp_server_flush_sends() or the next poll, then arrive in order, once each, with the figures. */
static void test_server_send_batching(void) {
    dtls_udp_server *server = listening_server("127.0.0.1");
    dtls_udp *client = bound_peer("127.0.0.1");
    CHECK_ERR(dtls_udp_connect_to_host(client, "127.0.0.1", dtls_udp_server_get_local_port(server)), DTLS_OK);
    CHECK_ERR(dtls_udp_put_packet(client, (const uint8_t *)"hi", 2), DTLS_OK);
    dtls_udp *peer = take(server);
    CHECK(peer != NULL);
    uint8_t buf[64];
    size_t len = 0;

    CHECK(!dtls_udp_server_is_send_batching(server));
    CHECK_ERR(dtls_udp_put_packet(peer, (const uint8_t *)"a", 1), DTLS_OK);
    POLL_UNTIL(dtls_udp_get_available_packet_count(client) == 1, (void)0, DEADLINE_MS);
    CHECK_ERR(dtls_udp_get_packet(client, buf, sizeof buf, &len), DTLS_OK);

    CHECK_ERR(dtls_udp_server_set_send_batching(server, true), DTLS_OK);
    CHECK(dtls_udp_server_is_send_batching(server));
    for (uint8_t i = 0; i < 10; i++) CHECK_ERR(dtls_udp_put_packet(peer, &i, 1), DTLS_OK);
    CHECK(dtls_udp_get_available_packet_count(client) == 0); /* loopback delivers within the send: none yet */
    dtls_udp_stats stats;
    CHECK_ERR(dtls_udp_server_get_stats(server, &stats, sizeof stats), DTLS_OK);
    CHECK(stats.datagrams_waiting_to_send == 10 && stats.datagrams_sent_batched == 0);
    CHECK_ERR(dtls_udp_server_flush_sends(server), DTLS_OK);
    POLL_UNTIL(dtls_udp_get_available_packet_count(client) == 10, (void)0, DEADLINE_MS);
    for (uint8_t i = 0; i < 10; i++) {
        CHECK_ERR(dtls_udp_get_packet(client, buf, sizeof buf, &len), DTLS_OK);
        CHECK(len == 1 && buf[0] == i);
    }
    CHECK(dtls_udp_get_available_packet_count(client) == 0);

    /* The next poll flushes too. */
    CHECK_ERR(dtls_udp_put_packet(peer, (const uint8_t *)"p", 1), DTLS_OK);
    CHECK(dtls_udp_get_available_packet_count(client) == 0);
    CHECK_ERR(dtls_udp_server_poll(server), DTLS_OK);
    POLL_UNTIL(dtls_udp_get_available_packet_count(client) == 1, (void)0, DEADLINE_MS);
    CHECK_ERR(dtls_udp_get_packet(client, buf, sizeof buf, &len), DTLS_OK);
    CHECK(len == 1 && buf[0] == 'p');

    CHECK_ERR(dtls_udp_server_get_stats(server, &stats, sizeof stats), DTLS_OK);
    CHECK(stats.datagrams_sent_batched == 11 && stats.datagrams_waiting_to_send == 0);
    CHECK(stats.datagrams_send_failed == 0 && stats.send_batch_calls == 2);
    /* An older, shorter struct gets only its own fields. */
    dtls_udp_stats old;
    memset(&old, 0xee, sizeof old);
    CHECK_ERR(dtls_udp_server_get_stats(server, &old, offsetof(dtls_udp_stats, datagrams_sent_batched)), DTLS_OK);
    CHECK(old.datagrams_sent_batched == 0xeeeeeeeeeeeeeeeeULL);

    CHECK_ERR(dtls_udp_server_set_send_batching(server, false), DTLS_OK);
    CHECK(!dtls_udp_server_is_send_batching(server));
    dtls_udp_server_stop(server);
    CHECK_ERR(dtls_udp_server_flush_sends(server), DTLS_ERR_UNCONFIGURED);

    CHECK_ERR(dtls_udp_server_set_send_batching(NULL, true), DTLS_ERR_INVALID_PARAMETER);
    CHECK_ERR(dtls_udp_server_set_send_batching(FORGED_SERVER, true), DTLS_ERR_INVALID_PARAMETER);
    CHECK_ERR(dtls_udp_server_set_send_batching((dtls_udp_server *)client, true), DTLS_ERR_INVALID_PARAMETER);
    CHECK(!dtls_udp_server_is_send_batching(NULL));
    CHECK(!dtls_udp_server_is_send_batching(FORGED_SERVER));
    CHECK_ERR(dtls_udp_server_flush_sends(NULL), DTLS_ERR_INVALID_PARAMETER);
    CHECK_ERR(dtls_udp_server_flush_sends(FORGED_SERVER), DTLS_ERR_INVALID_PARAMETER);
    dtls_udp_free(peer);
    dtls_udp_free(client);
    dtls_udp_server_free(server);
    CHECK_ERR(dtls_udp_server_flush_sends(server), DTLS_ERR_INVALID_PARAMETER); /* freed */
}

int main(void) {
    RUN(test_new_and_free);
    RUN(test_server_wait_timeout);
    RUN(test_bind_and_listen);
    RUN(test_exchange_and_packet_source);
    RUN(test_small_buffer_keeps_the_packet);
    RUN(test_put_packet_arguments);
    RUN(test_connect_to_host);
    RUN(test_set_dest_address);
    RUN(test_wait);
    RUN(test_event_loop_descriptors);
    RUN(test_broadcast_and_multicast);
    RUN(test_bad_udp_handles);
    RUN(test_bad_server_handles);
    RUN(test_server_accept_and_exchange);
    RUN(test_server_max_pending);
    RUN(test_server_send_batching);
    return check_summary("test_udp");
}
