// pem.swift — hostile PEM and DER into CryptoKey, X509Certificate and TLSOptions' CRL loading.
//
// The first input byte picks the entry point (modulo 7); the rest is the text or file contents:
//   0  CryptoKey.loadFromString, private key       1  the same, public key only
//   2  X509Certificate.loadFromString              3  RevocationList.parse, PEM or DER (TLSOptions' CRLs)
//   4  CryptoKey.load(path:) of a file (PEM or DER) 5  X509Certificate.load(path:) of a file
//   6  TLSOptions.setCipherSuites and setALPNProtocols with the comma-separated names
// What loads is saved to a string again and loaded back, which must succeed.

import PacketDTLS
#if canImport(Glibc)
import Glibc
#endif

/// One scratch file per process for the load(path:) entry points (DER only comes in by file).
private let scratchPath: String = {
    var template = Array("/tmp/packetdtls-fuzz-pem-XXXXXX".utf8CString)
    let fd = mkstemp(&template)
    guard fd >= 0 else { fatalError("fuzz set-up: mkstemp failed") }
    close(fd)
    let path = String(cString: template)
    atexit { unlink(scratchPath) }
    return path
}()

private func writeScratch(_ bytes: UnsafeBufferPointer<UInt8>) {
    let fd = open(scratchPath, O_WRONLY | O_TRUNC)
    guard fd >= 0, bytes.isEmpty || write(fd, bytes.baseAddress, bytes.count) == bytes.count else {
        fatalError("fuzz: can't write \(scratchPath)")
    }
    close(fd)
}

private func roundTrip(_ key: CryptoKey, publicOnly: Bool) {
    let pem = key.saveToString(publicOnly: publicOnly)
    guard CryptoKey().loadFromString(pem, publicOnly: publicOnly) == .ok else {
        fatalError("a loaded key's PEM does not load again: \(pem)")
    }
}

private func roundTrip(_ certificate: X509Certificate) {
    _ = certificate.certificates
    let pem = certificate.saveToString()
    guard X509Certificate().loadFromString(pem) == .ok else {
        fatalError("a loaded certificate's PEM does not load again: \(pem)")
    }
}

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzPEM(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    guard size > 0 else { return 0 }
    let contents = UnsafeBufferPointer(start: data + 1, count: size - 1)
    // Strings from C: the text up to the first NUL, as the C ABI passes it.
    let text = String(decoding: contents.prefix { $0 != 0 }, as: UTF8.self)
    switch data[0] % 7 {
    case 0, 1:
        let publicOnly = data[0] % 7 == 1
        let key = CryptoKey()
        if key.loadFromString(text, publicOnly: publicOnly) == .ok { roundTrip(key, publicOnly: publicOnly) }
    case 2:
        let certificate = X509Certificate()
        if certificate.loadFromString(text) == .ok { roundTrip(certificate) }
    case 3:
        _ = RevocationList.parse(Array(contents), source: "fuzz")
    case 4:
        writeScratch(contents)
        let key = CryptoKey()
        if key.load(path: scratchPath, publicOnly: data[0] & 0x80 != 0) == .ok {
            roundTrip(key, publicOnly: key.isPublicOnly())
        }
    case 5:
        writeScratch(contents)
        let certificate = X509Certificate()
        if certificate.load(path: scratchPath) == .ok { roundTrip(certificate) }
    default:
        let names = text.split(separator: ",", omittingEmptySubsequences: false).map(String.init)
        let options = TLSOptions.clientUnsafe()
        _ = options.setCipherSuites(names)
        _ = options.setALPNProtocols(names)
    }
    return 0
}
