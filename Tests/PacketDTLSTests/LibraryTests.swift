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
        let other = Thread { ErrorReport.set("other thread failure") }
        other.start()
        while !other.isFinished { usleep(1000) }
        XCTAssertEqual(ErrorReport.message, "main thread failure")
    }

    func testVersionNamesMbedTLS() {
        XCTAssertTrue(LibraryInfo.version.hasPrefix("PacketDTLS 0.1.0"))
        XCTAssertTrue(LibraryInfo.mbedTLSVersion.hasPrefix("2.28"))
    }
}
