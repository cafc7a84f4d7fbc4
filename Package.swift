// swift-tools-version:6.0
// PacketDTLS: Godot's DTLS networking API as a standalone library over the system mbedTLS.
import PackageDescription

/// Only `dtls_*` leaves the shared library; Swift's own symbols stay inside.
let exportsMap = "\(Context.packageDirectory)/Sources/PacketDTLSExports/exports.map"

let package = Package(
    name: "PacketDTLS",
    products: [
        /// libpacketdtls.so: the C ABI (include/packetdtls.h) that C, C++ and Python use.
        .library(name: "packetdtls", type: .dynamic, targets: ["PacketDTLSExports"]),
        /// The Swift API, for Swift programs that link the core directly.
        .library(name: "PacketDTLS", targets: ["PacketDTLS"]),
        .executable(name: "packetdtls-cli", targets: ["packetdtls-cli"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.5.0"),
    ],
    targets: [
        .systemLibrary(name: "CMbedTLS", providers: [.apt(["libmbedtls-dev"])]),
        .systemLibrary(name: "CPacketDTLS"),
        .systemLibrary(name: "CSocketBatch"),
        .target(name: "PacketDTLS", dependencies: ["CMbedTLS", "CPacketDTLS", "CSocketBatch"]),
        .target(
            name: "PacketDTLSExports",
            dependencies: ["PacketDTLS", "CPacketDTLS"],
            exclude: ["exports.map"],
            // lld: gold leaves two local Swift symbols in the dynamic table of optimized builds.
            linkerSettings: [.unsafeFlags(["-use-ld=lld", "-Xlinker", "--version-script=\(exportsMap)"])]
        ),
        .executableTarget(
            name: "packetdtls-cli",
            dependencies: ["PacketDTLS", .product(name: "ArgumentParser", package: "swift-argument-parser")]
        ),
        .testTarget(name: "PacketDTLSTests", dependencies: ["PacketDTLS", "CMbedTLS"]),
    ]
)
