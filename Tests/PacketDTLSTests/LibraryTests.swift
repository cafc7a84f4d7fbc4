import Synchronization
import XCTest
@testable import PacketDTLS

final class LibraryTests: XCTestCase {
    func testGodotNamesMatchNumbers() {
        XCTAssertEqual(GodotError.ok.rawValue, 0)
        XCTAssertEqual(GodotError.invalidParameter.rawValue, 31)
        XCTAssertEqual(GodotError.printerOnFire.rawValue, 48)
        XCTAssertEqual(GodotError.invalidParameter.description, "ERR_INVALID_PARAMETER")
        XCTAssertEqual(GodotError.ok.description, "OK")
        XCTAssertEqual(DTLSStatus.errorHostnameMismatch.rawValue, 4)
        XCTAssertEqual(DTLSStatus.connected.description, "STATUS_CONNECTED")
    }

    func testErrorReportIsPerThread() {
        ErrorReport.set("main thread failure")
        let seen = Mutex<(before: String, after: String)?>(nil)
        let other = Thread {
            let before = ErrorReport.message
            ErrorReport.set("other thread failure")
            seen.withLock { $0 = (before, ErrorReport.message) }
        }
        other.start()
        for _ in 0..<5000 where !other.isFinished { usleep(1000) }
        XCTAssertTrue(other.isFinished, "the other thread did not finish within 5 s")
        XCTAssertEqual(ErrorReport.message, "main thread failure")
        let report = seen.withLock { $0 }
        XCTAssertEqual(report?.before, "", "a new thread starts with no failure recorded")
        XCTAssertEqual(report?.after, "other thread failure")
    }

    func testVersionNamesPacketDTLSAndMbedTLS() throws {
        let expected = "PacketDTLS \(LibraryInfo.major).\(LibraryInfo.minor).\(LibraryInfo.patch) "
            + "(mbedTLS \(LibraryInfo.mbedTLSVersion))"
        XCTAssertEqual(LibraryInfo.version, expected)
        XCTAssertEqual(String(cString: LibraryInfo.versionCString), LibraryInfo.version)
        XCTAssertNotNil(LibraryInfo.version.wholeMatch(of: /PacketDTLS \d+\.\d+\.\d+ \(mbedTLS \d+\.\d+\.\d+\)/),
                        LibraryInfo.version)
        // The mbedTLS found at run time is the one the headers name.
        let parts = LibraryInfo.mbedTLSVersion.split(separator: ".").compactMap { Int($0) }
        XCTAssertEqual(parts.count, 3, LibraryInfo.mbedTLSVersion)
        XCTAssertEqual(parts.prefix(2), [2, 28])
    }
}
