/*
 * cabi_echo.c — the echo workload through the C ABI (include/packetdtls.h), as a C program using
 * libpacketdtls would write it: a dtls_peer client over a connected dtls_udp, and a dtls_server
 * end over either its own dtls_udp connected to the client (default: two connected sockets, as
 * in the plain-C baseline) or a dtls_udp_server shared by all clients; one thread steps both.
 *
 *   cabi_echo N SIZE cert.pem key.pem [connected|udpserver]
 *
 * Prints the line of `packetdtls-cli bench echo`: "echo <count> <seconds> <per_second> <ciphersuite>".
 * Build: cc -O2 -I include cabi_echo.c -L <dir of libpacketdtls.so> -lpacketdtls -Wl,-rpath,<that dir>
 */
#include "packetdtls.h"
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static double now(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec + ts.tv_nsec / 1e9;
}

static void check(int ok, const char *what) {
    if (!ok) {
        fprintf(stderr, "cabi_echo: %s failed: %s\n", what, dtls_last_error_message());
        exit(1);
    }
}

/* What the handshake loop needs to find the server end: the DTLS server and one of its sockets. */
struct server_side {
    dtls_server *dtls;
    dtls_udp_server *udp_server; /* shared by all clients, or NULL */
    dtls_udp *udp;               /* connected to the one client, or NULL */
};

/* Hands new ClientHellos to new server ends and returns the current one. The first ClientHello only
 * earns a cookie (the server end it made is DISCONNECTED); the second makes a HANDSHAKING one.
 * Shared socket: take_connection for each new client. Connected socket (Godot 4: take_connection
 * wants "a udp_peer which must be already connected"): a new server end for each datagram that
 * waits while no handshake is under way. */
static dtls_peer *step_server_side(struct server_side *side, dtls_peer *server) {
    if (side->udp_server) {
        dtls_udp_server_poll(side->udp_server);
        while (dtls_udp_server_is_connection_available(side->udp_server)) {
            dtls_udp *taken = dtls_udp_server_take_connection(side->udp_server);
            dtls_peer *peer = dtls_server_take_connection(side->dtls, taken);
            dtls_udp_free(taken);
            if (peer && dtls_peer_get_status(peer) == DTLS_STATUS_HANDSHAKING) {
                dtls_peer_free(server);
                server = peer;
            } else {
                dtls_peer_free(peer);
            }
        }
    } else if ((!server || dtls_peer_get_status(server) != DTLS_STATUS_HANDSHAKING) &&
               dtls_udp_get_available_packet_count(side->udp) > 0) {
        dtls_peer_free(server);
        server = dtls_server_take_connection(side->dtls, side->udp);
    }
    return server;
}

/* Steps both ends until both are connected; returns the server end. */
static dtls_peer *handshake(struct server_side *side, dtls_peer *client) {
    dtls_peer *server = NULL;
    double deadline = now() + 30;
    while (dtls_peer_get_status(client) != DTLS_STATUS_CONNECTED ||
           !server || dtls_peer_get_status(server) != DTLS_STATUS_CONNECTED) {
        dtls_peer_poll(client);
        server = step_server_side(side, server);
        if (server) dtls_peer_poll(server);
        check(dtls_peer_get_status(client) < DTLS_STATUS_ERROR, "client handshake");
        check(now() < deadline, "the handshake within 30 s");
    }
    return server;
}

int main(int argc, char **argv) {
    if (argc < 5 || (argc > 5 && strcmp(argv[5], "connected") && strcmp(argv[5], "udpserver"))) {
        fprintf(stderr, "usage: %s N SIZE cert.pem key.pem [connected|udpserver]\n", argv[0]);
        return 2;
    }
    long n = atol(argv[1]);
    size_t size = (size_t)atol(argv[2]);
    int shared = argc > 5 && !strcmp(argv[5], "udpserver");
    dtls_key *key = dtls_key_new();
    dtls_cert *cert = dtls_cert_new();
    check(dtls_key_load(key, argv[4], false) == DTLS_OK, "dtls_key_load");
    check(dtls_cert_load(cert, argv[3]) == DTLS_OK, "dtls_cert_load");
    dtls_options *server_options = dtls_options_server(key, cert);
    dtls_options *client_options = dtls_options_client_unsafe(NULL);
    dtls_server *dtls = dtls_server_new();
    check(dtls_server_setup_with_options(dtls, server_options) == DTLS_OK, "dtls_server_setup_with_options");
    dtls_udp *udp = dtls_udp_new();
    dtls_udp_server *udp_server = NULL;
    dtls_udp *server_udp = NULL;
    if (shared) {
        udp_server = dtls_udp_server_new();
        check(dtls_udp_server_listen(udp_server, 0, "127.0.0.1") == DTLS_OK, "dtls_udp_server_listen");
        check(dtls_udp_connect_to_host(udp, "127.0.0.1", dtls_udp_server_get_local_port(udp_server)) == DTLS_OK,
              "dtls_udp_connect_to_host");
    } else {
        server_udp = dtls_udp_new();
        check(dtls_udp_bind(server_udp, 0, "127.0.0.1", 65536) == DTLS_OK, "dtls_udp_bind (server)");
        check(dtls_udp_bind(udp, 0, "127.0.0.1", 65536) == DTLS_OK, "dtls_udp_bind (client)");
        check(dtls_udp_connect_to_host(udp, "127.0.0.1", dtls_udp_get_local_port(server_udp)) == DTLS_OK,
              "dtls_udp_connect_to_host (client)");
        check(dtls_udp_connect_to_host(server_udp, "127.0.0.1", dtls_udp_get_local_port(udp)) == DTLS_OK,
              "dtls_udp_connect_to_host (server)");
    }
    dtls_peer *client = dtls_peer_new();
    check(dtls_peer_connect_to_peer_with_options(client, udp, "", client_options) == DTLS_OK, "connect_to_peer");
    struct server_side side = {dtls, udp_server, server_udp};
    dtls_peer *server = handshake(&side, client);

    unsigned char *payload = malloc(size + 1), *buf = malloc(16384);
    memset(payload, 'x', size);
    size_t got = 0;
    double t0 = now();
    for (long i = 0; i < n; i++) {
        check(dtls_peer_put_packet(client, payload, size) == DTLS_OK, "client put_packet");
        /* Godot's loop: poll, then see what came. */
        do {
            if (udp_server) dtls_udp_server_poll(udp_server);
            check(dtls_peer_poll(server) == DTLS_OK, "server poll");
        } while (dtls_peer_get_available_packet_count(server) == 0);
        check(dtls_peer_get_packet(server, buf, 16384, &got) == DTLS_OK, "server get_packet");
        check(dtls_peer_put_packet(server, buf, got) == DTLS_OK, "server put_packet");
        do {
            check(dtls_peer_poll(client) == DTLS_OK, "client poll");
        } while (dtls_peer_get_available_packet_count(client) == 0);
        check(dtls_peer_get_packet(client, buf, 16384, &got) == DTLS_OK && got == size, "client get_packet");
    }
    double dt = now() - t0;
    char suite[128];
    dtls_peer_get_ciphersuite(client, suite, sizeof suite);
    printf("echo %ld %.4f %.1f %s\n", n, dt, n / dt, suite);
    dtls_peer_free(client);
    dtls_peer_free(server);
    dtls_udp_free(udp);
    dtls_udp_free(server_udp);
    dtls_udp_server_free(udp_server);
    dtls_server_free(dtls);
    dtls_options_free(server_options);
    dtls_options_free(client_options);
    dtls_cert_free(cert);
    dtls_key_free(key);
    return 0;
}
