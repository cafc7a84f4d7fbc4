/*
 * test_hpp.cpp — the C++ header: it compiles cleanly as C++17, its owners free and move as they
 * say, its enums keep the C numbers, and a UDP echo and a DTLS echo work through it alone.
 *
 * Build (from the repository root, after `swift build --product packetdtls`):
 *   g++ -std=c++17 -Wall -Wextra -Werror -I include Tests/cpp/test_hpp.cpp \
 *       -L .build/debug -lpacketdtls -Wl,-rpath,$PWD/.build/debug -o /tmp/test_hpp && /tmp/test_hpp
 */
#include "packetdtls.hpp"

#include <string>
#include <type_traits>
#include <vector>

#include "../c/check.h"

namespace pd = packetdtls;

// MARK: - Compile-time facts

#define SAME_ERROR(cpp, c) static_assert(static_cast<int>(pd::Error::cpp) == (c), #cpp " != " #c)
SAME_ERROR(Ok, 0);
SAME_ERROR(Failed, 1);
SAME_ERROR(Unavailable, 2);
SAME_ERROR(Unconfigured, 3);
SAME_ERROR(Unauthorized, 4);
SAME_ERROR(ParameterRangeError, 5);
SAME_ERROR(OutOfMemory, 6);
SAME_ERROR(FileNotFound, 7);
SAME_ERROR(FileBadDrive, 8);
SAME_ERROR(FileBadPath, 9);
SAME_ERROR(FileNoPermission, 10);
SAME_ERROR(FileAlreadyInUse, 11);
SAME_ERROR(FileCantOpen, 12);
SAME_ERROR(FileCantWrite, 13);
SAME_ERROR(FileCantRead, 14);
SAME_ERROR(FileUnrecognized, 15);
SAME_ERROR(FileCorrupt, 16);
SAME_ERROR(FileMissingDependencies, 17);
SAME_ERROR(FileEof, 18);
SAME_ERROR(CantOpen, 19);
SAME_ERROR(CantCreate, 20);
SAME_ERROR(QueryFailed, 21);
SAME_ERROR(AlreadyInUse, 22);
SAME_ERROR(Locked, 23);
SAME_ERROR(Timeout, 24);
SAME_ERROR(CantConnect, 25);
SAME_ERROR(CantResolve, 26);
SAME_ERROR(ConnectionError, 27);
SAME_ERROR(CantAcquireResource, 28);
SAME_ERROR(CantFork, 29);
SAME_ERROR(InvalidData, 30);
SAME_ERROR(InvalidParameter, 31);
SAME_ERROR(AlreadyExists, 32);
SAME_ERROR(DoesNotExist, 33);
SAME_ERROR(DatabaseCantRead, 34);
SAME_ERROR(DatabaseCantWrite, 35);
SAME_ERROR(CompilationFailed, 36);
SAME_ERROR(MethodNotFound, 37);
SAME_ERROR(LinkFailed, 38);
SAME_ERROR(ScriptFailed, 39);
SAME_ERROR(CyclicLink, 40);
SAME_ERROR(InvalidDeclaration, 41);
SAME_ERROR(DuplicateSymbol, 42);
SAME_ERROR(ParseError, 43);
SAME_ERROR(Busy, 44);
SAME_ERROR(Skip, 45);
SAME_ERROR(Help, 46);
SAME_ERROR(Bug, 47);
SAME_ERROR(PrinterOnFire, 48);
static_assert(static_cast<int>(pd::Error::InvalidParameter) == DTLS_ERR_INVALID_PARAMETER, "");
static_assert(static_cast<int>(pd::Status::Disconnected) == DTLS_STATUS_DISCONNECTED, "");
static_assert(static_cast<int>(pd::Status::Handshaking) == DTLS_STATUS_HANDSHAKING, "");
static_assert(static_cast<int>(pd::Status::Connected) == DTLS_STATUS_CONNECTED, "");
static_assert(static_cast<int>(pd::Status::Error) == DTLS_STATUS_ERROR, "");
static_assert(static_cast<int>(pd::Status::ErrorHostnameMismatch) == DTLS_STATUS_ERROR_HOSTNAME_MISMATCH, "");
static_assert(pd::to_c(pd::Error::Busy) == DTLS_ERR_BUSY && pd::to_error(DTLS_ERR_BUSY) == pd::Error::Busy, "");
static_assert(pd::to_status(DTLS_STATUS_CONNECTED) == pd::Status::Connected, "");

template <typename T>
constexpr bool move_only_owner = !std::is_copy_constructible_v<T> && !std::is_copy_assignable_v<T> &&
                                 std::is_nothrow_move_constructible_v<T> && std::is_nothrow_move_assignable_v<T>;
static_assert(move_only_owner<pd::PacketPeerUDP>, "");
static_assert(move_only_owner<pd::UDPServer>, "");
static_assert(move_only_owner<pd::PacketPeerDTLS>, "");
static_assert(move_only_owner<pd::DTLSServer>, "");
static_assert(move_only_owner<pd::CryptoKey>, "");
static_assert(move_only_owner<pd::X509Certificate>, "");
static_assert(move_only_owner<pd::TLSOptions>, "");
static_assert(!std::is_convertible_v<pd::PacketPeerDTLS, bool>, "operator bool must be explicit");
static_assert(std::is_same_v<decltype(std::declval<pd::PacketPeerDTLS &>().get()), dtls_peer *>, "");
static_assert(std::is_same_v<decltype(std::declval<pd::UDPServer &>().take_connection()), pd::PacketPeerUDP>, "");

// MARK: - Helpers

static std::string text(const std::vector<uint8_t> &bytes) { return std::string(bytes.begin(), bytes.end()); }

/// A server identity for "localhost", made once.
struct Identity {
    pd::CryptoKey key = pd::Crypto::generate_ec_p256();
    pd::X509Certificate cert = pd::Crypto::generate_self_signed_certificate(key, "CN=localhost");
};

static Identity &identity() {
    static Identity made;
    return made;
}

// MARK: - Tests

static void test_error_names(void) {
    CHECK(std::string(pd::error_string(pd::Error::Ok)) == "OK");
    CHECK(std::string(pd::error_string(pd::Error::InvalidParameter)) == "ERR_INVALID_PARAMETER");
    CHECK(std::string(pd::error_string(pd::Error::PrinterOnFire)) == "ERR_PRINTER_ON_FIRE");
    CHECK(std::string(pd::status_string(pd::Status::Handshaking)) == "STATUS_HANDSHAKING");
    for (int n = 0; n <= 48; ++n) {
        const char *c_name = dtls_error_string(static_cast<dtls_error>(n));
        CHECK(std::string(pd::error_string(static_cast<pd::Error>(n))) == c_name);
    }
    CHECK(pd::version_number() == DTLS_VERSION_NUMBER);
    CHECK(std::string(pd::version_string()).size() > 0);
}

static void test_raii_frees(void) {
    dtls_peer *raw = nullptr;
    {
        pd::PacketPeerDTLS peer;
        CHECK(static_cast<bool>(peer));
        raw = peer.get();
        CHECK(raw != nullptr);
        CHECK(peer.get_status() == pd::Status::Disconnected);
        CHECK_ERR(dtls_peer_disconnect_from_peer(raw), DTLS_OK);
    }
    // The owner's destructor freed the handle: the library now rejects it.
    CHECK_ERR(dtls_peer_poll(raw), DTLS_ERR_INVALID_PARAMETER);
    CHECK(!pd::last_error_message().empty());

    dtls_server *raw_server = nullptr;
    {
        pd::DTLSServer server;
        raw_server = server.get();
        CHECK_ERR(dtls_server_stop(raw_server), DTLS_OK);
    }
    CHECK_ERR(dtls_server_stop(raw_server), DTLS_ERR_INVALID_PARAMETER);

    // Every kind of owner frees its handle the same way.
    dtls_udp *raw_udp = nullptr;
    dtls_udp_server *raw_udp_server = nullptr;
    dtls_key *raw_key = nullptr;
    dtls_cert *raw_cert = nullptr;
    dtls_options *raw_options = nullptr;
    {
        pd::PacketPeerUDP udp;
        pd::UDPServer udp_server;
        pd::CryptoKey key;
        pd::X509Certificate cert;
        pd::TLSOptions options;
        raw_udp = udp.get();
        raw_udp_server = udp_server.get();
        raw_key = key.get();
        raw_cert = cert.get();
        raw_options = options.get();
        CHECK(udp && udp_server && key && cert && options);
        CHECK_ERR(dtls_udp_close(raw_udp), DTLS_OK);
        CHECK_ERR(dtls_udp_server_stop(raw_udp_server), DTLS_OK);
        CHECK(!dtls_options_is_server(raw_options));
    }
    CHECK_ERR(dtls_udp_close(raw_udp), DTLS_ERR_INVALID_PARAMETER);
    CHECK_ERR(dtls_udp_server_stop(raw_udp_server), DTLS_ERR_INVALID_PARAMETER);
    CHECK(dtls_key_save_to_string(raw_key, false, nullptr, 0) == 0);
    CHECK_ERR(dtls_key_load_from_string(raw_key, "x", false), DTLS_ERR_INVALID_PARAMETER);
    CHECK_ERR(dtls_cert_load_from_string(raw_cert, "x"), DTLS_ERR_INVALID_PARAMETER);
    CHECK_ERR(dtls_options_set_mtu(raw_options, 1400), DTLS_ERR_INVALID_PARAMETER);
}

static void test_moves_and_release(void) {
    pd::PacketPeerDTLS a;
    dtls_peer *raw_a = a.get();
    pd::PacketPeerDTLS b(std::move(a));
    CHECK(!a);  // NOLINT(bugprone-use-after-move): moved-from owners are empty by contract
    CHECK(a.get() == nullptr);
    CHECK(b.get() == raw_a);
    CHECK_ERR(dtls_peer_disconnect_from_peer(raw_a), DTLS_OK);

    // Move assignment frees what the target held.
    pd::PacketPeerDTLS c;
    dtls_peer *raw_c = c.get();
    c = std::move(b);
    CHECK(c.get() == raw_a);
    CHECK(!b);
    CHECK_ERR(dtls_peer_poll(raw_c), DTLS_ERR_INVALID_PARAMETER);

    // Self move-assignment keeps the handle.
    pd::PacketPeerDTLS &alias = c;
    c = std::move(alias);
    CHECK(c.get() == raw_a);

    // release() hands the handle over; the owner no longer frees it.
    dtls_peer *released = c.release();
    CHECK(released == raw_a);
    CHECK(!c);
    CHECK_ERR(dtls_peer_disconnect_from_peer(released), DTLS_OK);
    pd::PacketPeerDTLS adopted(released);
    CHECK(adopted.get() == released);
    adopted.reset();
    CHECK(!adopted);
    CHECK_ERR(dtls_peer_disconnect_from_peer(released), DTLS_ERR_INVALID_PARAMETER);

    // Empty owners pass NULL to the library, which answers with the neutral value.
    pd::PacketPeerDTLS empty = nullptr;
    CHECK(!empty);
    CHECK(empty.poll() == pd::Error::InvalidParameter);
    CHECK(empty.get_status() == pd::Status::Disconnected);
    CHECK(empty.get_packet().empty());
    CHECK(empty.get_error_message().empty());
    CHECK(empty.get_available_packet_count() == 0);
    pd::UDPServer no_server = nullptr;
    CHECK(!no_server.take_connection());
    pd::DTLSServer no_dtls = nullptr;
    CHECK(!no_dtls.take_connection(nullptr));
}

static void test_crypto_and_options(void) {
    Identity &id = identity();
    CHECK(static_cast<bool>(id.key));
    CHECK(static_cast<bool>(id.cert));
    std::string key_pem = id.key.save_to_string();
    std::string cert_pem = id.cert.save_to_string();
    CHECK(key_pem.rfind("-----BEGIN", 0) == 0);
    CHECK(cert_pem.rfind("-----BEGIN CERTIFICATE-----", 0) == 0);
    CHECK(!id.key.is_public_only());
    CHECK(id.key.save_to_string(true).find("PUBLIC KEY") != std::string::npos);

    pd::X509Certificate copy;
    CHECK(copy.load_from_string(cert_pem) == pd::Error::Ok);
    CHECK(copy.save_to_string() == cert_pem);
    pd::CryptoKey garbage;
    CHECK(garbage.load_from_string("not a key") != pd::Error::Ok);

    pd::TLSOptions server = pd::TLSOptions::server(id.key, id.cert);
    CHECK(server && server.is_server());
    CHECK(server.get_private_key() && server.get_own_certificate());
    CHECK(!server.get_trusted_ca_chain());
    CHECK(!pd::TLSOptions::server(id.key, nullptr));

    pd::TLSOptions client = pd::TLSOptions::client(id.cert, "override.example");
    CHECK(client && !client.is_server() && !client.is_unsafe_client());
    CHECK(client.get_common_name_override() == "override.example");
    CHECK(client.get_trusted_ca_chain().save_to_string() == cert_pem);
    CHECK(pd::TLSOptions::client_unsafe().is_unsafe_client());
    CHECK(client.set_handshake_timeout(0, 10) == pd::Error::InvalidParameter);
    CHECK(client.set_handshake_timeout(20, 80) == pd::Error::Ok);

    std::vector<uint8_t> random = pd::Crypto::generate_random_bytes(32);
    CHECK(random.size() == 32);
    std::vector<uint8_t> digest = pd::Crypto::hmac_digest(pd::HashType::Sha256, std::string_view("key"),
                                                          std::string_view("message"));
    CHECK(digest.size() == 32);
    pd::Error sign_error = pd::Error::Failed;
    std::vector<uint8_t> signature = pd::Crypto::sign(pd::HashType::Sha256, digest, id.key, &sign_error);
    CHECK(sign_error == pd::Error::Ok && !signature.empty());
    CHECK(pd::Crypto::verify(pd::HashType::Sha256, digest, signature, id.key));
    CHECK(pd::Crypto::constant_time_compare(digest, digest));
    CHECK(!pd::Crypto::constant_time_compare(digest, random));
}

static void test_udp_echo(void) {
    pd::UDPServer server;
    CHECK(server.listen(0, "127.0.0.1") == pd::Error::Ok);
    int port = server.get_local_port();
    CHECK(port > 0);
    CHECK(server.poll() == pd::Error::Ok);
    CHECK(!server.is_connection_available());

    pd::PacketPeerUDP client;
    CHECK(client.connect_to_host("127.0.0.1", port) == pd::Error::Ok);
    CHECK(client.is_socket_connected());
    CHECK(client.put_packet(std::string_view("ping")) == pd::Error::Ok);

    POLL_UNTIL(server.is_connection_available(), server.poll(), 2000);
    pd::PacketPeerUDP peer = server.take_connection();
    CHECK(static_cast<bool>(peer));
    if (!peer) return;
    CHECK(peer.get_available_packet_count() == 1);

    // Too small a buffer keeps the packet and says how big it is.
    uint8_t small[2];
    size_t needed = 0;
    CHECK(peer.get_packet(small, sizeof small, needed) == pd::Error::ParameterRangeError);
    CHECK(needed == 4);
    CHECK(peer.get_available_packet_count() == 1);
    CHECK(text(peer.get_packet()) == "ping");
    CHECK(peer.get_packet_error() == pd::Error::Ok);
    CHECK(peer.get_packet_ip() == "127.0.0.1");
    CHECK(peer.get_packet_port() == client.get_local_port());
    CHECK(peer.get_packet().empty());
    CHECK(peer.get_packet_error() == pd::Error::Unavailable);

    const std::vector<uint8_t> pong = {'p', 'o', 'n', 'g', 0, 1};
    CHECK(peer.put_packet(pong) == pd::Error::Ok);
    CHECK(client.wait(2000) == pd::Error::Ok);
    CHECK(client.get_packet() == pong);
    const uint8_t raw[3] = {7, 8, 9};
    CHECK(peer.put_packet(raw, sizeof raw) == pd::Error::Ok);
    CHECK(client.wait(2000) == pd::Error::Ok);
    CHECK(client.get_packet() == std::vector<uint8_t>({7, 8, 9}));
}

/// The seeds' server_node and client_node in one loop, through the C++ API. `connect` starts the client.
template <typename Connect>
static void dtls_echo(Connect connect, pd::Status expected_client_end) {
    Identity &id = identity();
    pd::DTLSServer dtls;
    pd::UDPServer server;
    std::vector<pd::PacketPeerDTLS> peers;
    CHECK(server.listen(0, "127.0.0.1") == pd::Error::Ok);
    CHECK(dtls.setup(pd::TLSOptions::server(id.key, id.cert)) == pd::Error::Ok);

    pd::PacketPeerDTLS client;
    pd::PacketPeerUDP udp;
    CHECK(udp.connect_to_host("127.0.0.1", server.get_local_port()) == pd::Error::Ok);
    CHECK(connect(client, udp) == pd::Error::Ok);

    bool sent = false;
    int cookie_rounds = 0;
    std::string server_got;
    std::string client_got;
    long long deadline = check_now_ms() + 5000;
    while (check_now_ms() < deadline && client_got.empty()) {
        server.poll();
        while (server.is_connection_available()) {
            pd::PacketPeerUDP peer = server.take_connection();
            pd::PacketPeerDTLS dtls_peer = dtls.take_connection(peer);
            if (dtls_peer.get_status() != pd::Status::Handshaking) {
                cookie_rounds++;
                continue;
            }
            peers.push_back(std::move(dtls_peer));
        }
        for (pd::PacketPeerDTLS &p : peers) {
            p.poll();
            if (p.get_status() == pd::Status::Connected) {
                while (p.get_available_packet_count() > 0) {
                    server_got = text(p.get_packet());
                    p.put_packet(std::string_view("Hello DTLS client"));
                }
            }
        }
        client.poll();
        pd::Status status = client.get_status();
        if (status != pd::Status::Handshaking && status != pd::Status::Connected) break;
        if (status == pd::Status::Connected) {
            if (!sent) {
                CHECK(client.put_packet(std::string_view("The answer is... 42!")) == pd::Error::Ok);
                sent = true;
            }
            while (client.get_available_packet_count() > 0) client_got = text(client.get_packet());
        }
        udp.wait(1);
    }
    if (expected_client_end == pd::Status::Connected) {
        CHECK(cookie_rounds >= 1);
        CHECK(server_got == "The answer is... 42!");
        CHECK(client_got == "Hello DTLS client");
        CHECK(client.get_status() == pd::Status::Connected);
        CHECK(!client.get_ciphersuite().empty());
        CHECK(client.get_max_packet_size() > 0);
        CHECK(client.disconnect_from_peer() == pd::Error::Ok);
        CHECK(client.get_status() == pd::Status::Disconnected);
    } else {
        CHECK(client.get_status() == expected_client_end);
        CHECK(!client.get_error_message().empty());
    }
}

static void test_dtls_echo_3x_no_validation(void) {
    dtls_echo([](pd::PacketPeerDTLS &client, pd::PacketPeerUDP &udp) { return client.connect_to_peer(udp, false); },
              pd::Status::Connected);
}

static void test_dtls_echo_4x_verified(void) {
    // A string literal hostname must select the 4.x overload (a `const char *` converts to bool too).
    dtls_echo(
        [](pd::PacketPeerDTLS &client, pd::PacketPeerUDP &udp) {
            return client.connect_to_peer(udp, "localhost", pd::TLSOptions::client(identity().cert));
        },
        pd::Status::Connected);
}

static void test_dtls_echo_3x_verified(void) {
    dtls_echo(
        [](pd::PacketPeerDTLS &client, pd::PacketPeerUDP &udp) {
            return client.connect_to_peer(udp, true, "localhost", identity().cert);
        },
        pd::Status::Connected);
}

static void test_dtls_hostname_mismatch(void) {
    dtls_echo(
        [](pd::PacketPeerDTLS &client, pd::PacketPeerUDP &udp) {
            return client.connect_to_peer(udp, std::string("wrong.example"), pd::TLSOptions::client(identity().cert));
        },
        pd::Status::ErrorHostnameMismatch);
}

int main() {
    RUN(test_error_names);
    RUN(test_raii_frees);
    RUN(test_moves_and_release);
    RUN(test_crypto_and_options);
    RUN(test_udp_echo);
    RUN(test_dtls_echo_3x_no_validation);
    RUN(test_dtls_echo_4x_verified);
    RUN(test_dtls_echo_3x_verified);
    RUN(test_dtls_hostname_mismatch);
    return check_summary("test_hpp");
}
