/*
 * baseline.c — the plain-C yardstick for `packetdtls-cli bench`: the same workloads, written
 * directly against mbedTLS 2.28 with no wrapper, printing the same line.
 *
 *   baseline handshake N cert.pem key.pem      N full handshakes, one process, one thread
 *   baseline echo N SIZE cert.pem key.pem      N round trips of SIZE bytes over one session
 *   baseline udp N SIZE                        the same round trips over plain UDP
 *   baseline sessions N cert.pem key.pem [W]   N sessions to one server socket; the clients run in
 *                                              forked processes (15,000 each, from 127.0.0.x, a new x
 *                                              every 20,000), at most W handshakes at once in each
 *                                              (default N); in each, one full handshake, then the
 *                                              others resume its session (server session tickets)
 *   baseline server C J HZ SECONDS cert.pem key.pem CLI
 *                                              `packetdtls-cli bench server`'s tick loop; CLI is the
 *                                              packetdtls-cli whose `bench server-client` runs the clients
 *
 * Handshake and echo follow /work/shared/reference/mbedtls_dtls_ref.c: client and server on two
 * connected, non-blocking loopback UDP sockets, stepped alternately, cookie exchange on.
 *
 * BASELINE_PROFILE (or REF_PROFILE) picks the configuration of both ends:
 *   default  mbedTLS's MBEDTLS_SSL_PRESET_DEFAULT, as Godot's own module uses it
 *   x25519   default, but X25519 then P-256 offered for ECDHE (the reference's "tuned")
 *   fast     x25519, and PacketDTLS's suite order (ChaCha20-Poly1305, then AES-128-GCM, AES-256-GCM)
 *   aes      x25519, and AES-128-GCM suites first (PacketDTLS's order before it was measured)
 * scripts/bench runs every profile and takes the best one per workload.
 *
 * Prints one line: "<mode> <count> <seconds> <per_second> <ciphersuite> <profile>"; sessions prints
 * "sessions <count> <seconds> <per_second> <KiB per session> KiB <poll ms> ms <profile>", where the
 * memory is the server's resident-set growth (VmRSS) per established session and the poll time is
 * the median of 21 passes, 50 ms apart, over every idle session (one recvfrom on the socket, one
 * mbedtls_ssl_read each). server prints `packetdtls-cli bench server`'s line (see its --help) and
 * the profile; it is the loop a C programmer writes with plain mbedTLS: one thread, one socket, sessions
 * found by address in a hash table, one recvfrom per datagram and one sendto per record.
 *
 * Floors (what any library on mbedTLS 2.28 pays at best; the line ends in an extra word):
 *   BASELINE_BATCH=1 baseline server ...     the server loop with recvmmsg (64 a call) and one sendmmsg
 *                                            of the tick's records (the mbedTLS send callback copies
 *                                            each into an arena); the line ends in "batched";
 *                                            BASELINE_BATCH_DETAIL=1 adds its system calls a tick
 *   baseline syscalls C [REPS]               what the batching alone saves: the server's CPU a datagram
 *                                            for sendto vs sendmmsg and recvfrom vs recvmmsg, C clients
 *                                            on loopback, no mbedTLS (medians of REPS rounds, default 300)
 *   BASELINE_DRAIN=1|recv baseline echo ...  after every record read, one more read that finds the
 *                                            socket empty (mbedtls_ssl_read answering WANT_READ, or a
 *                                            raw recv failing with EAGAIN): Godot's API with poll()
 *                                            draining the socket; the line ends in "drain"/"drain-recv"
 *
 * Build: cc -O2 baseline.c -lmbedtls -lmbedx509 -lmbedcrypto -o baseline
 */
#define _GNU_SOURCE /* recvmmsg, sendmmsg */
#include <mbedtls/ssl.h>
#include <mbedtls/ssl_cookie.h>
#include <mbedtls/ssl_ticket.h>
#include <mbedtls/ctr_drbg.h>
#include <mbedtls/entropy.h>
#include <mbedtls/timing.h>
#include <mbedtls/x509_crt.h>
#include <mbedtls/pk.h>
#include <mbedtls/error.h>
#include <mbedtls/net_sockets.h>
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static void die(const char *what, int rc) {
    char buf[200] = "";
    if (rc < 0) mbedtls_strerror(rc, buf, sizeof buf);
    fprintf(stderr, "baseline: %s failed: %d %s\n", what, rc, buf);
    exit(1);
}

static double now(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec + ts.tv_nsec / 1e9;
}

/* Resident set size of this process in KiB, from /proc/self/status. */
static long vm_rss_kib(void) {
    FILE *f = fopen("/proc/self/status", "r");
    char line[256];
    long kib = -1;
    while (f && fgets(line, sizeof line, f))
        if (!strncmp(line, "VmRSS:", 6)) kib = atol(line + 6);
    if (f) fclose(f);
    return kib;
}

static int fd_send(void *ctx, const unsigned char *buf, size_t len) {
    ssize_t n = send(*(int *)ctx, buf, len, 0);
    if (n < 0) return (errno == EAGAIN) ? MBEDTLS_ERR_SSL_WANT_WRITE : MBEDTLS_ERR_NET_SEND_FAILED;
    return (int)n;
}

static int fd_recv(void *ctx, unsigned char *buf, size_t len) {
    ssize_t n = recv(*(int *)ctx, buf, len, 0);
    if (n < 0) return (errno == EAGAIN) ? MBEDTLS_ERR_SSL_WANT_READ : MBEDTLS_ERR_NET_RECV_FAILED;
    return (int)n;
}

/* MARK: - Configuration shared by every mode */

static mbedtls_entropy_context entropy;
static mbedtls_ctr_drbg_context drbg;
static mbedtls_x509_crt cert;
static mbedtls_pk_context key;
static mbedtls_ssl_cookie_ctx cookies;
static mbedtls_ssl_config sconf, cconf;
static const char *profile = "default";

static const mbedtls_ecp_group_id fast_curves[] = {
    MBEDTLS_ECP_DP_CURVE25519, MBEDTLS_ECP_DP_SECP256R1, MBEDTLS_ECP_DP_NONE };
static const int fast_suites[] = {
    MBEDTLS_TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256, MBEDTLS_TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305_SHA256,
    MBEDTLS_TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256, MBEDTLS_TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256,
    MBEDTLS_TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384, MBEDTLS_TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384, 0 };
static const int aes_suites[] = {
    MBEDTLS_TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256, MBEDTLS_TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256,
    MBEDTLS_TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384, MBEDTLS_TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384,
    MBEDTLS_TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256, MBEDTLS_TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305_SHA256, 0 };

static void setup_configs(const char *certp, const char *keyp) {
    int rc;
    const char *p = getenv("BASELINE_PROFILE") ? getenv("BASELINE_PROFILE") : getenv("REF_PROFILE");
    if (p && *p) profile = p;
    if (strcmp(profile, "default") && strcmp(profile, "x25519") && strcmp(profile, "fast") && strcmp(profile, "aes")) {
        fprintf(stderr, "baseline: unknown profile '%s' (default, x25519, fast, aes)\n", profile);
        exit(2);
    }
    mbedtls_entropy_init(&entropy);
    mbedtls_ctr_drbg_init(&drbg);
    if ((rc = mbedtls_ctr_drbg_seed(&drbg, mbedtls_entropy_func, &entropy, NULL, 0))) die("drbg", rc);
    mbedtls_x509_crt_init(&cert);
    mbedtls_pk_init(&key);
    if ((rc = mbedtls_x509_crt_parse_file(&cert, certp))) die("cert", rc);
    if ((rc = mbedtls_pk_parse_keyfile(&key, keyp, NULL))) die("key", rc);
    mbedtls_ssl_cookie_init(&cookies);
    if ((rc = mbedtls_ssl_cookie_setup(&cookies, mbedtls_ctr_drbg_random, &drbg))) die("cookie", rc);

    mbedtls_ssl_config_init(&sconf);
    mbedtls_ssl_config_init(&cconf);
    mbedtls_ssl_config_defaults(&sconf, MBEDTLS_SSL_IS_SERVER, MBEDTLS_SSL_TRANSPORT_DATAGRAM,
                                MBEDTLS_SSL_PRESET_DEFAULT);
    mbedtls_ssl_config_defaults(&cconf, MBEDTLS_SSL_IS_CLIENT, MBEDTLS_SSL_TRANSPORT_DATAGRAM,
                                MBEDTLS_SSL_PRESET_DEFAULT);
    mbedtls_ssl_conf_rng(&sconf, mbedtls_ctr_drbg_random, &drbg);
    mbedtls_ssl_conf_rng(&cconf, mbedtls_ctr_drbg_random, &drbg);
    if ((rc = mbedtls_ssl_conf_own_cert(&sconf, &cert, &key))) die("own_cert", rc);
    mbedtls_ssl_conf_dtls_cookies(&sconf, mbedtls_ssl_cookie_write, mbedtls_ssl_cookie_check, &cookies);
    mbedtls_ssl_conf_authmode(&cconf, MBEDTLS_SSL_VERIFY_NONE);
    if (strcmp(profile, "default")) {
        mbedtls_ssl_conf_curves(&cconf, fast_curves);
        mbedtls_ssl_conf_curves(&sconf, fast_curves);
    }
    if (!strcmp(profile, "fast") || !strcmp(profile, "aes")) {
        const int *suites = !strcmp(profile, "fast") ? fast_suites : aes_suites;
        mbedtls_ssl_conf_ciphersuites(&cconf, suites);
        mbedtls_ssl_conf_ciphersuites(&sconf, suites);
    }
}

static void raise_fd_limit(void) {
    struct rlimit r;
    if (getrlimit(RLIMIT_NOFILE, &r) == 0 && r.rlim_cur < r.rlim_max) {
        r.rlim_cur = r.rlim_max;
        setrlimit(RLIMIT_NOFILE, &r);
    }
}

/* A non-blocking UDP socket bound to 127.0.0.1 on a free port, its address in *addr; a receive buffer
 * of `rcvbuf` bytes asked for (0: the kernel's default). */
static int loopback_socket(struct sockaddr_in *addr, int rcvbuf) {
    int fd = socket(AF_INET, SOCK_DGRAM, 0);
    *addr = (struct sockaddr_in){ .sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
    if (bind(fd, (struct sockaddr *)addr, sizeof *addr)) die("bind", errno);
    socklen_t len = sizeof *addr;
    getsockname(fd, (struct sockaddr *)addr, &len);
    if (rcvbuf > 0) setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &rcvbuf, sizeof rcvbuf);
    fcntl(fd, F_SETFL, O_NONBLOCK);
    return fd;
}

/* MARK: - handshake, echo, udp: two connected sockets in one thread */

/* Two connected, non-blocking loopback UDP sockets. */
static void socket_pair(int fds[2], struct sockaddr_in *client_addr) {
    struct sockaddr_in a[2];
    for (int i = 0; i < 2; i++) {
        fds[i] = socket(AF_INET, SOCK_DGRAM, 0);
        memset(&a[i], 0, sizeof a[i]);
        a[i].sin_family = AF_INET;
        a[i].sin_addr.s_addr = htonl(INADDR_LOOPBACK);
        if (bind(fds[i], (struct sockaddr *)&a[i], sizeof a[i])) die("bind", errno);
        socklen_t l = sizeof a[i];
        getsockname(fds[i], (struct sockaddr *)&a[i], &l);
    }
    connect(fds[0], (struct sockaddr *)&a[1], sizeof a[1]);
    connect(fds[1], (struct sockaddr *)&a[0], sizeof a[0]);
    for (int i = 0; i < 2; i++) fcntl(fds[i], F_SETFL, O_NONBLOCK);
    *client_addr = a[0];
}

static int udp_mode(long n, size_t size) {
    int fds[2];
    struct sockaddr_in ca;
    socket_pair(fds, &ca);
    unsigned char *buf = calloc(1, size + 1);
    double t0 = now();
    for (long i = 0; i < n; i++) {
        while (send(fds[0], buf, size, 0) < 0) {}
        ssize_t r;
        while ((r = recv(fds[1], buf, size + 1, 0)) < 0) {}
        while (send(fds[1], buf, r, 0) < 0) {}
        while (recv(fds[0], buf, size + 1, 0) < 0) {}
    }
    double dt = now() - t0;
    printf("udp %ld %.4f %.1f plain_udp\n", n, dt, n / dt);
    return 0;
}

/* BASELINE_DRAIN: the echo floor of a library with Godot's API that drains the socket in poll()
 * (one record per poll is a fault): after each record read, one more read that finds nothing.
 *   1 (or ssl)  one more mbedtls_ssl_read, which must answer WANT_READ (its recv fails with EAGAIN)
 *   recv        one more raw recv(MSG_DONTWAIT) on the session's socket, which must fail with EAGAIN */
enum { DRAIN_NONE, DRAIN_SSL, DRAIN_RECV };

static int drain_kind(void) {
    const char *d = getenv("BASELINE_DRAIN");
    if (!d || !*d || !strcmp(d, "0")) return DRAIN_NONE;
    if (!strcmp(d, "1") || !strcmp(d, "ssl")) return DRAIN_SSL;
    if (!strcmp(d, "recv")) return DRAIN_RECV;
    fprintf(stderr, "baseline: unknown BASELINE_DRAIN '%s' (0, 1 or ssl, recv)\n", d);
    exit(2);
}

static void drain_once(int kind, mbedtls_ssl_context *ssl, int fd, unsigned char *buf, size_t cap) {
    if (kind == DRAIN_SSL) {
        int rc = mbedtls_ssl_read(ssl, buf, cap);
        if (rc != MBEDTLS_ERR_SSL_WANT_READ) die("drain read (expected WANT_READ)", rc);
    } else if (recv(fd, buf, cap, MSG_DONTWAIT) >= 0 || errno != EAGAIN) {
        die("drain recv (expected EAGAIN)", errno);
    }
}

static int pair_mode(int hs, long n, size_t size) {
    mbedtls_ssl_context s, c;
    mbedtls_timing_delay_context st, ct;
    int rc, fds[2];
    struct sockaddr_in ca;
    socket_pair(fds, &ca);
    mbedtls_ssl_init(&s);
    mbedtls_ssl_init(&c);
    if ((rc = mbedtls_ssl_setup(&s, &sconf))) die("setup s", rc);
    if ((rc = mbedtls_ssl_setup(&c, &cconf))) die("setup c", rc);
    mbedtls_ssl_set_bio(&s, &fds[1], fd_send, fd_recv, NULL);
    mbedtls_ssl_set_bio(&c, &fds[0], fd_send, fd_recv, NULL);
    mbedtls_ssl_set_timer_cb(&s, &st, mbedtls_timing_set_delay, mbedtls_timing_get_delay);
    mbedtls_ssl_set_timer_cb(&c, &ct, mbedtls_timing_set_delay, mbedtls_timing_get_delay);

    long rounds = hs ? n : 1;
    double t0 = now();
    for (long i = 0; i < rounds; i++) {
        mbedtls_ssl_session_reset(&s);
        mbedtls_ssl_session_reset(&c);
        mbedtls_ssl_set_client_transport_id(&s, (unsigned char *)&ca, sizeof ca);
        int sd = 0, cd = 0;
        while (!sd || !cd) {
            if (!cd) {
                rc = mbedtls_ssl_handshake(&c);
                if (rc == 0) cd = 1;
                else if (rc != MBEDTLS_ERR_SSL_WANT_READ && rc != MBEDTLS_ERR_SSL_WANT_WRITE) die("client hs", rc);
            }
            if (!sd) {
                rc = mbedtls_ssl_handshake(&s);
                if (rc == 0) sd = 1;
                else if (rc == MBEDTLS_ERR_SSL_HELLO_VERIFY_REQUIRED) {
                    mbedtls_ssl_session_reset(&s);
                    mbedtls_ssl_set_client_transport_id(&s, (unsigned char *)&ca, sizeof ca);
                } else if (rc != MBEDTLS_ERR_SSL_WANT_READ && rc != MBEDTLS_ERR_SSL_WANT_WRITE) die("server hs", rc);
            }
        }
    }
    if (hs) {
        double dt = now() - t0;
        printf("handshake %ld %.4f %.1f %s %s\n", n, dt, n / dt, mbedtls_ssl_get_ciphersuite(&c), profile);
        return 0;
    }
    unsigned char *buf = calloc(1, size), *in = calloc(1, size + 64), *scratch = calloc(1, size + 64);
    memset(buf, 'x', size);
    int drain = drain_kind();
    t0 = now();
    for (long i = 0; i < n; i++) {
        while ((rc = mbedtls_ssl_write(&c, buf, size)) < 0)
            if (rc != MBEDTLS_ERR_SSL_WANT_WRITE) die("write c", rc);
        while ((rc = mbedtls_ssl_read(&s, in, size + 64)) < 0)
            if (rc != MBEDTLS_ERR_SSL_WANT_READ) die("read s", rc);
        int got = rc;
        if (drain) drain_once(drain, &s, fds[1], scratch, size + 64);
        while ((rc = mbedtls_ssl_write(&s, in, got)) < 0)
            if (rc != MBEDTLS_ERR_SSL_WANT_WRITE) die("write s", rc);
        while ((rc = mbedtls_ssl_read(&c, in, size + 64)) < 0)
            if (rc != MBEDTLS_ERR_SSL_WANT_READ) die("read c", rc);
        if ((size_t)rc != size) die("short echo", rc);
        if (drain) drain_once(drain, &c, fds[0], scratch, size + 64);
    }
    double dt = now() - t0;
    printf("echo %ld %.4f %.1f %s %s%s\n", n, dt, n / dt, mbedtls_ssl_get_ciphersuite(&c), profile,
           drain == DRAIN_SSL ? " drain" : drain == DRAIN_RECV ? " drain-recv" : "");
    return 0;
}

/* MARK: - sessions: one server socket, N clients in forked processes */

/* A server-side session: routed to by the client's address, fed one datagram at a time. */
struct peer {
    struct sockaddr_in addr;
    mbedtls_ssl_context ssl;
    mbedtls_timing_delay_context timer;
    const unsigned char *datagram; /* the datagram being handed to mbedTLS, NULL when none */
    size_t datagram_len;
    int fd;                        /* the shared server socket */
    int established;
};

static int peer_send(void *ctx, const unsigned char *buf, size_t len) {
    struct peer *p = ctx;
    ssize_t n = sendto(p->fd, buf, len, 0, (struct sockaddr *)&p->addr, sizeof p->addr);
    if (n < 0) return (errno == EAGAIN) ? MBEDTLS_ERR_SSL_WANT_WRITE : MBEDTLS_ERR_NET_SEND_FAILED;
    return (int)n;
}

static int peer_recv(void *ctx, unsigned char *buf, size_t len) {
    struct peer *p = ctx;
    if (!p->datagram) return MBEDTLS_ERR_SSL_WANT_READ;
    if (p->datagram_len > len) { p->datagram = NULL; return MBEDTLS_ERR_SSL_WANT_READ; }
    memcpy(buf, p->datagram, p->datagram_len);
    p->datagram = NULL;
    return (int)p->datagram_len;
}

static struct peer *peer_new(int fd, const struct sockaddr_in *from) {
    struct peer *p = calloc(1, sizeof *p);
    int rc;
    p->addr = *from;
    p->fd = fd;
    mbedtls_ssl_init(&p->ssl);
    if ((rc = mbedtls_ssl_setup(&p->ssl, &sconf))) die("session setup", rc);
    mbedtls_ssl_set_bio(&p->ssl, p, peer_send, peer_recv, NULL);
    mbedtls_ssl_set_timer_cb(&p->ssl, &p->timer, mbedtls_timing_set_delay, mbedtls_timing_get_delay);
    mbedtls_ssl_set_client_transport_id(&p->ssl, (unsigned char *)&p->addr, sizeof p->addr);
    return p;
}

/* One handshake step; returns 1 when this step completed the handshake. */
static int peer_step(struct peer *p) {
    if (p->established) return 0;
    int rc = mbedtls_ssl_handshake(&p->ssl);
    if (rc == 0) { p->established = 1; return 1; }
    if (rc == MBEDTLS_ERR_SSL_HELLO_VERIFY_REQUIRED) {
        mbedtls_ssl_session_reset(&p->ssl);
        mbedtls_ssl_set_client_transport_id(&p->ssl, (unsigned char *)&p->addr, sizeof p->addr);
    } else if (rc != MBEDTLS_ERR_SSL_WANT_READ && rc != MBEDTLS_ERR_SSL_WANT_WRITE) {
        die("server session handshake", rc);
    }
    return 0;
}

/* Open-addressing map from client address to peer. */
static struct peer **table;
static size_t table_mask;

static struct peer **slot_for(const struct sockaddr_in *a) {
    size_t h = ((size_t)a->sin_addr.s_addr * 2654435761u) ^ ((size_t)a->sin_port * 40503u);
    for (size_t i = h & table_mask;; i = (i + 1) & table_mask) {
        struct peer *p = table[i];
        if (!p || (p->addr.sin_addr.s_addr == a->sin_addr.s_addr && p->addr.sin_port == a->sin_port))
            return &table[i];
    }
}

/* Clients per client process (the descriptor limit) and per source address 127.0.0.x (its ports),
 * as `packetdtls-cli bench sessions` spreads them. */
#define SESSIONS_PER_PROCESS 15000L
#define SESSIONS_PER_ADDRESS 20000L

/* A client process: clients first..first+n-1, at most window handshaking at once; then idle until
 * killed. Client i binds to 127.0.0.x, x = 1 + i / SESSIONS_PER_ADDRESS. */
static void sessions_client(int port, long n, long window, long first) {
    struct sockaddr_in server = { .sin_family = AF_INET, .sin_port = htons(port),
                                  .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
    mbedtls_ssl_session saved;
    int have_saved = 0;
    mbedtls_ssl_session_init(&saved);
    raise_fd_limit();
    mbedtls_ssl_context *c = calloc(n, sizeof *c);
    mbedtls_timing_delay_context *t = calloc(n, sizeof *t);
    int *fds = calloc(n, sizeof *fds), *done = calloc(n, sizeof *done);
    struct pollfd *pfds = calloc(n, sizeof *pfds);
    long *slot_client = calloc(n, sizeof *slot_client);
    long started = 0, finished = 0;
    int rc;
    double last_sweep = now();
    while (finished < n) {
        /* The first client makes a full handshake; the others resume its session (a ticket). */
        if (!have_saved && finished > 0) {
            for (long i = 0; i < started && !have_saved; i++)
                if (done[i] && mbedtls_ssl_get_session(&c[i], &saved) == 0) have_saved = 1;
            if (!have_saved) die("client get_session", 0);
        }
        while (started < n && started - finished < (have_saved ? window : 1)) {
            long i = started++;
            fds[i] = socket(AF_INET, SOCK_DGRAM, 0);
            if (fds[i] < 0) die("client socket", errno);
            struct sockaddr_in local = { .sin_family = AF_INET,
                                         .sin_addr.s_addr = htonl(INADDR_LOOPBACK + (first + i) / SESSIONS_PER_ADDRESS) };
            if (bind(fds[i], (struct sockaddr *)&local, sizeof local)) die("client bind", errno);
            if (connect(fds[i], (struct sockaddr *)&server, sizeof server)) die("client connect", errno);
            fcntl(fds[i], F_SETFL, O_NONBLOCK);
            mbedtls_ssl_init(&c[i]);
            if ((rc = mbedtls_ssl_setup(&c[i], &cconf))) die("client setup", rc);
            mbedtls_ssl_set_bio(&c[i], &fds[i], fd_send, fd_recv, NULL);
            mbedtls_ssl_set_timer_cb(&c[i], &t[i], mbedtls_timing_set_delay, mbedtls_timing_get_delay);
            if (have_saved && (rc = mbedtls_ssl_set_session(&c[i], &saved))) die("client set_session", rc);
            rc = mbedtls_ssl_handshake(&c[i]);
            /* A quick server can answer every flight before this first call returns. */
            if (rc == 0) { done[i] = 1; finished++; }
            else if (rc != MBEDTLS_ERR_SSL_WANT_READ && rc != MBEDTLS_ERR_SSL_WANT_WRITE) die("client hs start", rc);
        }
        /* Wait for any client's socket; every 50 ms step the handshaking ones (retransmission timers).
         * A resumed client sends the handshake's last flight and is done before the server is: when
         * that flight is lost the server sends its own again, and the client's read answers it. */
        int k = 0;
        for (long i = 0; i < started; i++) { pfds[k].fd = fds[i]; pfds[k].events = POLLIN; slot_client[k++] = i; }
        int ready = poll(pfds, k, 10);
        int sweep = now() - last_sweep > 0.05;
        if (sweep) last_sweep = now();
        for (int j = 0; j < k; j++) {
            long i = slot_client[j];
            int readable = ready > 0 && (pfds[j].revents & POLLIN);
            if (done[i]) {
                unsigned char buf[64];
                if (readable) mbedtls_ssl_read(&c[i], buf, sizeof buf);
                continue;
            }
            if (!sweep && !readable) continue;
            rc = mbedtls_ssl_handshake(&c[i]);
            if (rc == 0) { done[i] = 1; finished++; }
            else if (rc != MBEDTLS_ERR_SSL_WANT_READ && rc != MBEDTLS_ERR_SSL_WANT_WRITE) die("client hs", rc);
        }
    }
    /* Idle until killed, still answering a server that sends its last flight again. */
    for (long i = 0; i < n; i++) { pfds[i].fd = fds[i]; pfds[i].events = POLLIN; }
    for (;;) {
        if (poll(pfds, n, -1) <= 0) continue;
        for (long i = 0; i < n; i++) {
            unsigned char buf[64];
            if (pfds[i].revents & POLLIN) mbedtls_ssl_read(&c[i], buf, sizeof buf);
        }
    }
}

static int compare_doubles(const void *a, const void *b) {
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

static mbedtls_ssl_ticket_context tickets;

static int sessions_mode(long n, long window) {
    /* Session tickets, so the clients resume, as `packetdtls-cli bench sessions` does: stateless on
     * the server (no cache entry per session), so the memory figure is the sessions' own. */
    int rc;
    if (n <= 0 || n > 10000000L || window <= 0) { fprintf(stderr, "baseline: sessions N [W]: 1 <= N <= 10000000, W >= 1\n"); exit(2); }
    mbedtls_ssl_ticket_init(&tickets);
    if ((rc = mbedtls_ssl_ticket_setup(&tickets, mbedtls_ctr_drbg_random, &drbg, MBEDTLS_CIPHER_AES_256_GCM, 86400)))
        die("ticket setup", rc);
    mbedtls_ssl_conf_session_tickets_cb(&sconf, mbedtls_ssl_ticket_write, mbedtls_ssl_ticket_parse, &tickets);
    struct sockaddr_in addr;
    int fd = loopback_socket(&addr, 1 << 20);
    fflush(stdout);
    long processes = (n + SESSIONS_PER_PROCESS - 1) / SESSIONS_PER_PROCESS;
    pid_t *children = calloc(processes, sizeof *children);
    for (long k = 0; k < processes; k++) {
        long first = k * SESSIONS_PER_PROCESS, slice = n - first < SESSIONS_PER_PROCESS ? n - first : SESSIONS_PER_PROCESS;
        children[k] = fork();
        if (children[k] == 0) {
            close(fd);
            sessions_client(ntohs(addr.sin_port), slice, window, first);
            _exit(0);
        }
    }

    size_t cap = 1;
    while (cap < (size_t)n * 2) cap <<= 1;
    table = calloc(cap, sizeof *table);
    table_mask = cap - 1;
    struct peer **peers = calloc(n, sizeof *peers);
    long count = 0, established = 0;
    unsigned char *datagram = malloc(65536);
    long rss0 = vm_rss_kib();
    double t0 = now(), last_sweep = t0;
    while (established < n) {
        struct pollfd pfd = { .fd = fd, .events = POLLIN };
        poll(&pfd, 1, 10);
        for (;;) {
            struct sockaddr_in from;
            socklen_t fl = sizeof from;
            ssize_t got = recvfrom(fd, datagram, 65536, 0, (struct sockaddr *)&from, &fl);
            if (got < 0) break;
            struct peer **slot = slot_for(&from);
            if (!*slot) {
                if (count == n) continue; /* a stranger: ignore */
                *slot = peers[count++] = peer_new(fd, &from);
            }
            struct peer *p = *slot;
            p->datagram = datagram;
            p->datagram_len = (size_t)got;
            if (p->established) {
                unsigned char buf[64];
                mbedtls_ssl_read(&p->ssl, buf, sizeof buf); /* a retransmitted Finished: answered inside */
            } else {
                established += peer_step(p);
            }
            p->datagram = NULL;
        }
        if (now() - last_sweep > 0.05) { /* retransmission timers */
            last_sweep = now();
            for (long i = 0; i < count; i++) established += peer_step(peers[i]);
        }
    }
    double dt = now() - t0;
    long rss1 = vm_rss_kib();

    /* One pass over every idle peer, as a poll loop makes it: the socket once, then each session. */
    double passes[21];
    unsigned char buf[64];
    for (int pass = 0; pass < 21; pass++) { /* 50 ms apart: one busy spell does not set the median */
        usleep(50000);
        double p0 = now();
        struct sockaddr_in from;
        socklen_t fl = sizeof from;
        recvfrom(fd, datagram, 65536, 0, (struct sockaddr *)&from, &fl);
        for (long i = 0; i < n; i++) {
            int rc = mbedtls_ssl_read(&peers[i]->ssl, buf, sizeof buf);
            if (rc != MBEDTLS_ERR_SSL_WANT_READ) die("idle read", rc);
        }
        passes[pass] = now() - p0;
    }
    qsort(passes, 21, sizeof passes[0], compare_doubles);
    double median = passes[10];
    for (long k = 0; k < processes; k++) {
        kill(children[k], SIGKILL);
        waitpid(children[k], NULL, 0);
    }
    printf("sessions %ld %.4f %.1f %.1f KiB %.3f ms %s\n", n, dt, n / dt, (double)(rss1 - rss0) / n, median * 1000,
           profile);
    return 0;
}

/* MARK: - server: a game server's tick loop, driven by `packetdtls-cli bench server-client` */

static double cpu_seconds(void) {
    struct rusage u;
    getrusage(RUSAGE_SELF, &u);
    return u.ru_utime.tv_sec + u.ru_stime.tv_sec + (u.ru_utime.tv_usec + u.ru_stime.tv_usec) / 1e6;
}

/* Reads what the client process wrote; returns 1 per complete line into `line` (0 when none yet). */
static int read_line(int fd, char *pending, size_t *used, char *line, size_t cap) {
    ssize_t got;
    while (*used < 1023 && (got = read(fd, pending + *used, 1023 - *used)) > 0) *used += (size_t)got;
    char *newline = memchr(pending, '\n', *used);
    if (!newline) return 0;
    size_t len = (size_t)(newline - pending);
    snprintf(line, cap, "%.*s", (int)len, pending);
    memmove(pending, newline + 1, *used - len - 1);
    *used -= len + 1;
    return 1;
}

/* BASELINE_BATCH=1: the same loop with its system calls batched as far as they go, the floor of any
 * library on mbedTLS: recvmmsg of up to RECV_BATCH datagrams a call, and every record of the tick
 * (states and handshake flights) copied by the send callback into one arena and sent with sendmmsg at
 * the tick's end (or when the arena fills). Everything else is the plain loop's. */
#define RECV_BATCH 64
#define RECV_SLOT 4096          /* a client's datagrams are far smaller; a truncated one is dropped */
#define SEND_BATCH 1024         /* the kernel's limit for one sendmmsg (UIO_MAXIOV) */
#define SEND_ARENA (512 * 1024)

static struct mmsghdr send_msgs[SEND_BATCH];
static struct iovec send_iov[SEND_BATCH];
static struct sockaddr_in send_to[SEND_BATCH];
static unsigned char send_arena[SEND_ARENA];
static int send_count, send_fd;
static size_t send_used;
static long send_calls, send_dropped, recv_calls;

/* Sends what the tick collected; a datagram the kernel refuses is lost, as sendto's would be. */
static void flush_sends(void) {
    int done = 0;
    while (done < send_count) {
        int r = sendmmsg(send_fd, send_msgs + done, (unsigned)(send_count - done), 0);
        send_calls++;
        if (r <= 0) { send_dropped += send_count - done; break; }
        done += r;
    }
    send_count = 0;
    send_used = 0;
}

static int peer_send_batched(void *ctx, const unsigned char *buf, size_t len) {
    struct peer *p = ctx;
    if (len > SEND_ARENA) return MBEDTLS_ERR_NET_SEND_FAILED;
    if (send_count == SEND_BATCH || send_used + len > SEND_ARENA) flush_sends();
    memcpy(send_arena + send_used, buf, len);
    send_to[send_count] = p->addr;
    send_iov[send_count] = (struct iovec){ .iov_base = send_arena + send_used, .iov_len = len };
    send_msgs[send_count].msg_hdr = (struct msghdr){ .msg_name = &send_to[send_count], .msg_namelen = sizeof p->addr,
                                                     .msg_iov = &send_iov[send_count], .msg_iovlen = 1 };
    send_count++;
    send_used += len;
    return (int)len;
}

static int server_mode(long clients, long joiners, int hz, double seconds, const char *cli) {
    struct sockaddr_in addr;
    /* A receive buffer of 1 MiB: a tick's inputs of every client arrive at once (UDPServer does the same). */
    int fd = loopback_socket(&addr, 1 << 20);
    const char *b = getenv("BASELINE_BATCH");
    int batched = b && *b && strcmp(b, "0");
    send_fd = fd;
    struct mmsghdr recv_msgs[RECV_BATCH];
    struct iovec recv_iov[RECV_BATCH];
    struct sockaddr_in recv_from[RECV_BATCH];
    unsigned char *recv_bufs = batched ? malloc((size_t)RECV_BATCH * RECV_SLOT) : NULL;
    int out[2];
    if (pipe(out)) die("pipe", errno);
    fflush(stdout);
    pid_t child = fork();
    if (child == 0) {
        char port[16], c[32], j[32], h[16];
        snprintf(port, sizeof port, "%d", ntohs(addr.sin_port));
        snprintf(c, sizeof c, "%ld", clients);
        snprintf(j, sizeof j, "%ld", joiners);
        snprintf(h, sizeof h, "%d", hz);
        dup2(out[1], 1);
        close(out[0]);
        close(out[1]);
        close(fd);
        execl(cli, "packetdtls-cli", "bench", "server-client", "--port", port, "--clients", c, "--joiners", j,
              "--hz", h, (char *)NULL);
        _exit(127);
    }
    close(out[1]);
    fcntl(out[0], F_SETFL, O_NONBLOCK);

    /* A client whose handshake failed comes back from a new port: room for some of those. */
    long cap_peers = 2 * (clients + joiners) + 64;
    size_t cap = 1;
    while (cap < (size_t)cap_peers * 2) cap <<= 1;
    table = calloc(cap, sizeof *table);
    table_mask = cap - 1;
    struct peer **peers = calloc(cap_peers, sizeof *peers);
    long count = 0;
    long ticks_cap = (long)(hz * (seconds + 120)) + 16, ticks = 0;
    double *tick = calloc(ticks_cap, sizeof *tick);
    unsigned char *datagram = malloc(65536), state[200], input[2048];
    memset(state, 'S', sizeof state);
    char pending[1024], line[1024];
    size_t used = 0;
    double period = 1.0 / hz, next = now(), give_up = now() + 300 + seconds;
    double window = -1, cpu0 = 0, join_s = joiners ? -1 : 0;
    long recv_calls0 = 0, send_calls0 = 0;
    for (;;) {
        double t0 = now();
        while (batched) { /* every datagram waiting, up to RECV_BATCH a call, each to its session */
            for (int i = 0; i < RECV_BATCH; i++) {
                recv_iov[i] = (struct iovec){ .iov_base = recv_bufs + (size_t)i * RECV_SLOT, .iov_len = RECV_SLOT };
                recv_msgs[i].msg_hdr = (struct msghdr){ .msg_name = &recv_from[i], .msg_namelen = sizeof recv_from[i],
                                                        .msg_iov = &recv_iov[i], .msg_iovlen = 1 };
            }
            int got = recvmmsg(fd, recv_msgs, RECV_BATCH, MSG_DONTWAIT, NULL);
            recv_calls++;
            for (int i = 0; i < got; i++) {
                if (recv_msgs[i].msg_hdr.msg_flags & MSG_TRUNC) continue;
                struct peer **slot = slot_for(&recv_from[i]);
                if (!*slot) {
                    if (count == cap_peers) continue;
                    *slot = peers[count++] = peer_new(fd, &recv_from[i]);
                    mbedtls_ssl_set_bio(&(*slot)->ssl, *slot, peer_send_batched, peer_recv, NULL);
                }
                struct peer *p = *slot;
                p->datagram = recv_iov[i].iov_base;
                p->datagram_len = recv_msgs[i].msg_len;
                if (p->established) {
                    while (mbedtls_ssl_read(&p->ssl, input, sizeof input) > 0) {}
                } else {
                    peer_step(p);
                }
                p->datagram = NULL;
            }
            /* A short batch means the queue was empty: a later datagram waits for the next tick. */
            if (got < RECV_BATCH) break;
        }
        for (; !batched;) { /* every datagram waiting, each to its session */
            struct sockaddr_in from;
            socklen_t fl = sizeof from;
            ssize_t got = recvfrom(fd, datagram, 65536, 0, (struct sockaddr *)&from, &fl);
            if (got < 0) break;
            struct peer **slot = slot_for(&from);
            if (!*slot) {
                if (count == cap_peers) continue;
                *slot = peers[count++] = peer_new(fd, &from);
            }
            struct peer *p = *slot;
            p->datagram = datagram;
            p->datagram_len = (size_t)got;
            if (p->established) {
                while (mbedtls_ssl_read(&p->ssl, input, sizeof input) > 0) {}
            } else {
                peer_step(p);
            }
            p->datagram = NULL;
        }
        for (long i = 0; i < count; i++) { /* retransmission timers, then this tick's states */
            struct peer *p = peers[i];
            if (!p->established) { peer_step(p); continue; }
            int rc = mbedtls_ssl_write(&p->ssl, state, sizeof state);
            if (rc < 0 && rc != MBEDTLS_ERR_SSL_WANT_WRITE) die("state write", rc);
        }
        if (send_count) flush_sends();
        double t1 = now();
        if (window >= 0 && ticks < ticks_cap) tick[ticks++] = t1 - t0;
        while (read_line(out[0], pending, &used, line, sizeof line)) {
            if (!strcmp(line, "ready")) {
                window = t1;
                cpu0 = cpu_seconds();
                recv_calls0 = recv_calls;
                send_calls0 = send_calls;
            }
            else if (!strncmp(line, "joined ", 7)) join_s = atof(line + 7);
            else { fprintf(stderr, "baseline: the client process: %s\n", line); exit(1); }
        }
        if (window >= 0 && t1 - window >= seconds && join_s >= 0 && ticks > 0) {
            double cpu = cpu_seconds() - cpu0;
            qsort(tick, ticks, sizeof tick[0], compare_doubles);
            long p99 = ticks * 99 / 100 < ticks - 1 ? ticks * 99 / 100 : ticks - 1;
            printf("server %ld %ld %d %.3f %.3f %.3f %.3f %.3f %s%s\n", clients, joiners, hz, tick[ticks / 2] * 1000,
                   tick[p99] * 1000, tick[ticks - 1] * 1000, join_s, cpu / ticks * 1000, profile,
                   batched ? " batched" : "");
            if (batched && getenv("BASELINE_BATCH_DETAIL")) /* system calls a tick in the window */
                fprintf(stderr, "baseline: %.1f recvmmsg and %.1f sendmmsg calls a tick, %ld datagrams not sent\n",
                        (double)(recv_calls - recv_calls0) / ticks, (double)(send_calls - send_calls0) / ticks,
                        send_dropped);
            kill(child, SIGKILL);
            waitpid(child, NULL, 0);
            return 0;
        }
        if (t1 > give_up) { fprintf(stderr, "baseline: server gave up (%ld sessions)\n", count); exit(1); }
        if (waitpid(child, NULL, WNOHANG) == child) { fprintf(stderr, "baseline: the client process exited\n"); exit(1); }
        next += period;
        double wait = next - now();
        if (wait > 0) usleep((useconds_t)(wait * 1e6)); else next = now();
    }
}

/* MARK: - syscalls: what batching can save the server loop, without mbedTLS */

static double thread_cpu(void) {
    struct timespec ts;
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
    return ts.tv_sec + ts.tv_nsec / 1e9;
}

/* One server socket and C client sockets on loopback, REPS rounds: the server sends each client a
 * 229-byte datagram (a 200-byte state's record) by one sendto each, then by sendmmsg; the clients send
 * it a 129-byte datagram each (a 100-byte input's record), which it reads by recvfrom until EAGAIN,
 * then by recvmmsg of 64 until a short batch. Only the server side's thread CPU time is measured
 * (loopback delivery into the other side's sockets included, as in the server mode). */
static int syscalls_mode(long clients, int reps) {
    if (clients <= 0 || clients > SEND_BATCH || reps <= 0) {
        fprintf(stderr, "baseline: syscalls C [REPS]: 1 <= C <= %d, REPS >= 1\n", SEND_BATCH);
        exit(2);
    }
    struct sockaddr_in sa, *ca = calloc(clients, sizeof *ca);
    int srv = loopback_socket(&sa, 4 << 20), *cl = calloc(clients, sizeof *cl);
    for (long i = 0; i < clients; i++) cl[i] = loopback_socket(&ca[i], 0);
    static unsigned char state[229], input[129], datagram[65536];
    struct mmsghdr recv_msgs[RECV_BATCH];
    struct iovec recv_iov[RECV_BATCH];
    struct sockaddr_in recv_from[RECV_BATCH];
    unsigned char *recv_bufs = malloc((size_t)RECV_BATCH * RECV_SLOT);
    double *t[4];
    for (int k = 0; k < 4; k++) t[k] = calloc(reps, sizeof *t[k]);
    send_fd = srv;
    struct peer to = { 0 };
    for (int r = 0; r < reps; r++) {
        for (int batched = 0; batched < 2; batched++) {
            double t0 = thread_cpu();
            for (long i = 0; i < clients; i++) {
                if (!batched) {
                    sendto(srv, state, sizeof state, 0, (struct sockaddr *)&ca[i], sizeof ca[i]);
                } else {
                    to.addr = ca[i];
                    peer_send_batched(&to, state, sizeof state);
                }
            }
            if (batched) flush_sends();
            t[batched][r] = thread_cpu() - t0;
            for (long i = 0; i < clients; i++) while (recv(cl[i], datagram, sizeof datagram, 0) >= 0) {}
            for (long i = 0; i < clients; i++) sendto(cl[i], input, sizeof input, 0, (struct sockaddr *)&sa, sizeof sa);
            long got = 0;
            t0 = thread_cpu();
            while (!batched) {
                struct sockaddr_in from;
                socklen_t fl = sizeof from;
                if (recvfrom(srv, datagram, sizeof datagram, 0, (struct sockaddr *)&from, &fl) < 0) break;
                got++;
            }
            while (batched) {
                for (int i = 0; i < RECV_BATCH; i++) {
                    recv_iov[i] = (struct iovec){ .iov_base = recv_bufs + (size_t)i * RECV_SLOT, .iov_len = RECV_SLOT };
                    recv_msgs[i].msg_hdr = (struct msghdr){ .msg_name = &recv_from[i], .msg_namelen = sizeof recv_from[i],
                                                            .msg_iov = &recv_iov[i], .msg_iovlen = 1 };
                }
                int n = recvmmsg(srv, recv_msgs, RECV_BATCH, MSG_DONTWAIT, NULL);
                if (n > 0) got += n;
                if (n < RECV_BATCH) break;
            }
            t[2 + batched][r] = thread_cpu() - t0;
            if (got != clients) die("syscalls: datagrams lost on loopback", (int)got);
        }
    }
    double us[4];
    for (int k = 0; k < 4; k++) {
        qsort(t[k], reps, sizeof *t[k], compare_doubles);
        us[k] = t[k][reps / 2] * 1e6 / clients;
    }
    /* Medians, in microseconds of the server's CPU a datagram. */
    printf("syscalls %ld sendto %.3f sendmmsg %.3f recvfrom %.3f recvmmsg %.3f us saved_per_tick %.3f ms\n", clients,
           us[0], us[1], us[2], us[3], (us[0] - us[1] + us[2] - us[3]) * clients / 1000);
    return 0;
}

int main(int argc, char **argv) {
    if (argc < 3) {
        fprintf(stderr, "usage: %s handshake N cert key | echo N SIZE cert key | udp N SIZE | "
                        "sessions N cert key [window] | server C J HZ SECONDS cert key CLI | syscalls C [REPS]\n",
                argv[0]);
        return 2;
    }
    setvbuf(stdout, NULL, _IOLBF, 0);
    const char *mode = argv[1];
    long n = atol(argv[2]);
    if (!strcmp(mode, "udp") && argc >= 4) return udp_mode(n, (size_t)atol(argv[3]));
    if (!strcmp(mode, "syscalls")) {
        raise_fd_limit();
        return syscalls_mode(n, argc >= 4 ? atoi(argv[3]) : 300);
    }
    if ((!strcmp(mode, "handshake") || !strcmp(mode, "hs")) && argc >= 5) {
        setup_configs(argv[3], argv[4]);
        return pair_mode(1, n, 0);
    }
    if (!strcmp(mode, "echo") && argc >= 6) {
        setup_configs(argv[4], argv[5]);
        return pair_mode(0, n, (size_t)atol(argv[3]));
    }
    if (!strcmp(mode, "sessions") && argc >= 5) {
        raise_fd_limit();
        setup_configs(argv[3], argv[4]);
        return sessions_mode(n, argc >= 6 ? atol(argv[5]) : n);
    }
    if (!strcmp(mode, "server") && argc >= 9) {
        raise_fd_limit();
        setup_configs(argv[6], argv[7]);
        return server_mode(n, atol(argv[3]), atoi(argv[4]), atof(argv[5]), argv[8]);
    }
    fprintf(stderr, "baseline: unknown mode or missing arguments: %s\n", mode);
    return 2;
}
