/*
 * dtls_server.c — Godot's DTLSServer example (server_node.gd) in C, line by line.
 *
 *   dtls_server [port] [count] [--port N] [--count N] [--time-limit SECONDS] [--key FILE --cert FILE]
 *
 * Listens on `port` (default 4242; 0 = any free port) on every address and answers every message
 * from a DTLS client with "Hello DTLS client". Without --key/--cert it makes a throwaway EC P-256
 * key and a self-signed certificate (CN=localhost) with the library, so clients must not verify
 * (as the seed's client does) or must trust that certificate.
 * For scripted runs: exits 0 after replying to `count` messages (default: never), and stops after
 * --time-limit seconds (exit 0 when no count was asked for, 1 when the count was not reached).
 */
#define _POSIX_C_SOURCE 200809L

#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "packetdtls.h"

static long long now_ms(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void usage(const char *program) {
    fprintf(stderr, "usage: %s [port] [count] [--port N] [--count N] [--time-limit SECONDS] [--key FILE --cert FILE]\n",
            program);
}

int main(int argc, char **argv) {
    int port = 4242;
    long count = 0; /* 0 = unlimited */
    double time_limit = 0;
    const char *key_path = NULL;
    const char *cert_path = NULL;
    int positional = 0;
    for (int i = 1; i < argc; i++) {
        const char *arg = argv[i];
        const char *value = i + 1 < argc ? argv[i + 1] : NULL;
        if (strcmp(arg, "--port") == 0 && value) port = atoi(argv[++i]);
        else if (strcmp(arg, "--count") == 0 && value) count = atol(argv[++i]);
        else if (strcmp(arg, "--time-limit") == 0 && value) time_limit = atof(argv[++i]);
        else if (strcmp(arg, "--key") == 0 && value) key_path = argv[++i];
        else if (strcmp(arg, "--cert") == 0 && value) cert_path = argv[++i];
        else if (arg[0] != '-' && positional == 0) port = atoi(arg), positional++;
        else if (arg[0] != '-' && positional == 1) count = atol(arg), positional++;
        else {
            usage(argv[0]);
            return 2;
        }
    }
    if ((key_path == NULL) != (cert_path == NULL)) {
        fprintf(stderr, "--key and --cert go together\n");
        return 2;
    }
    setvbuf(stdout, NULL, _IOLBF, 0);

    /* var dtls = DTLSServer.new() */
    dtls_server *dtls = dtls_server_new();
    /* var server = UDPServer.new() */
    dtls_udp_server *server = dtls_udp_server_new();
    /* var peers = [] */
    size_t peer_count = 0, peer_capacity = 16;
    dtls_peer **peers = malloc(peer_capacity * sizeof *peers);

    /* func _ready(): */
    /*     server.listen(4242) */
    if (dtls_udp_server_listen(server, port, "*") != DTLS_OK) {
        fprintf(stderr, "listen on port %d: %s\n", port, dtls_last_error_message());
        return 1;
    }
    /*     var key = load("key.key") # Your private key. */
    /*     var cert = load("cert.crt") # Your X509 certificate. */
    dtls_key *key;
    dtls_cert *cert;
    if (key_path) {
        key = dtls_key_new();
        cert = dtls_cert_new();
        if (dtls_key_load(key, key_path, false) != DTLS_OK || dtls_cert_load(cert, cert_path) != DTLS_OK) {
            fprintf(stderr, "load key/certificate: %s\n", dtls_last_error_message());
            return 1;
        }
    } else {
        /* No files given: a throwaway key and self-signed certificate, made by the library. */
        key = dtls_crypto_generate_ec_p256();
        cert = dtls_crypto_generate_self_signed_certificate(key, "CN=localhost", NULL, NULL);
        if (!key || !cert) {
            fprintf(stderr, "generate key/certificate: %s\n", dtls_last_error_message());
            return 1;
        }
    }
    /*     dtls.setup(TLSOptions.server(key, cert)) */
    dtls_options *options = dtls_options_server(key, cert);
    if (dtls_server_setup_with_options(dtls, options) != DTLS_OK) {
        fprintf(stderr, "setup: %s\n", dtls_last_error_message());
        return 1;
    }
    dtls_options_free(options);
    printf("Listening on port %d\n", dtls_udp_server_get_local_port(server));

    long replies = 0;
    long long deadline = time_limit > 0 ? now_ms() + (long long)(time_limit * 1000) : 0;
    while (count == 0 || replies < count) {
        if (deadline && now_ms() >= deadline) {
            if (count) fprintf(stderr, "time limit reached after %ld of %ld replies\n", replies, count);
            break;
        }
        /* func _process(delta): */
        dtls_udp_server_poll(server);
        /*     while server.is_connection_available(): */
        while (dtls_udp_server_is_connection_available(server)) {
            /*         var peer = server.take_connection() */
            dtls_udp *peer = dtls_udp_server_take_connection(server);
            /*         var dtls_peer = dtls.take_connection(peer) */
            dtls_peer *dtls_peer = dtls_server_take_connection(dtls, peer);
            dtls_udp_free(peer); /* the DTLS peer keeps its own reference */
            /*         if dtls_peer.get_status() != PacketPeerDTLS.STATUS_HANDSHAKING: */
            if (dtls_peer_get_status(dtls_peer) != DTLS_STATUS_HANDSHAKING) {
                dtls_peer_free(dtls_peer);
                continue; /* It is normal that 50% of the connections fails due to cookie exchange. */
            }
            /*         print("Peer connected!") */
            printf("Peer connected!\n");
            /*         peers.append(dtls_peer) */
            if (peer_count == peer_capacity) {
                peer_capacity *= 2;
                peers = realloc(peers, peer_capacity * sizeof *peers);
            }
            peers[peer_count++] = dtls_peer;
        }

        /*     for p in peers: */
        for (size_t i = 0; i < peer_count; i++) {
            dtls_peer *p = peers[i];
            /*         p.poll() # Must poll to update the state. */
            dtls_peer_poll(p);
            /*         if p.get_status() == PacketPeerDTLS.STATUS_CONNECTED: */
            if (dtls_peer_get_status(p) == DTLS_STATUS_CONNECTED) {
                /*             while p.get_available_packet_count() > 0: */
                while (dtls_peer_get_available_packet_count(p) > 0) {
                    uint8_t packet[2048];
                    size_t len = 0;
                    if (dtls_peer_get_packet(p, packet, sizeof packet, &len) != DTLS_OK) break;
                    /* print("Received message from client: %s" % p.get_packet().get_string_from_utf8()) */
                    printf("Received message from client: %.*s\n", (int)len, (const char *)packet);
                    /* p.put_packet("Hello DTLS client".to_utf8_buffer()) */
                    const char *reply = "Hello DTLS client";
                    if (dtls_peer_put_packet(p, (const uint8_t *)reply, strlen(reply)) == DTLS_OK) replies++;
                }
            }
        }

        /* Not in the seed: forget peers whose session ended, so a long run does not grow. */
        size_t kept = 0;
        for (size_t i = 0; i < peer_count; i++) {
            dtls_status status = dtls_peer_get_status(peers[i]);
            if (status == DTLS_STATUS_HANDSHAKING || status == DTLS_STATUS_CONNECTED) peers[kept++] = peers[i];
            else dtls_peer_free(peers[i]);
        }
        peer_count = kept;

        /* The next frame. */
        struct timespec frame = {0, 2 * 1000 * 1000};
        nanosleep(&frame, NULL);
    }

    /* Let the last reply leave before the process ends, then close every session. */
    for (size_t i = 0; i < peer_count; i++) {
        dtls_peer_poll(peers[i]);
        dtls_peer_free(peers[i]); /* sends close_notify when connected */
    }
    free(peers);
    dtls_cert_free(cert);
    dtls_key_free(key);
    dtls_udp_server_free(server);
    dtls_server_free(dtls);
    return count && replies < count ? 1 : 0;
}
