// SessionExports.swift — saved sessions for resumption (dtls_session_*, dtls_peer_*_session) for C.

import PacketDTLS

@c @implementation
public func dtls_session_new() -> OpaquePointer? {
    handles.issue(ResumableSession(), as: .session)
}

@c @implementation
public func dtls_session_free(_ session: OpaquePointer?) {
    handles.release(session, .session)
}

@c @implementation
public func dtls_peer_get_session(_ peer: OpaquePointer?) -> OpaquePointer? {
    guard let dtls = lookUpPeer(peer, "dtls_peer_get_session") else { return nil }
    guard let saved = dtls.getSession() else {
        ErrorReport.set("dtls_peer_get_session: the peer is not connected")
        return nil
    }
    return handles.issue(saved, as: .session)
}

@c @implementation
public func dtls_peer_set_session(_ peer: OpaquePointer?, _ session: OpaquePointer?) -> GodotError {
    guard let dtls = lookUpPeer(peer, "dtls_peer_set_session") else { return .invalidParameter }
    guard let saved = handles.lookUpNullable(session, .session, as: ResumableSession.self,
                                             for: "dtls_peer_set_session") else { return .invalidParameter }
    dtls.setSession(saved)
    return .ok
}

@c @implementation
public func dtls_peer_is_session_resumed(_ peer: OpaquePointer?) -> Bool {
    guard let dtls = lookUpPeer(peer, "dtls_peer_is_session_resumed") else { return false }
    return dtls.isSessionResumed()
}
