/*
 * dtls_client.c — Godot's DTLSServer example (client_node.gd) in C, line by line.
 *
 *   dtls_client [port] [--host ADDRESS] [--port N] [--timeout SECONDS]
 *
 * Connects to ADDRESS:port (default 127.0.0.1:4242) without verifying the certificate, as the seed
 * does (`connect_to_peer(udp, false)`; use validation in production), sends "The answer is... 42!"
 * once connected, prints "Connected: <reply>" and exits 0 on the reply. Exits 1 when the session
 * fails or no reply came within the timeout (default 10 seconds).
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

int main(int argc, char **argv) {
    const char *host = "127.0.0.1";
    int port = 4242;
    double timeout = 10;
    for (int i = 1; i < argc; i++) {
        const char *arg = argv[i];
        const char *value = i + 1 < argc ? argv[i + 1] : NULL;
        if (strcmp(arg, "--host") == 0 && value) host = argv[++i];
        else if (strcmp(arg, "--port") == 0 && value) port = atoi(argv[++i]);
        else if (strcmp(arg, "--timeout") == 0 && value) timeout = atof(argv[++i]);
        else if (arg[0] != '-') port = atoi(arg);
        else {
            fprintf(stderr, "usage: %s [port] [--host ADDRESS] [--port N] [--timeout SECONDS]\n", argv[0]);
            return 2;
        }
    }
    setvbuf(stdout, NULL, _IOLBF, 0);

    /* var dtls = PacketPeerDTLS.new() */
    dtls_peer *dtls = dtls_peer_new();
    /* var udp = PacketPeerUDP.new() */
    dtls_udp *udp = dtls_udp_new();
    /* var connected = false */
    bool connected = false;
    bool sent = false;

    /* func _ready(): */
    /*     udp.connect_to_host("127.0.0.1", 4242) */
    if (dtls_udp_connect_to_host(udp, host, port) != DTLS_OK) {
        fprintf(stderr, "connect_to_host %s:%d: %s\n", host, port, dtls_last_error_message());
        return 1;
    }
    /*     dtls.connect_to_peer(udp, false) # Use true in production for certificate validation! */
    if (dtls_peer_connect_to_peer(dtls, udp, false, NULL, NULL) != DTLS_OK) {
        fprintf(stderr, "connect_to_peer: %s\n", dtls_last_error_message());
        return 1;
    }

    long long deadline = now_ms() + (long long)(timeout * 1000);
    while (!connected && now_ms() < deadline) {
        /* func _process(delta): */
        /*     dtls.poll() */
        dtls_peer_poll(dtls);
        dtls_status status = dtls_peer_get_status(dtls);
        /*     if dtls.get_status() == PacketPeerDTLS.STATUS_CONNECTED: */
        if (status == DTLS_STATUS_CONNECTED) {
            /*         if !connected: */
            /*             # Try to contact the server */
            /*             dtls.put_packet("The answer is... 42!".to_utf8_buffer()) */
            /* (The seed sends this every frame until the reply comes; once is enough here.) */
            if (!connected && !sent) {
                const char *message = "The answer is... 42!";
                sent = dtls_peer_put_packet(dtls, (const uint8_t *)message, strlen(message)) == DTLS_OK;
            }
            /*         while dtls.get_available_packet_count() > 0: */
            while (dtls_peer_get_available_packet_count(dtls) > 0) {
                uint8_t packet[2048];
                size_t len = 0;
                if (dtls_peer_get_packet(dtls, packet, sizeof packet, &len) != DTLS_OK) break;
                /*             print("Connected: %s" % dtls.get_packet().get_string_from_utf8()) */
                printf("Connected: %.*s\n", (int)len, (const char *)packet);
                /*             connected = true */
                connected = true;
            }
        } else if (status != DTLS_STATUS_HANDSHAKING) {
            /* Not in the seed: the session ended. A reply that arrived just before the server's
             * close_notify is still queued, so read it; otherwise say why and stop. */
            while (dtls_peer_get_available_packet_count(dtls) > 0) {
                uint8_t packet[2048];
                size_t len = 0;
                if (dtls_peer_get_packet(dtls, packet, sizeof packet, &len) != DTLS_OK) break;
                printf("Connected: %.*s\n", (int)len, (const char *)packet);
                connected = true;
            }
            if (connected) break;
            char reason[512];
            dtls_peer_get_error_message(dtls, reason, sizeof reason);
            fprintf(stderr, "DTLS session ended: %s: %s\n", dtls_status_string(status), reason);
            break;
        }
        /* The next frame: wait for a datagram, at most 10 ms (retransmission timers run in poll). */
        dtls_udp_wait_timeout(udp, 10);
    }
    if (!connected && now_ms() >= deadline) fprintf(stderr, "no reply within %.1f seconds\n", timeout);

    dtls_peer_free(dtls); /* sends close_notify when connected */
    dtls_udp_free(udp);
    return connected ? 0 : 1;
}
