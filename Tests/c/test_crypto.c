/*
 * test_crypto.c — CryptoKey, X509Certificate, Crypto and TLSOptions through include/packetdtls.h:
 * round trips, error paths, NULL pointers, bad handles (freed, never issued, other class) and
 * buffers that are too small. Keys and certificates are made at run time; files go to a temp dir.
 */
#define _POSIX_C_SOURCE 200809L
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include "check.h"

static char temp_dir[64];

static const char *temp_path(const char *name) {
    static char path[128];
    snprintf(path, sizeof path, "%s/%s", temp_dir, name);
    return path;
}

/* The key or certificate as PEM in a malloc'd string (caller frees). */
static char *key_pem(dtls_key *key, bool public_only) {
    size_t needed = dtls_key_save_to_string(key, public_only, NULL, 0);
    char *text = malloc(needed + 1);
    dtls_key_save_to_string(key, public_only, text, needed + 1);
    return text;
}

static char *cert_pem(dtls_cert *cert) {
    size_t needed = dtls_cert_save_to_string(cert, NULL, 0);
    char *text = malloc(needed + 1);
    dtls_cert_save_to_string(cert, text, needed + 1);
    return text;
}

static void test_key_round_trips(void) {
    dtls_key *key = dtls_crypto_generate_ec_p256();
    CHECK(key != NULL);
    char *pem = key_pem(key, false);
    CHECK(strncmp(pem, "-----BEGIN EC PRIVATE KEY-----", 30) == 0);

    dtls_key *copy = dtls_key_new();
    CHECK_ERR(dtls_key_load_from_string(copy, pem, false), DTLS_OK);
    char *copy_pem = key_pem(copy, false);
    CHECK(strcmp(pem, copy_pem) == 0);

    CHECK_ERR(dtls_key_save(key, temp_path("c.key"), false), DTLS_OK);
    struct stat info;
    CHECK(stat(temp_path("c.key"), &info) == 0 && (info.st_mode & 0777) == 0600);
    dtls_key *from_file = dtls_key_new();
    CHECK_ERR(dtls_key_load(from_file, temp_path("c.key"), false), DTLS_OK);
    CHECK(!dtls_key_is_public_only(from_file));

    dtls_key *public_key = dtls_key_new();
    char *public_pem = key_pem(key, true);
    CHECK_ERR(dtls_key_load_from_string(public_key, public_pem, true), DTLS_OK);
    CHECK(dtls_key_is_public_only(public_key));
    CHECK(dtls_key_save_to_string(public_key, false, NULL, 0) == 0); /* no private half to write */
    CHECK_ERR(dtls_key_save(public_key, temp_path("nope.key"), false), DTLS_ERR_INVALID_PARAMETER);

    free(pem);
    free(copy_pem);
    free(public_pem);
    dtls_key_free(key);
    dtls_key_free(copy);
    dtls_key_free(from_file);
    dtls_key_free(public_key);
}

static void test_key_errors(void) {
    dtls_key *key = dtls_crypto_generate_ec_p256();
    char *before = key_pem(key, false);
    CHECK_ERR(dtls_key_load_from_string(key, "garbage", false), DTLS_ERR_PARSE_ERROR);
    CHECK(strlen(dtls_last_error_message()) > 0);
    CHECK_ERR(dtls_key_load(key, "/nonexistent/dir/key.pem", false), DTLS_ERR_INVALID_PARAMETER);
    CHECK(strstr(dtls_last_error_message(), "/nonexistent/dir/key.pem") != NULL);
    char *after = key_pem(key, false);
    CHECK(strcmp(before, after) == 0); /* failed loads left the key alone */

    CHECK_ERR(dtls_key_load(key, NULL, false), DTLS_ERR_INVALID_PARAMETER);
    CHECK_ERR(dtls_key_save(key, NULL, false), DTLS_ERR_INVALID_PARAMETER);
    CHECK_ERR(dtls_key_load_from_string(key, NULL, false), DTLS_ERR_INVALID_PARAMETER);

    dtls_key *empty = dtls_key_new();
    char small[4] = "xyz";
    CHECK(dtls_key_save_to_string(empty, false, small, sizeof small) == 0);
    CHECK(small[0] == '\0');
    CHECK(strstr(dtls_last_error_message(), "empty") != NULL);

    /* snprintf rule: a small buffer gets a truncated, terminated prefix and the full length back. */
    size_t needed = dtls_key_save_to_string(key, false, small, sizeof small);
    CHECK(needed == strlen(before));
    CHECK(strcmp(small, "---") == 0);

    free(before);
    free(after);
    dtls_key_free(empty);
    dtls_key_free(key);
}

static void test_bad_handles_are_rejected(void) {
    dtls_key *freed = dtls_key_new();
    dtls_key_free(freed);
    dtls_key *forged = (dtls_key *)0x1234;
    dtls_cert *cert = dtls_cert_new();
    dtls_key *wrong_class = (dtls_key *)cert;
    dtls_key *bad[] = {NULL, freed, forged, wrong_class};
    char buf[16];
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        CHECK_ERR(dtls_key_load_from_string(bad[i], "x", false), DTLS_ERR_INVALID_PARAMETER);
        CHECK_ERR(dtls_key_save(bad[i], temp_path("bad.key"), false), DTLS_ERR_INVALID_PARAMETER);
        CHECK(dtls_key_save_to_string(bad[i], false, buf, sizeof buf) == 0 && buf[0] == '\0');
        CHECK(!dtls_key_is_public_only(bad[i]));
        CHECK(dtls_crypto_generate_self_signed_certificate(bad[i], NULL, NULL, NULL) == NULL);
        CHECK(dtls_options_server(bad[i], cert) == NULL);
        dtls_key_free(bad[i]); /* ignored */
    }
    CHECK(strstr(dtls_last_error_message(), "handle") != NULL);

    dtls_cert *cert_freed = dtls_cert_new();
    dtls_cert_free(cert_freed);
    dtls_key *key = dtls_key_new();
    dtls_cert *bad_certs[] = {NULL, cert_freed, (dtls_cert *)0x1234, (dtls_cert *)key};
    for (size_t i = 0; i < sizeof bad_certs / sizeof bad_certs[0]; i++) {
        CHECK_ERR(dtls_cert_load_from_string(bad_certs[i], "x"), DTLS_ERR_INVALID_PARAMETER);
        CHECK_ERR(dtls_cert_load(bad_certs[i], "/tmp/x"), DTLS_ERR_INVALID_PARAMETER);
        CHECK_ERR(dtls_cert_save(bad_certs[i], "/tmp/x"), DTLS_ERR_INVALID_PARAMETER);
        CHECK(dtls_cert_save_to_string(bad_certs[i], buf, sizeof buf) == 0);
        dtls_cert_free(bad_certs[i]);
    }
    /* A bad trusted chain never silently becomes "trust the system CAs". */
    CHECK(dtls_options_client(bad_certs[1], NULL) == NULL);
    CHECK(dtls_options_client_unsafe(bad_certs[3]) == NULL);

    dtls_options *bad_options[] = {NULL, (dtls_options *)0x1234, (dtls_options *)key};
    for (size_t i = 0; i < sizeof bad_options / sizeof bad_options[0]; i++) {
        CHECK(!dtls_options_is_server(bad_options[i]));
        CHECK(!dtls_options_is_unsafe_client(bad_options[i]));
        CHECK(dtls_options_get_common_name_override(bad_options[i], buf, sizeof buf) == 0);
        CHECK(dtls_options_get_private_key(bad_options[i]) == NULL);
        CHECK(dtls_options_get_own_certificate(bad_options[i]) == NULL);
        CHECK(dtls_options_get_trusted_ca_chain(bad_options[i]) == NULL);
        CHECK_ERR(dtls_options_set_mtu(bad_options[i], 1200), DTLS_ERR_INVALID_PARAMETER);
        CHECK_ERR(dtls_options_set_idle_timeout(bad_options[i], 1), DTLS_ERR_INVALID_PARAMETER);
        CHECK_ERR(dtls_options_set_handshake_timeout(bad_options[i], 1, 2), DTLS_ERR_INVALID_PARAMETER);
        dtls_options_free(bad_options[i]);
    }
    dtls_key_free(key);
    dtls_cert_free(cert);
}

static void test_certificate_chain_round_trip(void) {
    dtls_key *key = dtls_crypto_generate_ec_p256();
    dtls_cert *first = dtls_crypto_generate_self_signed_certificate(key, "CN=first,O=Test,C=IT", NULL, NULL);
    dtls_cert *second = dtls_crypto_generate_self_signed_certificate(key, "CN=second,O=Test,C=IT", NULL, NULL);
    CHECK(first != NULL && second != NULL);
    char *a = cert_pem(first);
    char *b = cert_pem(second);
    char *joined = malloc(strlen(a) + strlen(b) + 1);
    strcpy(joined, a);
    strcat(joined, b);

    dtls_cert *chain = dtls_cert_new();
    CHECK_ERR(dtls_cert_load_from_string(chain, joined), DTLS_OK);
    CHECK_ERR(dtls_cert_save(chain, temp_path("chain.pem")), DTLS_OK);
    dtls_cert *reloaded = dtls_cert_new();
    CHECK_ERR(dtls_cert_load(reloaded, temp_path("chain.pem")), DTLS_OK);
    char *out = cert_pem(reloaded);
    CHECK(strcmp(out, joined) == 0); /* both certificates, in order */

    CHECK_ERR(dtls_cert_load_from_string(reloaded, "garbage"), DTLS_ERR_PARSE_ERROR);
    CHECK_ERR(dtls_cert_load(reloaded, "/nonexistent/dir/cert.pem"), DTLS_ERR_INVALID_PARAMETER);
    CHECK_ERR(dtls_cert_load(reloaded, NULL), DTLS_ERR_INVALID_PARAMETER);
    char *unchanged = cert_pem(reloaded);
    CHECK(strcmp(unchanged, joined) == 0);

    dtls_cert *empty = dtls_cert_new();
    CHECK(dtls_cert_save_to_string(empty, NULL, 0) == 0);
    CHECK(dtls_crypto_generate_self_signed_certificate(key, "CN=x", "2014", NULL) == NULL);
    dtls_key *empty_key = dtls_key_new();
    CHECK(dtls_crypto_generate_self_signed_certificate(empty_key, NULL, NULL, NULL) == NULL);
    dtls_key_free(empty_key);

    free(a);
    free(b);
    free(joined);
    free(out);
    free(unchanged);
    dtls_cert_free(first);
    dtls_cert_free(second);
    dtls_cert_free(chain);
    dtls_cert_free(reloaded);
    dtls_cert_free(empty);
    dtls_key_free(key);
}

static void test_openssl_reads_our_files(void) {
    if (system("openssl version >/dev/null 2>&1") != 0) {
        printf("     (openssl not installed: skipped)\n");
        return;
    }
    dtls_key *key = dtls_crypto_generate_ec_p256();
    dtls_cert *cert = dtls_crypto_generate_self_signed_certificate(key, NULL, NULL, NULL);
    CHECK_ERR(dtls_key_save(key, temp_path("o.key"), false), DTLS_OK);
    CHECK_ERR(dtls_cert_save(cert, temp_path("o.pem")), DTLS_OK);
    char command[512];
    snprintf(command, sizeof command, "openssl pkey -noout -in %s/o.key && openssl x509 -noout -text -in %s/o.pem"
             " | grep -q 'CN = myserver' && openssl verify -CAfile %s/o.pem %s/o.pem >/dev/null",
             temp_dir, temp_dir, temp_dir, temp_dir);
    CHECK(system(command) == 0);
    dtls_cert_free(cert);
    dtls_key_free(key);
}

static void test_sign_verify_and_small_buffers(void) {
    dtls_key *key = dtls_crypto_generate_ec_p256();
    uint8_t hash[32];
    CHECK_ERR(dtls_crypto_generate_random_bytes(hash, sizeof hash), DTLS_OK);
    uint8_t signature[512];
    size_t length = 0;
    CHECK_ERR(dtls_crypto_sign(DTLS_HASH_SHA256, hash, sizeof hash, key, signature, 4, &length),
              DTLS_ERR_PARAMETER_RANGE_ERROR);
    CHECK(length > 4 && length <= 72);
    CHECK_ERR(dtls_crypto_sign(DTLS_HASH_SHA256, hash, sizeof hash, key, signature, sizeof signature, &length),
              DTLS_OK);
    CHECK(dtls_crypto_verify(DTLS_HASH_SHA256, hash, sizeof hash, signature, length, key));
    signature[length / 2] ^= 1;
    CHECK(!dtls_crypto_verify(DTLS_HASH_SHA256, hash, sizeof hash, signature, length, key));

    CHECK_ERR(dtls_crypto_sign(DTLS_HASH_SHA1, hash, sizeof hash, key, signature, sizeof signature, &length),
              DTLS_ERR_INVALID_PARAMETER); /* a SHA-1 hash is 20 bytes */
    CHECK_ERR(dtls_crypto_sign((dtls_hash_type)7, hash, sizeof hash, key, signature, sizeof signature, &length),
              DTLS_ERR_INVALID_PARAMETER);
    CHECK_ERR(dtls_crypto_sign(DTLS_HASH_SHA256, NULL, 32, key, signature, sizeof signature, &length),
              DTLS_ERR_INVALID_PARAMETER);
    CHECK_ERR(dtls_crypto_sign(DTLS_HASH_SHA256, hash, sizeof hash, key, signature, sizeof signature, NULL),
              DTLS_ERR_INVALID_PARAMETER);
    CHECK(!dtls_crypto_verify(DTLS_HASH_SHA256, hash, sizeof hash, NULL, 10, key));
    CHECK(!dtls_crypto_verify(DTLS_HASH_SHA256, hash, sizeof hash, signature, length, NULL));
    CHECK_ERR(dtls_crypto_generate_random_bytes(NULL, 4), DTLS_ERR_INVALID_PARAMETER);
    CHECK_ERR(dtls_crypto_generate_random_bytes(NULL, 0), DTLS_OK);

    dtls_key *public_key = dtls_key_new();
    char *public_pem = key_pem(key, true);
    CHECK_ERR(dtls_key_load_from_string(public_key, public_pem, true), DTLS_OK);
    CHECK_ERR(dtls_crypto_sign(DTLS_HASH_SHA256, hash, sizeof hash, public_key, signature, sizeof signature, &length),
              DTLS_FAILED);
    CHECK(length == 0);
    free(public_pem);
    dtls_key_free(public_key);
    dtls_key_free(key);
}

static void test_rsa_encrypt_decrypt(void) {
    CHECK(dtls_crypto_generate_rsa(1000 + 1) == NULL);
    CHECK(dtls_crypto_generate_rsa(512) == NULL);
    dtls_key *key = dtls_crypto_generate_rsa(1024);
    CHECK(key != NULL);
    const uint8_t message[] = "hello";
    uint8_t cipher[256], plain[256];
    size_t cipher_len = 0, plain_len = 0;
    CHECK_ERR(dtls_crypto_encrypt(key, message, 5, cipher, 10, &cipher_len), DTLS_ERR_PARAMETER_RANGE_ERROR);
    CHECK(cipher_len == 128);
    CHECK_ERR(dtls_crypto_encrypt(key, message, 5, cipher, sizeof cipher, &cipher_len), DTLS_OK);
    CHECK_ERR(dtls_crypto_decrypt(key, cipher, cipher_len, plain, sizeof plain, &plain_len), DTLS_OK);
    CHECK(plain_len == 5 && memcmp(plain, message, 5) == 0);
    CHECK_ERR(dtls_crypto_decrypt(key, cipher, cipher_len, NULL, 0, &plain_len), DTLS_ERR_PARAMETER_RANGE_ERROR);
    CHECK(plain_len == 5);
    CHECK_ERR(dtls_crypto_encrypt(key, NULL, 5, cipher, sizeof cipher, &cipher_len), DTLS_ERR_INVALID_PARAMETER);

    dtls_key *ec = dtls_crypto_generate_ec_p256();
    CHECK_ERR(dtls_crypto_encrypt(ec, message, 5, cipher, sizeof cipher, &cipher_len), DTLS_FAILED);
    CHECK(strstr(dtls_last_error_message(), "RSA") != NULL);
    dtls_key_free(ec);
    dtls_key_free(key);
}

static void test_hmac_and_compare(void) {
    /* RFC 4231 test case 2. */
    const char *key = "Jefe";
    const char *msg = "what do ya want for nothing?";
    const uint8_t expected[32] = {0x5b, 0xdc, 0xc1, 0x46, 0xbf, 0x60, 0x75, 0x4e, 0x6a, 0x04, 0x24,
                                  0x26, 0x08, 0x95, 0x75, 0xc7, 0x5a, 0x00, 0x3f, 0x08, 0x9d, 0x27,
                                  0x39, 0x83, 0x9d, 0xec, 0x58, 0xb9, 0x64, 0xec, 0x38, 0x43};
    uint8_t mac[32];
    size_t mac_len = 0;
    CHECK_ERR(dtls_crypto_hmac_digest(DTLS_HASH_SHA256, (const uint8_t *)key, 4, (const uint8_t *)msg, strlen(msg),
                                      mac, 31, &mac_len), DTLS_ERR_PARAMETER_RANGE_ERROR);
    CHECK(mac_len == 32);
    CHECK_ERR(dtls_crypto_hmac_digest(DTLS_HASH_SHA256, (const uint8_t *)key, 4, (const uint8_t *)msg, strlen(msg),
                                      mac, sizeof mac, &mac_len), DTLS_OK);
    CHECK(mac_len == 32 && dtls_crypto_constant_time_compare(mac, 32, expected, 32));
    CHECK(!dtls_crypto_constant_time_compare(mac, 31, expected, 32));
    mac[31] ^= 1;
    CHECK(!dtls_crypto_constant_time_compare(mac, 32, expected, 32));
    CHECK(!dtls_crypto_constant_time_compare(NULL, 3, expected, 3));
    CHECK(dtls_crypto_constant_time_compare(NULL, 0, NULL, 0));
    CHECK_ERR(dtls_crypto_hmac_digest(DTLS_HASH_SHA256, NULL, 0, (const uint8_t *)msg, 3, mac, sizeof mac, &mac_len),
              DTLS_ERR_INVALID_PARAMETER);
    CHECK_ERR(dtls_crypto_hmac_digest((dtls_hash_type)9, (const uint8_t *)key, 4, NULL, 0, mac, sizeof mac, &mac_len),
              DTLS_ERR_INVALID_PARAMETER);
}

static void test_options(void) {
    dtls_options *system_client = dtls_options_new();
    CHECK(system_client != NULL && !dtls_options_is_server(system_client));
    CHECK(!dtls_options_is_unsafe_client(system_client));
    CHECK(dtls_options_get_trusted_ca_chain(system_client) == NULL);
    CHECK_ERR(dtls_options_set_mtu(system_client, 100), DTLS_ERR_INVALID_PARAMETER);
    CHECK_ERR(dtls_options_set_mtu(system_client, 1200), DTLS_OK);
    CHECK_ERR(dtls_options_set_handshake_timeout(system_client, 5, 1), DTLS_ERR_INVALID_PARAMETER);
    CHECK_ERR(dtls_options_set_idle_timeout(system_client, 0), DTLS_OK);

    dtls_key *key = dtls_crypto_generate_ec_p256();
    dtls_cert *cert = dtls_crypto_generate_self_signed_certificate(key, "CN=example.org", NULL, NULL);
    dtls_options *client = dtls_options_client(cert, "example.org");
    char name[8];
    CHECK(dtls_options_get_common_name_override(client, name, sizeof name) == strlen("example.org"));
    CHECK(strcmp(name, "example") == 0);
    dtls_cert *chain = dtls_options_get_trusted_ca_chain(client);
    CHECK(chain != NULL && chain != cert); /* a new handle to the same certificate */
    dtls_cert_free(chain);
    dtls_options *unsafe = dtls_options_client_unsafe(NULL);
    CHECK(dtls_options_is_unsafe_client(unsafe));

    CHECK(dtls_options_server(NULL, cert) == NULL);
    CHECK(dtls_options_server(key, NULL) == NULL);
    dtls_key *empty_key = dtls_key_new();
    CHECK(dtls_options_server(empty_key, cert) == NULL);
    dtls_key *other = dtls_crypto_generate_ec_p256();
    CHECK(dtls_options_server(other, cert) == NULL);
    CHECK(strstr(dtls_last_error_message(), "does not belong") != NULL);

    dtls_options *server = dtls_options_server(key, cert);
    CHECK(server != NULL && dtls_options_is_server(server));
    char *key_before = key_pem(key, false);
    /* The caller lets go of its key and certificate: the options keep them. */
    dtls_key_free(key);
    dtls_cert_free(cert);
    dtls_key *held = dtls_options_get_private_key(server);
    dtls_cert *own = dtls_options_get_own_certificate(server);
    CHECK(held != NULL && own != NULL);
    char *key_after = key_pem(held, false);
    CHECK(strcmp(key_before, key_after) == 0);
    CHECK(dtls_cert_save_to_string(own, NULL, 0) > 0);
    dtls_key_free(held);
    dtls_key_free(held); /* a second free of the same handle is ignored */
    held = dtls_options_get_private_key(server); /* still held by the options */
    CHECK(held != NULL && dtls_key_save_to_string(held, false, NULL, 0) > 0);
    dtls_key_free(held);

    free(key_before);
    free(key_after);
    dtls_key_free(empty_key);
    dtls_key_free(other);
    dtls_cert_free(own);
    dtls_options_free(system_client);
    dtls_options_free(client);
    dtls_options_free(unsafe);
    dtls_options_free(server);
    dtls_options_free(NULL);
}

int main(void) {
    strcpy(temp_dir, "/tmp/packetdtls-c-XXXXXX");
    if (!mkdtemp(temp_dir)) {
        perror("mkdtemp");
        return 2;
    }
    RUN(test_key_round_trips);
    RUN(test_key_errors);
    RUN(test_bad_handles_are_rejected);
    RUN(test_certificate_chain_round_trip);
    RUN(test_openssl_reads_our_files);
    RUN(test_sign_verify_and_small_buffers);
    RUN(test_rsa_encrypt_decrypt);
    RUN(test_hmac_and_compare);
    RUN(test_options);
    char command[128];
    snprintf(command, sizeof command, "rm -rf %s", temp_dir);
    if (system(command) != 0) fprintf(stderr, "could not remove %s\n", temp_dir);
    return check_summary("test_crypto");
}
