// RandomSource.swift — the one CTR-DRBG every part of the library draws from.

internal import CMbedTLS

/// A process-wide CTR-DRBG seeded from the system entropy source. mbedTLS is built with
/// MBEDTLS_THREADING_C, so the DRBG locks itself and may be shared by every thread.
final class RandomSource: @unchecked Sendable {
    static let shared = RandomSource()

    let entropy: UnsafeMutablePointer<mbedtls_entropy_context>
    let drbg: UnsafeMutablePointer<mbedtls_ctr_drbg_context>

    private init() {
        entropy = .allocate(capacity: 1)
        drbg = .allocate(capacity: 1)
        mbedtls_entropy_init(entropy)
        mbedtls_ctr_drbg_init(drbg)
        let personalization = Array("PacketDTLS".utf8)
        let rc = mbedtls_ctr_drbg_seed(drbg, mbedtls_entropy_func, entropy, personalization, personalization.count)
        precondition(rc == 0, "the system entropy source failed: \(MbedTLSError.describe(rc))")
    }

    /// Fills `buffer` with random bytes; false (with the reason recorded) if the DRBG failed.
    func fill(_ buffer: UnsafeMutableRawBufferPointer) -> Bool {
        guard let base = buffer.baseAddress, buffer.count > 0 else { return true }
        var offset = 0
        while offset < buffer.count {
            let chunk = min(buffer.count - offset, Int(MBEDTLS_CTR_DRBG_MAX_REQUEST))
            let rc = mbedtls_ctr_drbg_random(drbg, base.advanced(by: offset).assumingMemoryBound(to: UInt8.self), chunk)
            if rc != 0 {
                ErrorReport.set("random generator failed: \(MbedTLSError.describe(rc))")
                return false
            }
            offset += chunk
        }
        return true
    }

    /// The (f_rng, p_rng) pair mbedTLS functions take.
    var function: @convention(c) (UnsafeMutableRawPointer?, UnsafeMutablePointer<UInt8>?, Int) -> Int32 {
        mbedtls_ctr_drbg_random
    }
    var context: UnsafeMutableRawPointer { UnsafeMutableRawPointer(drbg) }
}
