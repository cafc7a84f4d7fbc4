/*
 * header_c99.c — include/packetdtls.h compiles as strict C99 (-std=c99 -pedantic-errors -Wall
 * -Wextra -Werror), and its version macros agree with the library that is linked.
 */
#include "packetdtls.h"

#include <stdio.h>

int main(void) {
    uint32_t runtime = dtls_version_number();
    if (runtime != DTLS_VERSION_NUMBER) {
        fprintf(stderr, "header says version %d, library says %u\n", DTLS_VERSION_NUMBER, (unsigned)runtime);
        return 1;
    }
    printf("header_c99: packetdtls.h is C99; version %u\n", (unsigned)runtime);
    return 0;
}
