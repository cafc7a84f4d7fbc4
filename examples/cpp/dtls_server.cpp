// dtls_server.cpp — Godot's DTLSServer example (server_node.gd) in C++ with packetdtls.hpp, line by line.
//
//   dtls_server [port] [count] [--port N] [--count N] [--time-limit SECONDS] [--key FILE --cert FILE]
//
// Listens on `port` (default 4242; 0 = any free port) on every address and answers every message from
// a DTLS client with "Hello DTLS client". Without --key/--cert it makes a throwaway EC P-256 key and a
// self-signed certificate (CN=localhost) with the library. For scripted runs: exits 0 after replying to
// `count` messages (default: never), and stops after --time-limit seconds (exit 0 when no count was
// asked for, 1 when the count was not reached).
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include "packetdtls.hpp"

using namespace packetdtls;

int main(int argc, char **argv) {
    int port = 4242;
    long count = 0;  // 0 = unlimited
    double time_limit = 0;
    std::string key_path, cert_path;
    int positional = 0;
    for (int i = 1; i < argc; i++) {
        std::string_view arg = argv[i];
        bool has_value = i + 1 < argc;
        if (arg == "--port" && has_value) port = std::atoi(argv[++i]);
        else if (arg == "--count" && has_value) count = std::atol(argv[++i]);
        else if (arg == "--time-limit" && has_value) time_limit = std::atof(argv[++i]);
        else if (arg == "--key" && has_value) key_path = argv[++i];
        else if (arg == "--cert" && has_value) cert_path = argv[++i];
        else if (arg[0] != '-' && positional == 0) port = std::atoi(argv[i]), positional++;
        else if (arg[0] != '-' && positional == 1) count = std::atol(argv[i]), positional++;
        else {
            std::fprintf(stderr, "usage: %s [port] [count] [--port N] [--count N] [--time-limit SECONDS] "
                                 "[--key FILE --cert FILE]\n", argv[0]);
            return 2;
        }
    }
    if (key_path.empty() != cert_path.empty()) {
        std::fprintf(stderr, "--key and --cert go together\n");
        return 2;
    }
    std::setvbuf(stdout, nullptr, _IOLBF, 0);

    // var dtls = DTLSServer.new()
    DTLSServer dtls;
    // var server = UDPServer.new()
    UDPServer server;
    // var peers = []
    std::vector<PacketPeerDTLS> peers;

    // func _ready():
    //     server.listen(4242)
    if (server.listen(port) != Error::Ok) {
        std::fprintf(stderr, "listen on port %d: %s\n", port, last_error_message().c_str());
        return 1;
    }
    //     var key = load("key.key") # Your private key.
    //     var cert = load("cert.crt") # Your X509 certificate.
    CryptoKey key = nullptr;
    X509Certificate cert = nullptr;
    if (!key_path.empty()) {
        key = CryptoKey();
        cert = X509Certificate();
        if (key.load(key_path) != Error::Ok || cert.load(cert_path) != Error::Ok) {
            std::fprintf(stderr, "load key/certificate: %s\n", last_error_message().c_str());
            return 1;
        }
    } else {
        // No files given: a throwaway key and self-signed certificate, made by the library.
        key = Crypto::generate_ec_p256();
        cert = Crypto::generate_self_signed_certificate(key, "CN=localhost");
        if (!key || !cert) {
            std::fprintf(stderr, "generate key/certificate: %s\n", last_error_message().c_str());
            return 1;
        }
    }
    //     dtls.setup(TLSOptions.server(key, cert))
    if (dtls.setup(TLSOptions::server(key, cert)) != Error::Ok) {
        std::fprintf(stderr, "setup: %s\n", last_error_message().c_str());
        return 1;
    }
    std::printf("Listening on port %d\n", server.get_local_port());

    using Clock = std::chrono::steady_clock;
    const auto deadline = Clock::now() + std::chrono::milliseconds(static_cast<long long>(time_limit * 1000));
    long replies = 0;
    while (count == 0 || replies < count) {
        if (time_limit > 0 && Clock::now() >= deadline) {
            if (count) std::fprintf(stderr, "time limit reached after %ld of %ld replies\n", replies, count);
            break;
        }
        // func _process(delta):
        server.poll();
        //     while server.is_connection_available():
        while (server.is_connection_available()) {
            //         var peer = server.take_connection()
            PacketPeerUDP peer = server.take_connection();
            //         var dtls_peer = dtls.take_connection(peer)
            PacketPeerDTLS dtls_peer = dtls.take_connection(peer);
            //         if dtls_peer.get_status() != PacketPeerDTLS.STATUS_HANDSHAKING:
            if (dtls_peer.get_status() != Status::Handshaking) {
                continue;  // It is normal that 50% of the connections fails due to cookie exchange.
            }
            //         print("Peer connected!")
            std::printf("Peer connected!\n");
            //         peers.append(dtls_peer)
            peers.push_back(std::move(dtls_peer));
        }

        //     for p in peers:
        for (PacketPeerDTLS &p : peers) {
            //         p.poll() # Must poll to update the state.
            p.poll();
            //         if p.get_status() == PacketPeerDTLS.STATUS_CONNECTED:
            if (p.get_status() == Status::Connected) {
                //             while p.get_available_packet_count() > 0:
                while (p.get_available_packet_count() > 0) {
                    // print("Received message from client: %s" % p.get_packet().get_string_from_utf8())
                    std::vector<uint8_t> packet = p.get_packet();
                    std::string text(packet.begin(), packet.end());
                    std::printf("Received message from client: %s\n", text.c_str());
                    // p.put_packet("Hello DTLS client".to_utf8_buffer())
                    if (p.put_packet("Hello DTLS client") == Error::Ok) replies++;
                }
            }
        }

        // Not in the seed: forget peers whose session ended, so a long run does not grow.
        std::vector<PacketPeerDTLS> live;
        for (PacketPeerDTLS &p : peers) {
            Status status = p.get_status();
            if (status == Status::Handshaking || status == Status::Connected) live.push_back(std::move(p));
        }
        peers = std::move(live);

        // The next frame.
        std::this_thread::sleep_for(std::chrono::milliseconds(2));
    }
    // The owners close every session (close_notify) and free everything on the way out.
    return count && replies < count ? 1 : 0;
}
