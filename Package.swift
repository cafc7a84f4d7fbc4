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
            linkerSettings: [
                // lld: gold leaves two local Swift symbols in the dynamic table of optimized builds.
                // -static-stdlib: the Swift runtime goes inside, so the library runs where no Swift
                // toolchain is installed (ldd: libc, libm, libstdc++, libgcc_s and mbedTLS only).
                .unsafeFlags([
                    "-use-ld=lld", "-static-stdlib",
                    "-Xlinker", "--version-script=\(exportsMap)",
                    "-Xlinker", "-soname=libpacketdtls.so.0",
                ]),
                // Release: drop what nothing references, and the symbol table (the dynamic one stays).
                .unsafeFlags(["-Xlinker", "--gc-sections", "-Xlinker", "--strip-all"], .when(configuration: .release)),
            ]
        ),
        .executableTarget(
            name: "packetdtls-cli",
            // CSocketBatch: sendmmsg for the flood of `bench flood`.
            dependencies: ["PacketDTLS", "CSocketBatch", .product(name: "ArgumentParser", package: "swift-argument-parser")]
        ),
        .testTarget(name: "PacketDTLSTests", dependencies: ["PacketDTLS", "CMbedTLS"]),
    ]
)
