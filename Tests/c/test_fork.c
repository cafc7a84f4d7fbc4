/*
 * test_fork.c — after fork() the child's random generator is reseeded: parent and child never
 * draw the same bytes, nor generate the same key (issue 20). The child reports what it drew
 * through a pipe; the parent compares.
 */
#include <stdlib.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <unistd.h>

#include "check.h"

enum { DRAW = 32, PEM_MAX = 512 };

typedef struct {
    uint8_t random[DRAW];
    char public_pem[PEM_MAX];
} draw_result;

static void draw(draw_result *out) {
    memset(out, 0, sizeof *out);
    CHECK_ERR(dtls_crypto_generate_random_bytes(out->random, DRAW), DTLS_OK);
    dtls_key *key = dtls_crypto_generate_ec_p256();
    CHECK(key != NULL);
    if (key) {
        CHECK(dtls_key_save_to_string(key, true, out->public_pem, PEM_MAX) < PEM_MAX);
        dtls_key_free(key);
    }
}

/* Forks; both sides draw; the child's draw comes back through a pipe. */
static void fork_and_compare(const char *label) {
    int channel[2];
    CHECK(pipe(channel) == 0);
    pid_t child = fork();
    CHECK(child >= 0);
    if (child == 0) {
        draw_result mine;
        draw(&mine);
        ssize_t put = write(channel[1], &mine, sizeof mine);
        _exit(put == (ssize_t)sizeof mine && check_failures_in_test == 0 ? 0 : 1);
    }
    close(channel[1]);
    draw_result parent, theirs;
    draw(&parent);
    size_t got = 0;
    while (got < sizeof theirs) {
        ssize_t n = read(channel[0], (char *)&theirs + got, sizeof theirs - got);
        if (n <= 0) break;
        got += (size_t)n;
    }
    close(channel[0]);
    int status = 0;
    CHECK(waitpid(child, &status, 0) == child);
    CHECK(WIFEXITED(status) && WEXITSTATUS(status) == 0);
    CHECK(got == sizeof theirs);
    if (got != sizeof theirs) return;
    if (memcmp(parent.random, theirs.random, DRAW) == 0) fprintf(stderr, "%s: same random bytes\n", label);
    CHECK(memcmp(parent.random, theirs.random, DRAW) != 0);
    CHECK(strncmp(theirs.public_pem, "-----BEGIN PUBLIC KEY-----", 26) == 0);
    CHECK(strcmp(parent.public_pem, theirs.public_pem) != 0);
}

/* The generator was used before the fork (the usual case: a server forks its workers). */
static void test_child_after_use_draws_other_bytes(void) {
    uint8_t warm[16];
    CHECK_ERR(dtls_crypto_generate_random_bytes(warm, sizeof warm), DTLS_OK);
    fork_and_compare("after use");
}

/* Twice in a row, and a grandchild: every process gets its own stream. */
static void test_every_fork_reseeds(void) {
    fork_and_compare("second fork");
    fork_and_compare("third fork");
}

int main(void) {
    RUN(test_child_after_use_draws_other_bytes);
    RUN(test_every_fork_reseeds);
    return check_summary("test_fork");
}
