/*
 * seed_nodes.h — the seeds' server_node.gd and client_node.gd in C, shared by the DTLS tests:
 * a UDPServer + DTLSServer that echoes a reply, and a PacketPeerUDP + PacketPeerDTLS client,
 * both stepped by one bounded loop as Godot's _process() would.
 */
#ifndef PACKETDTLS_TESTS_SEED_NODES_H
#define PACKETDTLS_TESTS_SEED_NODES_H

#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <time.h>

#include "check.h"

#ifndef MESSAGE
#define MESSAGE "The answer is... 42!"
#endif
#ifndef REPLY
#define REPLY "Hello DTLS client"
#endif
#ifndef MAX_PEERS
#define MAX_PEERS 64
#endif

/* MARK: - Identities (made once, by the library) */

static dtls_key *g_key;          /* the server's key */
static dtls_cert *g_cert;        /* its self-signed certificate, CN=localhost */
static dtls_key *g_other_key;    /* an unrelated identity, also CN=localhost */
static dtls_cert *g_other_cert;

static inline bool make_identities(void) {
    g_key = dtls_crypto_generate_ec_p256();
    g_cert = dtls_crypto_generate_self_signed_certificate(g_key, "CN=localhost", NULL, NULL);
    g_other_key = dtls_crypto_generate_ec_p256();
    g_other_cert = dtls_crypto_generate_self_signed_certificate(g_other_key, "CN=localhost", NULL, NULL);
    return g_key && g_cert && g_other_key && g_other_cert;
}

static inline void free_identities(void) {
    dtls_cert_free(g_other_cert);
    dtls_key_free(g_other_key);
    dtls_cert_free(g_cert);
    dtls_key_free(g_key);
}

/* A tiny wait between rounds of the loop, so that it does not spin a shared CPU. */
static inline void tiny_wait(void) {
    struct timespec ts = {0, 500 * 1000};
    nanosleep(&ts, NULL);
}

/* MARK: - server_node.gd */

typedef struct {
    dtls_udp_server *server; /* var server = UDPServer.new() */
    dtls_server *dtls;       /* var dtls = DTLSServer.new() */
    dtls_peer *peers[MAX_PEERS];
    int peer_count;
    int not_handshaking; /* take_connection results that were not HANDSHAKING (cookie exchange, garbage) */
    int received;        /* messages read from clients */
    int replied;
    char last_message[256];
} server_node;

/* _ready(): listen on a free port and set up with TLSOptions.server(key, cert). `options` may tune it. */
static inline bool server_ready(server_node *s, dtls_key *key, dtls_cert *cert, dtls_options *options) {
    memset(s, 0, sizeof *s);
    s->server = dtls_udp_server_new();
    s->dtls = dtls_server_new();
    CHECK_ERR(dtls_udp_server_listen(s->server, 0, "127.0.0.1"), DTLS_OK);
    dtls_options *own = options ? NULL : dtls_options_server(key, cert);
    CHECK_ERR(dtls_server_setup_with_options(s->dtls, options ? options : own), DTLS_OK);
    dtls_options_free(own);
    return dtls_udp_server_get_local_port(s->server) > 0;
}

static inline int server_port(server_node *s) { return dtls_udp_server_get_local_port(s->server); }

/* _process(delta) */
static inline void server_process(server_node *s) {
    dtls_udp_server_poll(s->server);
    while (dtls_udp_server_is_connection_available(s->server)) {
        dtls_udp *peer = dtls_udp_server_take_connection(s->server);
        dtls_peer *dtls_peer = dtls_server_take_connection(s->dtls, peer);
        dtls_udp_free(peer); /* the DTLS peer holds its own reference */
        if (dtls_peer_get_status(dtls_peer) != DTLS_STATUS_HANDSHAKING) {
            s->not_handshaking++;
            dtls_peer_free(dtls_peer);
            continue; /* It is normal that 50% of the connections fails due to cookie exchange. */
        }
        if (s->peer_count == MAX_PEERS) {
            dtls_peer_free(dtls_peer);
            continue;
        }
        s->peers[s->peer_count++] = dtls_peer; /* peers.append(dtls_peer) */
    }
    for (int i = 0; i < s->peer_count; i++) {
        dtls_peer *p = s->peers[i];
        dtls_peer_poll(p); /* Must poll to update the state. */
        if (dtls_peer_get_status(p) == DTLS_STATUS_CONNECTED) {
            while (dtls_peer_get_available_packet_count(p) > 0) {
                size_t len = 0;
                if (dtls_peer_get_packet(p, (uint8_t *)s->last_message, sizeof s->last_message - 1, &len) != DTLS_OK) {
                    break;
                }
                s->last_message[len] = '\0';
                s->received++;
                if (dtls_peer_put_packet(p, (const uint8_t *)REPLY, strlen(REPLY)) == DTLS_OK) s->replied++;
            }
        }
    }
}

static inline void server_free(server_node *s) {
    for (int i = 0; i < s->peer_count; i++) dtls_peer_free(s->peers[i]);
    dtls_server_free(s->dtls);
    dtls_udp_server_free(s->server);
    memset(s, 0, sizeof *s);
}

/* MARK: - client_node.gd */

typedef struct {
    dtls_peer *dtls; /* var dtls = PacketPeerDTLS.new() */
    dtls_udp *udp;   /* var udp = PacketPeerUDP.new() */
    bool connected;  /* var connected = false */
    char message[64];
    char reply[256];
} client_node;

/* _ready(), first half: udp.connect_to_host("127.0.0.1", port). The caller then connects dtls. */
static inline void client_ready_udp(client_node *c, int port) {
    memset(c, 0, sizeof *c);
    strcpy(c->message, MESSAGE);
    c->dtls = dtls_peer_new();
    c->udp = dtls_udp_new();
    CHECK_ERR(dtls_udp_connect_to_host(c->udp, "127.0.0.1", port), DTLS_OK);
}

/* _ready() as in the seed: dtls.connect_to_peer(udp, false) */
static inline void client_ready(client_node *c, int port) {
    client_ready_udp(c, port);
    CHECK_ERR(dtls_peer_connect_to_peer(c->dtls, c->udp, false, NULL, NULL), DTLS_OK);
}

/* _process(delta) */
static inline void client_process(client_node *c) {
    dtls_peer_poll(c->dtls);
    if (dtls_peer_get_status(c->dtls) == DTLS_STATUS_CONNECTED) {
        if (!c->connected && !c->reply[0]) {
            /* Try to contact the server (the seed sends this every frame until a reply; once is enough). */
            size_t len = strlen(c->message);
            if (len && dtls_peer_put_packet(c->dtls, (const uint8_t *)c->message, len) == DTLS_OK) c->message[0] = '\0';
        }
        while (dtls_peer_get_available_packet_count(c->dtls) > 0) {
            size_t len = 0;
            if (dtls_peer_get_packet(c->dtls, (uint8_t *)c->reply, sizeof c->reply - 1, &len) != DTLS_OK) break;
            c->reply[len] = '\0';
            c->connected = true;
        }
    }
}

/* True once the client has its reply or its handshake has ended otherwise. */
static inline bool client_done(client_node *c) {
    dtls_status status = dtls_peer_get_status(c->dtls);
    return c->connected || (status != DTLS_STATUS_HANDSHAKING && status != DTLS_STATUS_CONNECTED);
}

static inline void client_free(client_node *c) {
    dtls_peer_free(c->dtls);
    dtls_udp_free(c->udp);
    memset(c, 0, sizeof *c);
}

/* Runs both sides until the client is done or `ms` pass. */
static inline void run_pair(server_node *s, client_node *c, int ms) {
    POLL_UNTIL(client_done(c), (server_process(s), client_process(c), tiny_wait()), ms);
}

static inline void print_peer_error(const char *what, dtls_peer *peer) {
    char message[512];
    dtls_peer_get_error_message(peer, message, sizeof message);
    printf("     %s: %s: %s\n", what, dtls_status_string(dtls_peer_get_status(peer)), message);
}

#endif
