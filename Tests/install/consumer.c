/*
 * consumer.c — a program built against an installed PacketDTLS, as a user would build it.
 * scripts/check-install compiles it through pkg-config and through find_package(PacketDTLS).
 */
#include <packetdtls.h>

#include <stdio.h>
#include <string.h>

int main(void) {
    uint32_t version = dtls_version_number();
    const char *name = dtls_error_string(DTLS_ERR_INVALID_PARAMETER);
    printf("consumer: version %u (header %d)\n", (unsigned)version, DTLS_VERSION_NUMBER);
    printf("consumer: error %d is %s\n", (int)DTLS_ERR_INVALID_PARAMETER, name ? name : "(null)");
    if (version != DTLS_VERSION_NUMBER || name == NULL || strcmp(name, "ERR_INVALID_PARAMETER") != 0) {
        fprintf(stderr, "consumer: the installed library does not match its header\n");
        return 1;
    }
    return 0;
}
