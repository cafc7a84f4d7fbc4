/* echo_c.c — the C baseline for echo.py: the same in-process DTLS echo over loopback, through the C API.
 * Build: cc -O2 -I../../../include echo_c.c -L<libdir> -lpacketdtls -Wl,-rpath,<libdir> */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include "packetdtls.h"

static double now(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec + ts.tv_nsec / 1e9;
}

int main(int argc, char **argv) {
    int rounds = argc > 1 ? atoi(argv[1]) : 20000;
    size_t size = argc > 2 ? (size_t)atoi(argv[2]) : 64;
    dtls_key *key = dtls_crypto_generate_ec_p256();
    dtls_cert *cert = dtls_crypto_generate_self_signed_certificate(key, NULL, NULL, NULL);
    dtls_options *server_options = dtls_options_server(key, cert);
    dtls_udp_server *udp_server = dtls_udp_server_new();
    dtls_udp_server_listen(udp_server, 0, "127.0.0.1");
    dtls_server *server = dtls_server_new();
    dtls_server_setup_with_options(server, server_options);
    dtls_udp *udp = dtls_udp_new();
    dtls_udp_connect_to_host(udp, "127.0.0.1", dtls_udp_server_get_local_port(udp_server));
    dtls_peer *client = dtls_peer_new();
    dtls_peer_connect_to_peer(client, udp, false, NULL, NULL);
    dtls_peer *peer = NULL;
    for (int i = 0; i < 100000 && !(peer && dtls_peer_get_status(peer) == DTLS_STATUS_CONNECTED &&
                                      dtls_peer_get_status(client) == DTLS_STATUS_CONNECTED); i++) {
        dtls_udp_server_poll(udp_server);
        while (dtls_udp_server_is_connection_available(udp_server)) {
            dtls_udp *taken = dtls_udp_server_take_connection(udp_server);
            dtls_peer *candidate = dtls_server_take_connection(server, taken);
            dtls_udp_free(taken);
            if (dtls_peer_get_status(candidate) == DTLS_STATUS_HANDSHAKING) { dtls_peer_free(peer); peer = candidate; }
            else dtls_peer_free(candidate);
        }
        if (peer) dtls_peer_poll(peer);
        dtls_peer_poll(client);
    }
    uint8_t *data = calloc(1, size), buf[2048];
    size_t len;
    double start = now();
    for (int i = 0; i < rounds; i++) {
        dtls_peer_put_packet(client, data, size);
        do { dtls_udp_server_poll(udp_server); dtls_peer_poll(peer); } while (dtls_peer_get_available_packet_count(peer) == 0);
        dtls_peer_get_packet(peer, buf, sizeof buf, &len);
        dtls_peer_put_packet(peer, buf, len);
        do { dtls_peer_poll(client); } while (dtls_peer_get_available_packet_count(client) == 0);
        dtls_peer_get_packet(client, buf, sizeof buf, &len);
    }
    double elapsed = now() - start;
    printf("C: %d round trips of %zu bytes in %.3f s: %.0f round trips/s\n", rounds, size, elapsed, rounds / elapsed);
    return 0;
}
