// main.swift — writes the seed corpus (Tests/fuzz/corpus/<target>/) from real exchanges of the
// library itself: run by `scripts/fuzz --make-seeds`. Keys and certificates are made afresh, so
// each run writes different bytes; commit a run's output only when the seeds need to change.

import PacketDTLS
#if canImport(Glibc)
import Glibc
#endif

let corpus = CommandLine.arguments.dropFirst().first ?? "Tests/fuzz/corpus"

func write(_ bytes: [UInt8], _ target: String, _ name: String) {
    let directory = "\(corpus)/\(target)"
    mkdir(corpus, 0o755)
    mkdir(directory, 0o755)
    guard let file = fopen("\(directory)/\(name)", "wb"),
          fwrite(bytes, 1, bytes.count, file) == bytes.count, fclose(file) == 0 else {
        fatalError("can't write \(directory)/\(name)")
    }
}

func seed(_ target: String, _ name: String, mode: UInt8, _ datagrams: [[UInt8]]) {
    write(FuzzInput.encode(mode: mode, datagrams: datagrams), target, name)
}

// MARK: DTLS: one real handshake per kind of client, every datagram captured.

for (kind, mode) in [(Handshake.ClientKind.unsafe, UInt8(1)), (.psk, 2)] {
    let links = FuzzLink.pair()
    let client = Handshake.startClient(links.client, kind)
    let server = Handshake.accept(links, client: client)
    Handshake.finish(client, server)
    guard client.putPacket(Array("hello".utf8)) == .ok, server.putPacket(Array("hello".utf8)) == .ok else {
        fatalError("putPacket failed")
    }
    let fromClient = links.client.sentLog, fromServer = links.server.sentLog
    let name = kind == .psk ? "psk" : "certificate"
    // The client sent: ClientHello, ClientHello with cookie, its second flight, "hello".
    seed("dtls_server", "\(name)-clienthello", mode: 0, [fromClient[0]])
    seed("dtls_server", "\(name)-client-flight", mode: mode, Array(fromClient[2..<(fromClient.count - 1)]))
    seed("dtls_server", "\(name)-application-data", mode: 3, [fromClient[fromClient.count - 1]])
    // The server sent: HelloVerifyRequest, its first flight, its last flight, "hello".
    seed("dtls_client", "\(name)-server-flights", mode: kind == .psk ? 2 : 0, Array(fromServer.dropLast()))
    seed("dtls_client", "\(name)-application-data", mode: 3, [fromServer[fromServer.count - 1]])
}

// MARK: Variant: one value of most kinds, for both formats.

let values: [GodotVariant] = [
    .null, .bool(true), .int(-7), .int(1 << 40), .float(0.5), .float(1.0 / 3.0), .string("héllo"),
    .vector2(SIMD2(1, 2)), .vector3(SIMD3(1, 2, 3)), .color(SIMD4(1, 0.5, 0, 1)), .nodePath("a/b:c"),
    .rid(5), .objectID(12), .packedByteArray([1, 2, 3]), .packedInt32Array([1, -1]),
    .packedFloat64Array([0.25]), .packedStringArray(["a", "bc"]), .packedVector2Array([SIMD2(1, 2)]),
    .array([.int(1), .string("x"), .array([.null])]),
    .dictionary([GodotDictionaryEntry(.string("k"), .array([.float(2), .bool(false)]))]),
    .vector2i(SIMD2(1, -2)), .stringName("name"), .packedVector4Array([SIMD4(1, 2, 3, 4)]),
]
for version in GodotVersion.allCases {
    for (index, value) in values.enumerated() {
        guard let bytes = try? VariantEncoder.encode(value, version: version) else { continue }
        write([version == .godot4 ? 0 : 1] + bytes, "variant", "godot\(version.rawValue)-\(index)")
    }
}

/// The bytes of a PEM text's first block (base64 between the BEGIN and END lines).
func derOfPEM(_ pem: String) -> [UInt8] {
    let alphabet = Array("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/".utf8)
    let body = pem.split(separator: "\n").drop { !$0.hasPrefix("-----BEGIN") }.dropFirst().prefix { !$0.hasPrefix("-----END") }
    var bits = 0, count = 0, bytes: [UInt8] = []
    for character in body.joined().utf8 {
        guard let value = alphabet.firstIndex(of: character) else { continue }
        bits = bits << 6 | value
        count += 6
        if count >= 8 {
            count -= 8
            bytes.append(UInt8(bits >> count & 0xff))
        }
    }
    return bytes
}

// MARK: PEM and DER: a key and a certificate the library made.

let key = FuzzIdentity.shared.key, certificate = FuzzIdentity.shared.certificate
write([0] + Array(key.saveToString().utf8), "pem", "private-key")
write([1] + Array(key.saveToString(publicOnly: true).utf8), "pem", "public-key")
write([2] + Array(certificate.saveToString().utf8), "pem", "certificate")
write([4] + derOfPEM(key.saveToString()), "pem", "private-key-der-file")
write([5] + derOfPEM(certificate.saveToString()), "pem", "certificate-der-file")
write([6] + Array("TLS-ECDHE-ECDSA-WITH-AES-128-GCM-SHA256,TLS_PSK_WITH_AES_128_GCM_SHA256,h2".utf8), "pem", "names")
