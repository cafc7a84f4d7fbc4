// dtls_client.cpp — Godot's DTLSServer example (client_node.gd) in C++ with packetdtls.hpp, line by line.
//
//   dtls_client [port] [--host ADDRESS] [--port N] [--timeout SECONDS]
//
// Connects to ADDRESS:port (default 127.0.0.1:4242) without verifying the certificate, as the seed does
// (`connect_to_peer(udp, false)`; use validation in production), sends "The answer is... 42!" once
// connected, prints "Connected: <reply>" and exits 0 on the reply. Exits 1 when the session fails or no
// reply came within the timeout (default 10 seconds).
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <string_view>
#include <vector>

#include "packetdtls.hpp"

using namespace packetdtls;

int main(int argc, char **argv) {
    std::string host = "127.0.0.1";
    int port = 4242;
    double timeout = 10;
    for (int i = 1; i < argc; i++) {
        std::string_view arg = argv[i];
        bool has_value = i + 1 < argc;
        if (arg == "--host" && has_value) host = argv[++i];
        else if (arg == "--port" && has_value) port = std::atoi(argv[++i]);
        else if (arg == "--timeout" && has_value) timeout = std::atof(argv[++i]);
        else if (arg[0] != '-') port = std::atoi(argv[i]);
        else {
            std::fprintf(stderr, "usage: %s [port] [--host ADDRESS] [--port N] [--timeout SECONDS]\n", argv[0]);
            return 2;
        }
    }
    std::setvbuf(stdout, nullptr, _IOLBF, 0);

    // var dtls = PacketPeerDTLS.new()
    PacketPeerDTLS dtls;
    // var udp = PacketPeerUDP.new()
    PacketPeerUDP udp;
    // var connected = false
    bool connected = false;
    bool sent = false;

    // func _ready():
    //     udp.connect_to_host("127.0.0.1", 4242)
    if (udp.connect_to_host(host, port) != Error::Ok) {
        std::fprintf(stderr, "connect_to_host %s:%d: %s\n", host.c_str(), port, last_error_message().c_str());
        return 1;
    }
    //     dtls.connect_to_peer(udp, false) # Use true in production for certificate validation!
    if (dtls.connect_to_peer(udp, false) != Error::Ok) {
        std::fprintf(stderr, "connect_to_peer: %s\n", last_error_message().c_str());
        return 1;
    }

    using Clock = std::chrono::steady_clock;
    const auto deadline = Clock::now() + std::chrono::milliseconds(static_cast<long long>(timeout * 1000));
    while (!connected && Clock::now() < deadline) {
        // func _process(delta):
        //     dtls.poll()
        dtls.poll();
        Status status = dtls.get_status();
        //     if dtls.get_status() == PacketPeerDTLS.STATUS_CONNECTED:
        if (status == Status::Connected) {
            //         if !connected:
            //             # Try to contact the server
            //             dtls.put_packet("The answer is... 42!".to_utf8_buffer())
            // (The seed sends this every frame until the reply comes; once is enough here.)
            if (!connected && !sent) sent = dtls.put_packet("The answer is... 42!") == Error::Ok;
            //         while dtls.get_available_packet_count() > 0:
            while (dtls.get_available_packet_count() > 0) {
                //             print("Connected: %s" % dtls.get_packet().get_string_from_utf8())
                std::vector<uint8_t> packet = dtls.get_packet();
                std::printf("Connected: %s\n", std::string(packet.begin(), packet.end()).c_str());
                //             connected = true
                connected = true;
            }
        } else if (status != Status::Handshaking) {
            // Not in the seed: the session ended. A reply that arrived just before the server's
            // close_notify is still queued, so read it; otherwise say why and stop.
            while (dtls.get_available_packet_count() > 0) {
                std::vector<uint8_t> packet = dtls.get_packet();
                std::printf("Connected: %s\n", std::string(packet.begin(), packet.end()).c_str());
                connected = true;
            }
            if (connected) break;
            std::fprintf(stderr, "DTLS session ended: %s: %s\n", status_string(status),
                         dtls.get_error_message().c_str());
            break;
        }
        // The next frame: wait for a datagram, at most 10 ms (retransmission timers run in poll).
        udp.wait(10);
    }
    if (!connected && Clock::now() >= deadline) std::fprintf(stderr, "no reply within %.1f seconds\n", timeout);
    return connected ? 0 : 1;
}
