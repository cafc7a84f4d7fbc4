/*
 * test_variant.c — dtls_var_* and put_var / get_var through include/packetdtls.h.
 *
 * Byte strings are assembled from the layout tables of Godot's "Binary serialization API" page
 * (godot-docs, tutorials/io/binary_serialization_api.rst): a little-endian type header, then the
 * documented fields, padded to 4 bytes. Bad handles (NULL, freed, never issued, another class) and
 * bad buffers are tried on every kind of function. Loops poll with a deadline, over loopback only.
 */
#define _POSIX_C_SOURCE 200809L
#include <stdint.h>
#include <stdlib.h>
#include "check.h"

#define DEADLINE_MS 3000
#define FORGED_VAR ((dtls_var *)(uintptr_t)0x1234)

/* Encodes `var` for `major` and compares with `expected`. */
static int encodes_as(dtls_var *var, int major, const uint8_t *expected, size_t len) {
    uint8_t buf[256];
    size_t out = 0;
    if (dtls_var_encode(var, major, buf, sizeof buf, &out) != DTLS_OK) return 0;
    return out == len && memcmp(buf, expected, len) == 0;
}

static void test_scalars_and_their_documented_bytes(void) {
    /* "2: int" — type 2, a 32-bit signed integer. */
    static const uint8_t int_bytes[] = {2, 0, 0, 0, 0xFE, 0xFF, 0xFF, 0xFF};
    /* "4: String" — length 5, "Hello", padded to 8. */
    static const uint8_t hello[] = {4, 0, 0, 0, 5, 0, 0, 0, 'H', 'e', 'l', 'l', 'o', 0, 0, 0};
    dtls_var *i = dtls_var_new_int(-2);
    CHECK(encodes_as(i, 4, int_bytes, sizeof int_bytes));
    CHECK(encodes_as(i, 3, int_bytes, sizeof int_bytes));
    CHECK(dtls_var_get_type(i) == DTLS_VAR_INT);
    CHECK(dtls_var_get_int(i) == -2);
    CHECK(dtls_var_get_float(i) == -2.0);
    CHECK(dtls_var_get_bool(i) == false); /* wrong type: the neutral value */

    dtls_var *s = dtls_var_decode(hello, sizeof hello, 4);
    CHECK(s != NULL);
    CHECK(dtls_var_get_type(s) == DTLS_VAR_STRING);
    char text[8];
    CHECK(dtls_var_get_string(s, text, sizeof text) == 5);
    CHECK(strcmp(text, "Hello") == 0);
    CHECK(dtls_var_get_string(s, text, 3) == 5 && strcmp(text, "He") == 0); /* snprintf rule */
    CHECK(dtls_var_get_string(s, NULL, 0) == 5);

    dtls_var *n = dtls_var_new();
    static const uint8_t null_bytes[] = {0, 0, 0, 0};
    CHECK(encodes_as(n, 4, null_bytes, 4));
    CHECK(dtls_var_get_type(n) == DTLS_VAR_NIL);
    dtls_var *b = dtls_var_new_bool(true);
    CHECK(dtls_var_get_bool(b));
    dtls_var *f = dtls_var_new_float(0.1);
    uint8_t buf[16];
    size_t out = 0;
    CHECK_ERR(dtls_var_encode(f, 4, buf, sizeof buf, &out), DTLS_OK);
    CHECK(out == 12 && buf[2] == 1); /* not exact as a float: 64-bit with the flag */
    CHECK_ERR(dtls_var_encode(f, 4, buf, 4, &out), DTLS_ERR_PARAMETER_RANGE_ERROR);
    CHECK(out == 12);
    CHECK_ERR(dtls_var_encode(f, 5, buf, sizeof buf, &out), DTLS_ERR_INVALID_PARAMETER);
    CHECK_ERR(dtls_var_encode(f, 4, buf, sizeof buf, NULL), DTLS_ERR_INVALID_PARAMETER);
    dtls_var_free(i);
    dtls_var_free(s);
    dtls_var_free(n);
    dtls_var_free(b);
    dtls_var_free(f);
}

static void test_vectors_colors_and_version_numbers(void) {
    /* Vector3 is type 9 in Godot 4 and 7 in Godot 3: x, y, z as floats (1.0f = 0x3F800000). */
    static const uint8_t v4[] = {9, 0, 0, 0, 0, 0, 0x80, 0x3F, 0, 0, 0, 0x40, 0, 0, 0x40, 0x40};
    static const uint8_t v3[] = {7, 0, 0, 0, 0, 0, 0x80, 0x3F, 0, 0, 0, 0x40, 0, 0, 0x40, 0x40};
    const double xyz[] = {1, 2, 3};
    dtls_var *v = dtls_var_new_components(DTLS_VAR_VECTOR3, xyz, 3);
    CHECK(v != NULL);
    CHECK(encodes_as(v, 4, v4, sizeof v4));
    CHECK(encodes_as(v, 3, v3, sizeof v3));
    double got[4] = {0};
    CHECK(dtls_var_get_components(v, got, 4) == 3);
    CHECK(got[0] == 1 && got[1] == 2 && got[2] == 3);
    CHECK(dtls_var_get_components(v, NULL, 0) == 3);
    dtls_var *decoded = dtls_var_decode(v3, sizeof v3, 3);
    CHECK(dtls_var_get_type(decoded) == DTLS_VAR_VECTOR3);
    dtls_var_free(decoded);
    decoded = dtls_var_decode(v3, sizeof v3, 4); /* 7 is Rect2 in Godot 4: needs 16 bytes, has 12 */
    CHECK(decoded == NULL);

    const double two[] = {1, 2};
    dtls_var *vi = dtls_var_new_components(DTLS_VAR_VECTOR2I, two, 2);
    uint8_t buf[32];
    size_t out;
    CHECK_ERR(dtls_var_encode(vi, 3, buf, sizeof buf, &out), DTLS_ERR_INVALID_PARAMETER); /* no Vector2i in 3 */
    CHECK(strstr(dtls_last_error_message(), "Godot 3") != NULL);
    const double half[] = {1.5, 2};
    CHECK(dtls_var_new_components(DTLS_VAR_VECTOR2I, half, 2) == NULL);
    CHECK(dtls_var_new_components(DTLS_VAR_VECTOR3, xyz, 2) == NULL);
    CHECK(dtls_var_new_components(DTLS_VAR_STRING, xyz, 3) == NULL);
    CHECK(dtls_var_new_components((dtls_var_type)999, xyz, 3) == NULL);
    CHECK(dtls_var_new_components(DTLS_VAR_VECTOR3, NULL, 3) == NULL);
    const double rgba[] = {1, 0.5, 0.25, 1};
    dtls_var *c = dtls_var_new_components(DTLS_VAR_COLOR, rgba, 4);
    CHECK(dtls_var_get_type(c) == DTLS_VAR_COLOR);
    dtls_var_free(v);
    dtls_var_free(vi);
    dtls_var_free(c);
}

static void test_arrays_dictionaries_and_packed_arrays(void) {
    dtls_var *array = dtls_var_new_array();
    dtls_var *one = dtls_var_new_int(1);
    dtls_var *word = dtls_var_new_string("two");
    CHECK_ERR(dtls_var_array_append(array, one), DTLS_OK);
    CHECK_ERR(dtls_var_array_append(array, word), DTLS_OK);
    CHECK_ERR(dtls_var_array_append(array, array), DTLS_OK); /* a copy of itself, as it was */
    CHECK(dtls_var_array_size(array) == 3);
    dtls_var *inner = dtls_var_array_get(array, 2);
    CHECK(dtls_var_get_type(inner) == DTLS_VAR_ARRAY && dtls_var_array_size(inner) == 2);
    CHECK(dtls_var_array_get(array, 3) == NULL);

    dtls_var *dict = dtls_var_new_dictionary();
    dtls_var *key = dtls_var_new_string("hp");
    dtls_var *hundred = dtls_var_new_int(100);
    CHECK_ERR(dtls_var_dict_set(dict, key, hundred), DTLS_OK);
    CHECK_ERR(dtls_var_dict_set(dict, one, array), DTLS_OK);
    CHECK_ERR(dtls_var_dict_set(dict, key, one), DTLS_OK); /* replaces, keeps its place */
    CHECK(dtls_var_dict_size(dict) == 2);
    dtls_var *k0 = dtls_var_dict_key_at(dict, 0), *v0 = dtls_var_dict_value_at(dict, 0);
    char text[8];
    CHECK(dtls_var_get_string(k0, text, sizeof text) == 2 && strcmp(text, "hp") == 0);
    CHECK(dtls_var_get_int(v0) == 1);
    dtls_var *found = dtls_var_dict_get(dict, one);
    CHECK(dtls_var_get_type(found) == DTLS_VAR_ARRAY);
    CHECK(dtls_var_dict_get(dict, hundred) == NULL);
    CHECK(dtls_var_dict_key_at(dict, 2) == NULL);
    CHECK_ERR(dtls_var_dict_set(array, key, one), DTLS_ERR_INVALID_PARAMETER);
    CHECK(dtls_var_array_size(dict) == 0);

    /* {"hp": 1, 1: [1, "two", [1, "two"]]} survives both versions. */
    uint8_t buf[256];
    size_t out;
    for (int major = 3; major <= 4; major++) {
        CHECK_ERR(dtls_var_encode(dict, major, buf, sizeof buf, &out), DTLS_OK);
        dtls_var *back = dtls_var_decode(buf, out, major);
        CHECK(back != NULL && dtls_var_dict_size(back) == 2);
        uint8_t again[256];
        size_t again_len;
        CHECK_ERR(dtls_var_encode(back, major, again, sizeof again, &again_len), DTLS_OK);
        CHECK(again_len == out && memcmp(again, buf, out) == 0);
        dtls_var_free(back);
    }

    /* "29: PackedByteArray": length 3, the bytes, padded. */
    static const uint8_t packed[] = {29, 0, 0, 0, 3, 0, 0, 0, 7, 8, 9, 0};
    static const uint8_t payload[] = {7, 8, 9};
    dtls_var *bytes = dtls_var_new_bytes(payload, 3);
    CHECK(encodes_as(bytes, 4, packed, sizeof packed));
    uint8_t got[4];
    size_t got_len = 0;
    CHECK_ERR(dtls_var_get_bytes(bytes, got, 2, &got_len), DTLS_ERR_PARAMETER_RANGE_ERROR);
    CHECK(got_len == 3);
    CHECK_ERR(dtls_var_get_bytes(bytes, got, sizeof got, &got_len), DTLS_OK);
    CHECK(got_len == 3 && memcmp(got, payload, 3) == 0);
    CHECK_ERR(dtls_var_get_bytes(one, got, sizeof got, &got_len), DTLS_ERR_INVALID_PARAMETER);
    CHECK(dtls_var_new_bytes(NULL, 3) == NULL);
    dtls_var *empty = dtls_var_new_bytes(NULL, 0);
    CHECK(empty != NULL && dtls_var_array_size(empty) == 0);
    dtls_var *big = dtls_var_new_int(300);
    CHECK_ERR(dtls_var_array_append(bytes, big), DTLS_ERR_INVALID_PARAMETER);
    CHECK_ERR(dtls_var_array_append(bytes, one), DTLS_OK);
    dtls_var *last = dtls_var_array_get(bytes, 3);
    CHECK(dtls_var_get_int(last) == 1);

    dtls_var *strings = dtls_var_new_of_type(DTLS_VAR_PACKED_STRING_ARRAY);
    CHECK_ERR(dtls_var_array_append(strings, word), DTLS_OK);
    CHECK_ERR(dtls_var_array_append(strings, one), DTLS_ERR_INVALID_PARAMETER);
    CHECK(dtls_var_new_of_type((dtls_var_type)77) == NULL);

    dtls_var *all[] = {array, one, word, inner, dict, key, hundred, k0, v0, found, bytes, empty, big, last, strings};
    for (size_t n = 0; n < sizeof all / sizeof all[0]; n++) dtls_var_free(all[n]);
}

static void test_hostile_bytes_are_refused(void) {
    static const uint8_t huge_string[] = {4, 0, 0, 0, 0xFF, 0xFF, 0xFF, 0x7F};
    static const uint8_t huge_array[] = {28, 0, 0, 0, 0xFF, 0xFF, 0xFF, 0x7F};
    static const uint8_t bad_utf8[] = {4, 0, 0, 0, 2, 0, 0, 0, 0xC3, 0x28, 0, 0};
    static const uint8_t no_type[] = {99, 0, 0, 0};
    static const uint8_t object[] = {24, 0, 0, 0, 4, 0, 0, 0, 'N', 'o', 'd', 'e', 0, 0, 0, 0};
    CHECK(dtls_var_decode(huge_string, sizeof huge_string, 4) == NULL);
    CHECK(dtls_var_decode(huge_array, sizeof huge_array, 4) == NULL);
    CHECK(dtls_var_decode(bad_utf8, sizeof bad_utf8, 4) == NULL);
    CHECK(strstr(dtls_last_error_message(), "UTF-8") != NULL);
    CHECK(dtls_var_decode(no_type, sizeof no_type, 4) == NULL);
    CHECK(dtls_var_decode(object, sizeof object, 4) == NULL);
    CHECK(strstr(dtls_last_error_message(), "ERR_UNAUTHORIZED") != NULL);
    CHECK(dtls_var_decode(huge_string, 2, 4) == NULL);
    CHECK(dtls_var_decode(NULL, 4, 4) == NULL);
    CHECK(dtls_var_decode(NULL, 0, 4) == NULL);
    CHECK(dtls_var_decode(no_type, sizeof no_type, 2) == NULL);
    /* 300 nested arrays: refused, not a stack overflow. */
    static uint8_t deep[300 * 8 + 4];
    for (int n = 0; n < 300; n++) {
        memset(deep + n * 8, 0, 8);
        deep[n * 8] = 28;
        deep[n * 8 + 4] = 1;
    }
    memset(deep + 300 * 8, 0, 4);
    CHECK(dtls_var_decode(deep, sizeof deep, 4) == NULL);
}

static void test_bad_handles(void) {
    dtls_var *freed = dtls_var_new_int(5);
    dtls_var_free(freed);
    dtls_udp *udp = dtls_udp_new();
    dtls_var *wrong = (dtls_var *)(void *)udp; /* another class */
    dtls_var *bad[] = {NULL, freed, FORGED_VAR, wrong};
    uint8_t buf[16];
    size_t out = 99;
    char text[4] = "xyz";
    double numbers[2];
    for (size_t n = 0; n < sizeof bad / sizeof bad[0]; n++) {
        dtls_var *v = bad[n];
        CHECK(dtls_var_get_type(v) == DTLS_VAR_NIL);
        CHECK(dtls_var_get_int(v) == 0 && dtls_var_get_float(v) == 0 && !dtls_var_get_bool(v));
        CHECK(dtls_var_get_string(v, text, sizeof text) == 0 && text[0] == 0);
        CHECK_ERR(dtls_var_get_bytes(v, buf, sizeof buf, &out), DTLS_ERR_INVALID_PARAMETER);
        CHECK(dtls_var_get_components(v, numbers, 2) == 0);
        CHECK(dtls_var_array_size(v) == 0 && dtls_var_array_get(v, 0) == NULL);
        CHECK_ERR(dtls_var_array_append(v, v), DTLS_ERR_INVALID_PARAMETER);
        CHECK(dtls_var_dict_size(v) == 0 && dtls_var_dict_key_at(v, 0) == NULL && dtls_var_dict_value_at(v, 0) == NULL);
        CHECK(dtls_var_dict_get(v, v) == NULL);
        CHECK_ERR(dtls_var_dict_set(v, v, v), DTLS_ERR_INVALID_PARAMETER);
        CHECK_ERR(dtls_var_encode(v, 4, buf, sizeof buf, &out), DTLS_ERR_INVALID_PARAMETER);
        CHECK_ERR(dtls_udp_put_var(udp, v, false, 4), DTLS_ERR_INVALID_PARAMETER);
        dtls_var_free(v); /* ignored */
    }
    dtls_var *fine = dtls_var_new_int(1);
    dtls_var *out_var = fine;
    dtls_udp *bad_udp[] = {NULL, (dtls_udp *)(void *)fine, (dtls_udp *)(uintptr_t)0x1234};
    for (size_t n = 0; n < 3; n++) {
        CHECK_ERR(dtls_udp_put_var(bad_udp[n], fine, false, 4), DTLS_ERR_INVALID_PARAMETER);
        CHECK_ERR(dtls_udp_get_var(bad_udp[n], false, 4, &out_var), DTLS_ERR_INVALID_PARAMETER);
        CHECK(out_var == NULL);
        CHECK_ERR(dtls_udp_set_encode_buffer_max_size(bad_udp[n], 4096), DTLS_ERR_INVALID_PARAMETER);
        CHECK(dtls_udp_get_encode_buffer_max_size(bad_udp[n]) == 0);
        CHECK_ERR(dtls_peer_put_var((dtls_peer *)(void *)bad_udp[n], fine, false, 4), DTLS_ERR_INVALID_PARAMETER);
        CHECK_ERR(dtls_peer_get_var((dtls_peer *)(void *)bad_udp[n], false, 4, &out_var), DTLS_ERR_INVALID_PARAMETER);
        CHECK_ERR(dtls_peer_set_encode_buffer_max_size((dtls_peer *)(void *)bad_udp[n], 4096),
                  DTLS_ERR_INVALID_PARAMETER);
        CHECK(dtls_peer_get_encode_buffer_max_size((dtls_peer *)(void *)bad_udp[n]) == 0);
    }
    CHECK_ERR(dtls_udp_get_var(udp, false, 4, NULL), DTLS_ERR_INVALID_PARAMETER);
    CHECK_ERR(dtls_udp_put_var(udp, fine, false, 2), DTLS_ERR_INVALID_PARAMETER);
    CHECK(dtls_var_get_int(fine) == 1); /* the udp handle passed as a var reached nothing */
    dtls_var_free(fine);
    dtls_udp_free(udp);
}

static void test_put_var_and_get_var_over_loopback(void) {
    dtls_udp *a = dtls_udp_new(), *b = dtls_udp_new();
    CHECK_ERR(dtls_udp_bind(b, 0, "127.0.0.1", 65536), DTLS_OK);
    CHECK_ERR(dtls_udp_connect_to_host(a, "127.0.0.1", dtls_udp_get_local_port(b)), DTLS_OK);

    CHECK(dtls_udp_get_encode_buffer_max_size(a) == 8388608);
    CHECK_ERR(dtls_udp_set_encode_buffer_max_size(a, 1000), DTLS_ERR_INVALID_PARAMETER);
    CHECK_ERR(dtls_udp_set_encode_buffer_max_size(a, 3000), DTLS_OK);
    CHECK(dtls_udp_get_encode_buffer_max_size(a) == 4096);

    dtls_var *message = dtls_var_new_dictionary();
    dtls_var *key = dtls_var_new_string("score"), *value = dtls_var_new_int(4200000000LL);
    CHECK_ERR(dtls_var_dict_set(message, key, value), DTLS_OK);
    dtls_var *got = NULL;
    CHECK_ERR(dtls_udp_get_var(b, false, 4, &got), DTLS_ERR_UNAVAILABLE);
    CHECK(got == NULL);
    for (int major = 3; major <= 4; major++) {
        CHECK_ERR(dtls_udp_put_var(a, message, false, major), DTLS_OK);
        POLL_UNTIL(dtls_udp_get_available_packet_count(b) > 0, (void)0, DEADLINE_MS);
        CHECK_ERR(dtls_udp_get_var(b, false, major, &got), DTLS_OK);
        CHECK(dtls_var_dict_size(got) == 1);
        dtls_var *score = dtls_var_dict_get(got, key);
        CHECK(dtls_var_get_int(score) == 4200000000LL);
        dtls_var_free(score);
        dtls_var_free(got);
        got = NULL;
    }
    /* Bigger than encode_buffer_max_size (4096). */
    uint8_t blob[5000] = {0};
    dtls_var *big = dtls_var_new_bytes(blob, sizeof blob);
    CHECK_ERR(dtls_udp_put_var(a, big, false, 4), DTLS_ERR_OUT_OF_MEMORY);
    /* A datagram that is not a Variant: consumed, reported. */
    static const uint8_t junk[] = {4, 0, 0, 0, 9};
    CHECK_ERR(dtls_udp_put_packet(a, junk, sizeof junk), DTLS_OK);
    POLL_UNTIL(dtls_udp_get_available_packet_count(b) > 0, (void)0, DEADLINE_MS);
    CHECK_ERR(dtls_udp_get_var(b, false, 4, &got), DTLS_ERR_INVALID_DATA);
    CHECK(got == NULL);
    CHECK(dtls_udp_get_available_packet_count(b) == 0);

    /* A DTLS peer that is not connected: put_packet's answer. */
    dtls_peer *peer = dtls_peer_new();
    CHECK_ERR(dtls_peer_put_var(peer, message, false, 4), DTLS_ERR_UNCONFIGURED);
    CHECK_ERR(dtls_peer_get_var(peer, false, 4, &got), DTLS_ERR_UNCONFIGURED);
    CHECK(dtls_peer_get_encode_buffer_max_size(peer) == 8388608);
    CHECK_ERR(dtls_peer_set_encode_buffer_max_size(peer, 256 * 1024 * 1024 + 1), DTLS_ERR_INVALID_PARAMETER);
    CHECK_ERR(dtls_peer_set_encode_buffer_max_size(peer, 1024), DTLS_OK);
    CHECK(dtls_peer_get_encode_buffer_max_size(peer) == 1024);

    dtls_peer_free(peer);
    dtls_var_free(big);
    dtls_var_free(message);
    dtls_var_free(key);
    dtls_var_free(value);
    dtls_udp_free(a);
    dtls_udp_free(b);
}

int main(void) {
    RUN(test_scalars_and_their_documented_bytes);
    RUN(test_vectors_colors_and_version_numbers);
    RUN(test_arrays_dictionaries_and_packed_arrays);
    RUN(test_hostile_bytes_are_refused);
    RUN(test_bad_handles);
    RUN(test_put_var_and_get_var_over_loopback);
    return check_summary("test_variant");
}
