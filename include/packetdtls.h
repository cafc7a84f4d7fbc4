/*
 * packetdtls.h — the C interface of PacketDTLS.
 *
 * PacketDTLS is a DTLS 1.2 library with the networking API that Godot Engine scripts know:
 * PacketPeerUDP, UDPServer, PacketPeerDTLS, DTLSServer, TLSOptions, CryptoKey,
 * X509Certificate and Crypto, over the system mbedTLS.
 *
 * Conventions that hold for every function below:
 * - Every object is reached through an opaque handle. A handle is a key into the library's
 *   table of live objects, never an address: a freed, never-issued or other-class handle is
 *   rejected with DTLS_ERR_INVALID_PARAMETER (or the neutral value -- false, 0, NULL,
 *   DTLS_STATUS_DISCONNECTED -- where the function returns no dtls_error). It never crashes.
 * - Objects are reference-counted inside. dtls_X_free() drops the caller's reference only:
 *   an object that another object still uses (a UDP peer inside a DTLS peer, a key inside
 *   options) lives on until that user lets go. Every free function accepts NULL.
 * - Any handle may be used from any thread; calls on one object are serialized inside.
 * - No function keeps a pointer the caller passed in after it returns: strings and buffers
 *   are copied.
 * - Strings are NUL-terminated UTF-8. Strings out are written snprintf-style into
 *   (buf, cap): the return value is the full length needed, excluding the NUL; buf may be
 *   NULL when cap is 0.
 * - Binary results are written into (buf, cap, *out_len): a buffer too small returns
 *   DTLS_ERR_PARAMETER_RANGE_ERROR with *out_len set to the size needed, and nothing is lost.
 * - A size_t argument (length, cap, count, index) above SSIZE_MAX, which no buffer can be, is
 *   refused with DTLS_ERR_INVALID_PARAMETER (or the neutral value: 0 and "" for a string, NULL,
 *   false) and a message; nothing is read or written through it.
 * - Every failure leaves a sentence in dtls_last_error_message() for the calling thread. It
 *   describes that thread's last failure only: a later success does not clear it, and a failure
 *   on another thread never shows there. Read it right after the call that failed.
 * - Functions that are `void` in Godot return dtls_error here, so that a bad handle can be
 *   reported; ignoring that value is fine.
 */
#ifndef PACKETDTLS_H
#define PACKETDTLS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#define DTLS_VERSION_MAJOR 0
#define DTLS_VERSION_MINOR 1
#define DTLS_VERSION_PATCH 0
/** The version as one number: major * 10000 + minor * 100 + patch. */
#define DTLS_VERSION_NUMBER (DTLS_VERSION_MAJOR * 10000 + DTLS_VERSION_MINOR * 100 + DTLS_VERSION_PATCH)

#if defined(_WIN32)
#define DTLS_API __declspec(dllimport)
#elif defined(__GNUC__) || defined(__clang__)
#define DTLS_API __attribute__((visibility("default")))
#else
#define DTLS_API
#endif

/* Swift imports the enums below as native Swift enums with these names; C sees nothing. */
#if defined(__clang__)
#define DTLS_CLOSED_ENUM __attribute__((enum_extensibility(closed)))
#define DTLS_SWIFT_NAME(name) __attribute__((swift_name(#name)))
#else
#define DTLS_CLOSED_ENUM
#define DTLS_SWIFT_NAME(name)
#endif

/* MARK: - Errors and status */

/**
 * Godot's \@GlobalScope Error, with Godot's numbers. Append-only: a number never changes
 * meaning.
 */
typedef enum DTLS_CLOSED_ENUM DTLS_SWIFT_NAME(GodotError) dtls_error {
    DTLS_OK DTLS_SWIFT_NAME(ok) = 0,
    DTLS_FAILED DTLS_SWIFT_NAME(failed) = 1,
    DTLS_ERR_UNAVAILABLE DTLS_SWIFT_NAME(unavailable) = 2,
    DTLS_ERR_UNCONFIGURED DTLS_SWIFT_NAME(unconfigured) = 3,
    DTLS_ERR_UNAUTHORIZED DTLS_SWIFT_NAME(unauthorized) = 4,
    DTLS_ERR_PARAMETER_RANGE_ERROR DTLS_SWIFT_NAME(parameterRangeError) = 5,
    DTLS_ERR_OUT_OF_MEMORY DTLS_SWIFT_NAME(outOfMemory) = 6,
    DTLS_ERR_FILE_NOT_FOUND DTLS_SWIFT_NAME(fileNotFound) = 7,
    DTLS_ERR_FILE_BAD_DRIVE DTLS_SWIFT_NAME(fileBadDrive) = 8,
    DTLS_ERR_FILE_BAD_PATH DTLS_SWIFT_NAME(fileBadPath) = 9,
    DTLS_ERR_FILE_NO_PERMISSION DTLS_SWIFT_NAME(fileNoPermission) = 10,
    DTLS_ERR_FILE_ALREADY_IN_USE DTLS_SWIFT_NAME(fileAlreadyInUse) = 11,
    DTLS_ERR_FILE_CANT_OPEN DTLS_SWIFT_NAME(fileCantOpen) = 12,
    DTLS_ERR_FILE_CANT_WRITE DTLS_SWIFT_NAME(fileCantWrite) = 13,
    DTLS_ERR_FILE_CANT_READ DTLS_SWIFT_NAME(fileCantRead) = 14,
    DTLS_ERR_FILE_UNRECOGNIZED DTLS_SWIFT_NAME(fileUnrecognized) = 15,
    DTLS_ERR_FILE_CORRUPT DTLS_SWIFT_NAME(fileCorrupt) = 16,
    DTLS_ERR_FILE_MISSING_DEPENDENCIES DTLS_SWIFT_NAME(fileMissingDependencies) = 17,
    DTLS_ERR_FILE_EOF DTLS_SWIFT_NAME(fileEof) = 18,
    DTLS_ERR_CANT_OPEN DTLS_SWIFT_NAME(cantOpen) = 19,
    DTLS_ERR_CANT_CREATE DTLS_SWIFT_NAME(cantCreate) = 20,
    DTLS_ERR_QUERY_FAILED DTLS_SWIFT_NAME(queryFailed) = 21,
    DTLS_ERR_ALREADY_IN_USE DTLS_SWIFT_NAME(alreadyInUse) = 22,
    DTLS_ERR_LOCKED DTLS_SWIFT_NAME(locked) = 23,
    DTLS_ERR_TIMEOUT DTLS_SWIFT_NAME(timeout) = 24,
    DTLS_ERR_CANT_CONNECT DTLS_SWIFT_NAME(cantConnect) = 25,
    DTLS_ERR_CANT_RESOLVE DTLS_SWIFT_NAME(cantResolve) = 26,
    DTLS_ERR_CONNECTION_ERROR DTLS_SWIFT_NAME(connectionError) = 27,
    DTLS_ERR_CANT_ACQUIRE_RESOURCE DTLS_SWIFT_NAME(cantAcquireResource) = 28,
    DTLS_ERR_CANT_FORK DTLS_SWIFT_NAME(cantFork) = 29,
    DTLS_ERR_INVALID_DATA DTLS_SWIFT_NAME(invalidData) = 30,
    DTLS_ERR_INVALID_PARAMETER DTLS_SWIFT_NAME(invalidParameter) = 31,
    DTLS_ERR_ALREADY_EXISTS DTLS_SWIFT_NAME(alreadyExists) = 32,
    DTLS_ERR_DOES_NOT_EXIST DTLS_SWIFT_NAME(doesNotExist) = 33,
    DTLS_ERR_DATABASE_CANT_READ DTLS_SWIFT_NAME(databaseCantRead) = 34,
    DTLS_ERR_DATABASE_CANT_WRITE DTLS_SWIFT_NAME(databaseCantWrite) = 35,
    DTLS_ERR_COMPILATION_FAILED DTLS_SWIFT_NAME(compilationFailed) = 36,
    DTLS_ERR_METHOD_NOT_FOUND DTLS_SWIFT_NAME(methodNotFound) = 37,
    DTLS_ERR_LINK_FAILED DTLS_SWIFT_NAME(linkFailed) = 38,
    DTLS_ERR_SCRIPT_FAILED DTLS_SWIFT_NAME(scriptFailed) = 39,
    DTLS_ERR_CYCLIC_LINK DTLS_SWIFT_NAME(cyclicLink) = 40,
    DTLS_ERR_INVALID_DECLARATION DTLS_SWIFT_NAME(invalidDeclaration) = 41,
    DTLS_ERR_DUPLICATE_SYMBOL DTLS_SWIFT_NAME(duplicateSymbol) = 42,
    DTLS_ERR_PARSE_ERROR DTLS_SWIFT_NAME(parseError) = 43,
    DTLS_ERR_BUSY DTLS_SWIFT_NAME(busy) = 44,
    DTLS_ERR_SKIP DTLS_SWIFT_NAME(skip) = 45,
    DTLS_ERR_HELP DTLS_SWIFT_NAME(help) = 46,
    DTLS_ERR_BUG DTLS_SWIFT_NAME(bug) = 47,
    DTLS_ERR_PRINTER_ON_FIRE DTLS_SWIFT_NAME(printerOnFire) = 48,} dtls_error;

/** PacketPeerDTLS.Status, with Godot's numbers. Append-only. */
typedef enum DTLS_CLOSED_ENUM DTLS_SWIFT_NAME(DTLSStatus) dtls_status {
    DTLS_STATUS_DISCONNECTED DTLS_SWIFT_NAME(disconnected) = 0,
    DTLS_STATUS_HANDSHAKING DTLS_SWIFT_NAME(handshaking) = 1,
    DTLS_STATUS_CONNECTED DTLS_SWIFT_NAME(connected) = 2,
    DTLS_STATUS_ERROR DTLS_SWIFT_NAME(error) = 3,
    DTLS_STATUS_ERROR_HOSTNAME_MISMATCH DTLS_SWIFT_NAME(errorHostnameMismatch) = 4,
} dtls_status;

/** Crypto.HashType, with Godot's numbers. */
typedef enum DTLS_CLOSED_ENUM DTLS_SWIFT_NAME(HashType) dtls_hash_type {
    DTLS_HASH_MD5 DTLS_SWIFT_NAME(md5) = 0,
    DTLS_HASH_SHA1 DTLS_SWIFT_NAME(sha1) = 1,
    DTLS_HASH_SHA256 DTLS_SWIFT_NAME(sha256) = 2,
} dtls_hash_type;

/**
 * The type of a dtls_var: Godot 4's Variant.Type, with Godot 4's numbers, whichever Godot version a
 * value is encoded for (dtls_var_encode() and the put_var functions translate to Godot 3's numbers).
 * Append-only.
 */
typedef enum DTLS_CLOSED_ENUM DTLS_SWIFT_NAME(GodotVariantType) dtls_var_type {
    DTLS_VAR_NIL DTLS_SWIFT_NAME(null) = 0,
    DTLS_VAR_BOOL DTLS_SWIFT_NAME(bool) = 1,
    DTLS_VAR_INT DTLS_SWIFT_NAME(int) = 2,
    DTLS_VAR_FLOAT DTLS_SWIFT_NAME(float) = 3,
    DTLS_VAR_STRING DTLS_SWIFT_NAME(string) = 4,
    DTLS_VAR_VECTOR2 DTLS_SWIFT_NAME(vector2) = 5,
    DTLS_VAR_VECTOR2I DTLS_SWIFT_NAME(vector2i) = 6,
    DTLS_VAR_RECT2 DTLS_SWIFT_NAME(rect2) = 7,
    DTLS_VAR_RECT2I DTLS_SWIFT_NAME(rect2i) = 8,
    DTLS_VAR_VECTOR3 DTLS_SWIFT_NAME(vector3) = 9,
    DTLS_VAR_VECTOR3I DTLS_SWIFT_NAME(vector3i) = 10,
    DTLS_VAR_VECTOR4 DTLS_SWIFT_NAME(vector4) = 11,
    DTLS_VAR_VECTOR4I DTLS_SWIFT_NAME(vector4i) = 12,
    DTLS_VAR_TRANSFORM2D DTLS_SWIFT_NAME(transform2D) = 13,
    DTLS_VAR_PLANE DTLS_SWIFT_NAME(plane) = 14,
    DTLS_VAR_QUATERNION DTLS_SWIFT_NAME(quaternion) = 15,
    DTLS_VAR_AABB DTLS_SWIFT_NAME(aabb) = 16,
    DTLS_VAR_BASIS DTLS_SWIFT_NAME(basis) = 17,
    DTLS_VAR_TRANSFORM3D DTLS_SWIFT_NAME(transform3D) = 18,
    DTLS_VAR_PROJECTION DTLS_SWIFT_NAME(projection) = 19,
    DTLS_VAR_COLOR DTLS_SWIFT_NAME(color) = 20,
    DTLS_VAR_STRING_NAME DTLS_SWIFT_NAME(stringName) = 21,
    DTLS_VAR_NODE_PATH DTLS_SWIFT_NAME(nodePath) = 22,
    DTLS_VAR_RID DTLS_SWIFT_NAME(rid) = 23,
    DTLS_VAR_OBJECT DTLS_SWIFT_NAME(object) = 24,
    DTLS_VAR_CALLABLE DTLS_SWIFT_NAME(callable) = 25,
    DTLS_VAR_SIGNAL DTLS_SWIFT_NAME(signal) = 26,
    DTLS_VAR_DICTIONARY DTLS_SWIFT_NAME(dictionary) = 27,
    DTLS_VAR_ARRAY DTLS_SWIFT_NAME(array) = 28,
    DTLS_VAR_PACKED_BYTE_ARRAY DTLS_SWIFT_NAME(packedByteArray) = 29,
    DTLS_VAR_PACKED_INT32_ARRAY DTLS_SWIFT_NAME(packedInt32Array) = 30,
    DTLS_VAR_PACKED_INT64_ARRAY DTLS_SWIFT_NAME(packedInt64Array) = 31,
    DTLS_VAR_PACKED_FLOAT32_ARRAY DTLS_SWIFT_NAME(packedFloat32Array) = 32,
    DTLS_VAR_PACKED_FLOAT64_ARRAY DTLS_SWIFT_NAME(packedFloat64Array) = 33,
    DTLS_VAR_PACKED_STRING_ARRAY DTLS_SWIFT_NAME(packedStringArray) = 34,
    DTLS_VAR_PACKED_VECTOR2_ARRAY DTLS_SWIFT_NAME(packedVector2Array) = 35,
    DTLS_VAR_PACKED_VECTOR3_ARRAY DTLS_SWIFT_NAME(packedVector3Array) = 36,
    DTLS_VAR_PACKED_COLOR_ARRAY DTLS_SWIFT_NAME(packedColorArray) = 37,
    DTLS_VAR_PACKED_VECTOR4_ARRAY DTLS_SWIFT_NAME(packedVector4Array) = 38,
} dtls_var_type;

/* MARK: - Handles (opaque; see the conventions above) */

typedef struct dtls_udp dtls_udp;               /**< PacketPeerUDP */
typedef struct dtls_udp_server dtls_udp_server; /**< UDPServer */
typedef struct dtls_peer dtls_peer;             /**< PacketPeerDTLS */
typedef struct dtls_server dtls_server;         /**< DTLSServer */
typedef struct dtls_key dtls_key;               /**< CryptoKey */
typedef struct dtls_cert dtls_cert;             /**< X509Certificate */
typedef struct dtls_options dtls_options;       /**< TLSOptions */
typedef struct dtls_var dtls_var;               /**< a Variant value (put_var / get_var) */

/* MARK: - Library */

/** The run-time version, as DTLS_VERSION_NUMBER. Compare with the macro to catch a header/library mismatch. */
DTLS_API uint32_t dtls_version_number(void);

/** The run-time version as "major.minor.patch", with the mbedTLS version it runs on. Static storage. */
DTLS_API const char *dtls_version_string(void);

/** Godot's name of an error ("ERR_INVALID_PARAMETER"); "ERR_UNKNOWN" for a number outside the enum. Static storage. */
DTLS_API const char *dtls_error_string(dtls_error error);

/** Godot's name of a status ("STATUS_CONNECTED"); "STATUS_UNKNOWN" outside the enum. Static storage. */
DTLS_API const char *dtls_status_string(dtls_status status);

/**
 * A sentence on the last failure of the calling thread: the mbedTLS reason, the certificate
 * verification flags, the socket errno. "" when nothing failed yet on this thread. It describes the
 * last failure of this thread only: a call that succeeds leaves it as it was (so read it only after
 * a call that reported a failure), and failures on other threads never appear here. The pointer
 * stays valid until the next call into the library from this thread.
 */
DTLS_API const char *dtls_last_error_message(void);

/* MARK: - PacketPeerUDP (dtls_udp) */

/** A new, unbound UDP peer. Free with dtls_udp_free(). Thread: any. */
DTLS_API dtls_udp *dtls_udp_new(void);
/** Drops the caller's reference (closing the socket once nothing else uses it). NULL is fine. */
DTLS_API void dtls_udp_free(dtls_udp *udp);

/**
 * Binds to `port` (0 = any free port) on `bind_address`: "*" (or NULL) is the dual-stack
 * wildcard, "0.0.0.0" IPv4 only, an IPv6 address IPv6 only. `recv_buf_size` (Godot default 65536)
 * bounds the bytes queued inside the library and sizes the kernel's receive buffer.
 * \return DTLS_OK; DTLS_ERR_ALREADY_IN_USE if already bound or connected; DTLS_ERR_LOCKED for a
 *         peer taken from a UDPServer; DTLS_ERR_INVALID_PARAMETER for a bad port or address, or a
 *         recv_buf_size below 1;
 *         DTLS_ERR_UNAVAILABLE when the address or port is in use; DTLS_ERR_CANT_CREATE when the socket can't be opened.
 */
DTLS_API dtls_error dtls_udp_bind(dtls_udp *udp, int port, const char *bind_address, int recv_buf_size);
/** Godot 3.x name of dtls_udp_bind(). */
DTLS_API dtls_error dtls_udp_listen(dtls_udp *udp, int port, const char *bind_address, int recv_buf_size);
/** Closes the socket and forgets the destination and queued packets. A peer taken from a UDPServer leaves it. */
DTLS_API dtls_error dtls_udp_close(dtls_udp *udp);
/** True when the peer has an open socket (bound, connected, or taken from a listening UDPServer). */
DTLS_API bool dtls_udp_is_bound(dtls_udp *udp);
/** Godot 3.x name of dtls_udp_is_bound(). */
DTLS_API bool dtls_udp_is_listening(dtls_udp *udp);

/**
 * Connects the socket to `host` (an address or a name, resolved now) and `port`: afterwards only
 * that host's datagrams are received and put_packet sends there. Binds an ephemeral port first
 * when unbound.
 * \return DTLS_OK; DTLS_ERR_LOCKED for a peer taken from a UDPServer; DTLS_ERR_INVALID_PARAMETER
 *         for a NULL/empty host or a port outside 1..65535; DTLS_ERR_CANT_RESOLVE for a name that
 *         does not resolve; DTLS_ERR_CANT_CONNECT when connect() fails.
 */
DTLS_API dtls_error dtls_udp_connect_to_host(dtls_udp *udp, const char *host, int port);
/** True after a successful connect_to_host, and for peers taken from a UDPServer. */
DTLS_API bool dtls_udp_is_socket_connected(dtls_udp *udp);
/** Godot 3.x name of dtls_udp_is_socket_connected(). */
DTLS_API bool dtls_udp_is_connected_to_host(dtls_udp *udp);

/**
 * Sets where put_packet sends on an unconnected socket.
 * \return DTLS_OK; DTLS_ERR_UNCONFIGURED on a connected socket; DTLS_ERR_INVALID_PARAMETER for a
 *         bad port or empty host; DTLS_ERR_CANT_RESOLVE when the name does not resolve.
 */
DTLS_API dtls_error dtls_udp_set_dest_address(dtls_udp *udp, const char *host, int port);

/**
 * Waits until a datagram can be read (Godot's wait()). Blocks the calling thread only.
 * \return DTLS_OK; DTLS_ERR_UNCONFIGURED without a socket; DTLS_FAILED when poll() fails.
 */
DTLS_API dtls_error dtls_udp_wait(dtls_udp *udp);
/** As dtls_udp_wait(), giving up after `timeout_ms` (>= 0) with DTLS_ERR_TIMEOUT. */
DTLS_API dtls_error dtls_udp_wait_timeout(dtls_udp *udp, int timeout_ms);

/** Writes the source address of the last packet read ("" before any) into buf; returns the length needed. */
DTLS_API size_t dtls_udp_get_packet_ip(dtls_udp *udp, char *buf, size_t cap);
/** The source port of the last packet read, 0 before any. */
DTLS_API int dtls_udp_get_packet_port(dtls_udp *udp);
/** The local port of the socket, 0 when there is none. */
DTLS_API int dtls_udp_get_local_port(dtls_udp *udp);

/**
 * Beyond Godot: the socket's file descriptor, for an event loop (select, poll, epoll, libuv, asyncio)
 * to wait on instead of calling dtls_udp_wait(). When it is readable, read with dtls_udp_get_packet()
 * (or, for a DTLS peer over this UDP peer, call dtls_peer_poll()). A peer taken from a UDPServer
 * shares the server's socket, so this is the server's descriptor, and readable means
 * dtls_udp_server_poll() has datagrams to route. Watch the descriptor only: the library owns it,
 * so never read, write or close it, and stop watching before dtls_udp_close() or dtls_udp_free(),
 * after which the number may name another file. A DTLS handshake also needs dtls_peer_poll() when
 * no datagram comes (retransmission): wake at least every 100 ms while handshaking.
 * \return the descriptor (>= 0); -1 for a bad handle or a peer with no socket yet (see
 *         dtls_last_error_message()).
 */
DTLS_API int dtls_udp_get_fd(dtls_udp *udp);

/**
 * Allows sending to broadcast addresses (SO_BROADCAST). As in Godot, the setting is kept and applied
 * to any socket the peer opens later, so it may come before bind or put_packet.
 * \return DTLS_OK; DTLS_ERR_LOCKED for a peer taken from a UDPServer (its socket is the server's).
 */
DTLS_API dtls_error dtls_udp_set_broadcast_enabled(dtls_udp *udp, bool enabled);
/** Joins a multicast group on the named interface (NULL or "" = any). The socket must be bound. */
DTLS_API dtls_error dtls_udp_join_multicast_group(dtls_udp *udp, const char *address, const char *interface_name);
/** Leaves a multicast group joined before. */
DTLS_API dtls_error dtls_udp_leave_multicast_group(dtls_udp *udp, const char *address, const char *interface_name);

/**
 * Sends one datagram of `len` bytes (0 is allowed) to the connected host or the destination.
 * \return DTLS_OK; DTLS_ERR_UNCONFIGURED without socket or destination; DTLS_ERR_INVALID_PARAMETER
 *         for data NULL with len > 0 or len above 65507; DTLS_ERR_BUSY when the socket would block
 *         (nothing was sent); DTLS_FAILED for another send error (see the message).
 */
DTLS_API dtls_error dtls_udp_put_packet(dtls_udp *udp, const uint8_t *data, size_t len);
/**
 * Takes the next queued datagram into buf. *out_len gets its length.
 * \return DTLS_OK; DTLS_ERR_UNAVAILABLE when nothing is queued; DTLS_ERR_PARAMETER_RANGE_ERROR
 *         when cap is too small (then *out_len is the size needed and the packet stays queued; what buf
 *         holds then is unspecified);
 *         DTLS_ERR_INVALID_PARAMETER when out_len is NULL, or buf is NULL with cap > 0.
 */
DTLS_API dtls_error dtls_udp_get_packet(dtls_udp *udp, uint8_t *buf, size_t cap, size_t *out_len);
/** The number of datagrams ready to read (reads what the socket holds first). */
DTLS_API int dtls_udp_get_available_packet_count(dtls_udp *udp);
/** The result of the last get_packet on this peer. */
DTLS_API dtls_error dtls_udp_get_packet_error(dtls_udp *udp);

/* MARK: - UDPServer (dtls_udp_server) */

/** A new UDPServer, not listening. Free with dtls_udp_server_free(). */
DTLS_API dtls_udp_server *dtls_udp_server_new(void);
/** Drops the caller's reference; a server nobody uses stops. NULL is fine. */
DTLS_API void dtls_udp_server_free(dtls_udp_server *server);
/**
 * Opens one socket for all peers on `port` (0 = any free port) and `bind_address` ("*" or NULL =
 * dual-stack wildcard).
 * \return DTLS_OK; DTLS_ERR_ALREADY_IN_USE when already listening; DTLS_ERR_INVALID_PARAMETER for a
 *         bad port or address; DTLS_ERR_UNAVAILABLE when the port is taken; DTLS_ERR_CANT_CREATE.
 */
DTLS_API dtls_error dtls_udp_server_listen(dtls_udp_server *server, int port, const char *bind_address);
/**
 * Reads every datagram waiting on the socket and routes each by source (address, port): to the
 * peer taken for it, to a pending peer, or to a new pending peer (dropped, and counted, when
 * max_pending_connections pending peers wait already).
 * \return DTLS_OK; DTLS_ERR_UNCONFIGURED when not listening.
 */
DTLS_API dtls_error dtls_udp_server_poll(dtls_udp_server *server);
/**
 * Blocks the calling thread until a datagram waits on the server's socket or `timeout_ms` (>= 0) pass, so a
 * server loop can sleep instead of spinning; call dtls_udp_server_poll() afterwards. Beyond Godot.
 * Under a ClientHello flood that the last poll kept up with, it first lets the flood gather for 1 ms
 * (docs/BEYOND_GODOT.md, "Under a flood").
 * \return DTLS_OK; DTLS_ERR_TIMEOUT; DTLS_ERR_UNCONFIGURED when not listening (or stopped while waiting).
 */
DTLS_API dtls_error dtls_udp_server_wait_timeout(dtls_udp_server *server, int timeout_ms);
/** True when a pending peer waits for take_connection. Reads what the socket holds first (as Godot 3 did). */
DTLS_API bool dtls_udp_server_is_connection_available(dtls_udp_server *server);
/** The oldest pending peer, as a new handle (free with dtls_udp_free()), or NULL when none waits. */
DTLS_API dtls_udp *dtls_udp_server_take_connection(dtls_udp_server *server);
/** True while the server has its socket. */
DTLS_API bool dtls_udp_server_is_listening(dtls_udp_server *server);
/** The local port of the socket, 0 when not listening. */
DTLS_API int dtls_udp_server_get_local_port(dtls_udp_server *server);
/**
 * Beyond Godot: the server socket's file descriptor, for an event loop (select, poll, epoll) to wait
 * on instead of dtls_udp_server_wait_timeout(). When it is readable, call dtls_udp_server_poll(), then take
 * new connections and poll the peers. The library owns the descriptor: watch it only, and stop
 * watching before dtls_udp_server_stop() or dtls_udp_server_free().
 * \return the descriptor (>= 0); -1 for a bad handle or a server that is not listening (see
 *         dtls_last_error_message()).
 */
DTLS_API int dtls_udp_server_get_fd(dtls_udp_server *server);
/**
 * Closes the socket, drops pending peers, and closes every taken peer. First, every DTLS session over
 * one of its peers ends: a connected client is sent close_notify, and the server-side dtls_peer is
 * DISCONNECTED at once with the reason. Freeing the last reference to a server does the same.
 */
DTLS_API dtls_error dtls_udp_server_stop(dtls_udp_server *server);
/**
 * How many pending peers may wait (default 16; 0 refuses new peers). Lowering it drops the newest
 * pending peers beyond the limit; raising it keeps them. Negative is DTLS_ERR_INVALID_PARAMETER.
 */
DTLS_API dtls_error dtls_udp_server_set_max_pending_connections(dtls_udp_server *server, int max_pending);
/** The limit set above; 0 for a bad handle. */
DTLS_API int dtls_udp_server_get_max_pending_connections(dtls_udp_server *server);

/*
 * Receive queues and loss figures (beyond Godot). A peer a server makes queues up to the server's
 * peer queue limit (default 1 MiB, 24 bytes of bookkeeping per datagram included; an empty queue
 * takes any one datagram), and all its peers together up to the total limit (default 16 MiB). When a
 * datagram finds its peer's queue full, dtls_udp_server_poll() keeps it and reads no more that poll:
 * the kernel keeps the rest. The next poll routes it first; if the peer was read from meanwhile nothing
 * is lost, and if not, its datagrams are dropped and counted, so one unread peer cannot stall the rest.
 */

/** Traffic and loss figures of a dtls_udp or a dtls_udp_server. Append-only. */
typedef struct dtls_udp_stats {
    uint64_t datagrams_received;          /**< queued for reading (a server: routed to a peer) */
    uint64_t datagrams_dropped;           /**< read and dropped by the library (full queue or pending queue;
                                               a DTLS front door's unanswered cookie-less ClientHellos) */
    uint64_t datagrams_dropped_by_kernel; /**< a server's socket buffer overflowed (SO_MEMINFO when asked;
                                               an old kernel: SO_RXQ_OVFL, told with the next datagram) */
    uint64_t packets_queued;              /**< queued now, not yet read (a server: by all its peers and itself) */
    uint64_t bytes_queued;                /**< the bytes those take, bookkeeping included */
    uint64_t datagrams_sent_batched;      /**< a server with send batching: sent by its flushes */
    uint64_t datagrams_send_failed;       /**< a server with send batching: refused by the kernel at a flush
                                               (dropped, counted, never retried), or queued when it stopped */
    uint64_t datagrams_waiting_to_send;   /**< a server with send batching: queued now for the next flush */
    uint64_t send_batch_calls;            /**< a server with send batching: sendmmsg calls made */
} dtls_udp_stats;

/**
 * Fills *out with the figures of a UDP peer. `size` is sizeof(dtls_udp_stats) as the caller compiled
 * it. DTLS_ERR_INVALID_PARAMETER for a bad handle, NULL out or size 0.
 */
DTLS_API dtls_error dtls_udp_get_stats(dtls_udp *udp, dtls_udp_stats *out, size_t size);
/** As dtls_udp_get_stats(), for a server: everything it routed and dropped, and what its peers hold. */
DTLS_API dtls_error dtls_udp_server_get_stats(dtls_udp_server *server, dtls_udp_stats *out, size_t size);
/** The bytes each peer made from now on may queue; DTLS_ERR_INVALID_PARAMETER (no change) below 1. */
DTLS_API dtls_error dtls_udp_server_set_peer_queue_limit(dtls_udp_server *server, int bytes);
/** The peer queue limit; 0 for a bad handle. */
DTLS_API int dtls_udp_server_get_peer_queue_limit(dtls_udp_server *server);
/** The bytes all peers may queue together, now; DTLS_ERR_INVALID_PARAMETER (no change) below 1. */
DTLS_API dtls_error dtls_udp_server_set_total_queue_limit(dtls_udp_server *server, int bytes);
/** The total queue limit; 0 for a bad handle. */
DTLS_API int dtls_udp_server_get_total_queue_limit(dtls_udp_server *server);

/* MARK: - CryptoKey (dtls_key) */

/** A new, empty key. Free with dtls_key_free(). */
DTLS_API dtls_key *dtls_key_new(void);
/** Drops the caller's reference. Key material is zeroized when the last reference goes. NULL is fine. */
DTLS_API void dtls_key_free(dtls_key *key);
/**
 * Loads a PEM or DER key file: a private key (RSA or EC), or with public_only a public key.
 * On failure the key keeps what it had.
 * \return DTLS_OK; DTLS_ERR_INVALID_PARAMETER when the file can't be opened (Godot's number; the
 *         message names the path); DTLS_ERR_PARSE_ERROR when it does not parse.
 */
DTLS_API dtls_error dtls_key_load(dtls_key *key, const char *path, bool public_only);
/** Writes the key as PEM (the private key, or with public_only the public key); file mode 0600. */
DTLS_API dtls_error dtls_key_save(dtls_key *key, const char *path, bool public_only);
/** As dtls_key_load() from a PEM string. DTLS_ERR_PARSE_ERROR on garbage, the key unchanged. */
DTLS_API dtls_error dtls_key_load_from_string(dtls_key *key, const char *pem, bool public_only);
/** Writes the key as PEM into buf; returns the length needed, 0 for an empty key or bad handle. */
DTLS_API size_t dtls_key_save_to_string(dtls_key *key, bool public_only, char *buf, size_t cap);
/** True when the key holds only a public key. */
DTLS_API bool dtls_key_is_public_only(dtls_key *key);

/* MARK: - X509Certificate (dtls_cert) */

/** A new, empty certificate (chain). Free with dtls_cert_free(). */
DTLS_API dtls_cert *dtls_cert_new(void);
/** Drops the caller's reference. NULL is fine. */
DTLS_API void dtls_cert_free(dtls_cert *cert);
/**
 * Loads a PEM or DER file holding one certificate or a chain. On failure the object keeps what it had.
 * \return DTLS_OK; DTLS_ERR_INVALID_PARAMETER when the file can't be opened; DTLS_ERR_PARSE_ERROR.
 */
DTLS_API dtls_error dtls_cert_load(dtls_cert *cert, const char *path);
/** Writes every certificate of the chain, in order, as PEM. */
DTLS_API dtls_error dtls_cert_save(dtls_cert *cert, const char *path);
/** As dtls_cert_load() from a PEM string. */
DTLS_API dtls_error dtls_cert_load_from_string(dtls_cert *cert, const char *pem);
/** Writes the whole chain as PEM into buf; returns the length needed (0 when empty). */
DTLS_API size_t dtls_cert_save_to_string(dtls_cert *cert, char *buf, size_t cap);

/* MARK: - Crypto (free functions) */

/** Fills buf with `size` bytes from mbedTLS's CTR-DRBG. */
DTLS_API dtls_error dtls_crypto_generate_random_bytes(uint8_t *buf, size_t size);
/** A new RSA private key of `size_bits` (1024..8192) with e = 65537, or NULL. Free with dtls_key_free(). */
DTLS_API dtls_key *dtls_crypto_generate_rsa(int size_bits);
/** A new EC P-256 private key, or NULL: the fast choice for DTLS handshakes. Free with dtls_key_free(). */
DTLS_API dtls_key *dtls_crypto_generate_ec_p256(void);
/**
 * A new self-signed certificate for `key` (which must hold a private key), or NULL.
 * NULL arguments take Godot's defaults: issuer_name "CN=myserver,O=myorganisation,C=IT",
 * not_before "20140101000000", not_after "20340101000000" (YYYYMMDDhhmmss, UTC).
 * Free with dtls_cert_free().
 */
DTLS_API dtls_cert *dtls_crypto_generate_self_signed_certificate(dtls_key *key, const char *issuer_name,
                                                                 const char *not_before, const char *not_after);
/** Signs `hash` (the digest of type hash_type) with the private key into (buf, cap, *out_len). */
DTLS_API dtls_error dtls_crypto_sign(dtls_hash_type hash_type, const uint8_t *hash, size_t hash_len, dtls_key *key,
                                     uint8_t *buf, size_t cap, size_t *out_len);
/** True when `signature` over `hash` verifies with the key. */
DTLS_API bool dtls_crypto_verify(dtls_hash_type hash_type, const uint8_t *hash, size_t hash_len,
                                 const uint8_t *signature, size_t signature_len, dtls_key *key);
/** Encrypts with the (public) RSA key, PKCS#1 v1.5 as Godot does, into (buf, cap, *out_len). */
DTLS_API dtls_error dtls_crypto_encrypt(dtls_key *key, const uint8_t *plaintext, size_t len,
                                        uint8_t *buf, size_t cap, size_t *out_len);
/** Decrypts with the private RSA key into (buf, cap, *out_len). */
DTLS_API dtls_error dtls_crypto_decrypt(dtls_key *key, const uint8_t *ciphertext, size_t len,
                                        uint8_t *buf, size_t cap, size_t *out_len);
/** HMAC of msg under key with hash_type into (buf, cap, *out_len). */
DTLS_API dtls_error dtls_crypto_hmac_digest(dtls_hash_type hash_type, const uint8_t *key, size_t key_len,
                                            const uint8_t *msg, size_t msg_len,
                                            uint8_t *buf, size_t cap, size_t *out_len);
/** Compares two byte strings in time that depends on the length only; false when the lengths differ. */
DTLS_API bool dtls_crypto_constant_time_compare(const uint8_t *a, size_t a_len, const uint8_t *b, size_t b_len);

/* MARK: - TLSOptions (dtls_options) */

/** Client options that verify against the system CA bundle: the same as dtls_options_client(NULL, NULL). */
DTLS_API dtls_options *dtls_options_new(void);
/** Drops the caller's reference. NULL is fine. */
DTLS_API void dtls_options_free(dtls_options *options);
/**
 * Client options that verify the server's chain against `trusted_chain` (NULL = the system CA bundle)
 * and its name against the hostname, or `common_name_override` when not NULL/empty.
 */
DTLS_API dtls_options *dtls_options_client(dtls_cert *trusted_chain, const char *common_name_override);
/**
 * Client options that do not check the server's name; with `trusted_chain` the chain is still
 * verified, without one nothing is (an explicit opt-out of all verification).
 */
DTLS_API dtls_options *dtls_options_client_unsafe(dtls_cert *trusted_chain);
/** Server options with a private key and its certificate (chain). NULL for a NULL or empty argument. */
DTLS_API dtls_options *dtls_options_server(dtls_key *key, dtls_cert *certificate);
/** True for options made by dtls_options_server() or dtls_options_server_psk(); false for a bad handle. */
DTLS_API bool dtls_options_is_server(dtls_options *options);
/** True for options made by dtls_options_client_unsafe(); false for a bad handle. */
DTLS_API bool dtls_options_is_unsafe_client(dtls_options *options);
/** Writes the common-name override ("" when none) into buf; returns the length needed. */
DTLS_API size_t dtls_options_get_common_name_override(dtls_options *options, char *buf, size_t cap);
/** A new reference to the trusted chain, or NULL when none. Free with dtls_cert_free(). */
DTLS_API dtls_cert *dtls_options_get_trusted_ca_chain(dtls_options *options);
/** A new reference to the server's private key, or NULL. Free with dtls_key_free(). */
DTLS_API dtls_key *dtls_options_get_private_key(dtls_options *options);
/** A new reference to the server's certificate, or NULL. Free with dtls_cert_free(). */
DTLS_API dtls_cert *dtls_options_get_own_certificate(dtls_options *options);

/**
 * Handshake retransmission timer: first wait `min_ms`, doubling up to `max_ms`, after which the
 * handshake fails with a timeout (default 1000 and 60000). Applies to peers set up afterwards.
 * \return DTLS_ERR_INVALID_PARAMETER unless 1 <= min_ms <= max_ms.
 */
DTLS_API dtls_error dtls_options_set_handshake_timeout(dtls_options *options, uint32_t min_ms, uint32_t max_ms);
/**
 * A connected peer that receives nothing for `timeout_ms` ends in DTLS_STATUS_ERROR with "idle timeout"
 * as its reason, so servers reclaim vanished clients. It tells the other end first (close_notify, once,
 * best effort, with an empty record behind it in the same datagram as the mark of an idle timeout): a
 * PacketDTLS peer there becomes DTLS_STATUS_DISCONNECTED with a reason saying the peer closed the
 * session for inactivity; Godot, OpenSSL and GnuTLS peers see a plain close_notify. 0 turns it off. Default 300000 (five minutes; docs/BEYOND_GODOT.md
 * says why). Beyond Godot (Godot has no idle timeout).
 */
DTLS_API dtls_error dtls_options_set_idle_timeout(dtls_options *options, uint32_t timeout_ms);
/**
 * Peers set up afterwards with these options (a client's own, or every peer a DTLS server makes) send a
 * keepalive whenever they have sent nothing for `interval_ms`: this end's Finished record sent again byte
 * for byte, a duplicate that the other end (PacketDTLS, Godot, mbedTLS, OpenSSL, GnuTLS) drops silently
 * as a replay and never surfaces as a packet. It restarts the other end's idle timer, and a PacketDTLS peer
 * without a keepalive of its own answers it (at most once a second), restarting this end's. 0 turns it off
 * (the default, as in Godot). Keep it well below the other end's idle timeout. A hibernated peer sends
 * and answers keepalives without waking. See docs/BEYOND_GODOT.md. Beyond Godot.
 */
DTLS_API dtls_error dtls_options_set_keepalive_ms(dtls_options *options, uint32_t interval_ms);
/**
 * The largest datagram the handshake may send (default 1400; 0 = no limit); bigger handshake messages
 * are fragmented. Application packets are not limited by it. Range 0 or 256..16384.
 */
DTLS_API dtls_error dtls_options_set_mtu(dtls_options *options, uint32_t mtu);

/* MARK: - PacketPeerDTLS (dtls_peer) */

/** A new, disconnected DTLS peer. Free with dtls_peer_free() (which sends close_notify if connected). */
DTLS_API dtls_peer *dtls_peer_new(void);
/**
 * Drops the caller's reference; a CONNECTED peer sends close_notify as it goes, and its dtls_udp is
 * released when nothing else holds it. NULL and already-freed handles are ignored.
 */
DTLS_API void dtls_peer_free(dtls_peer *peer);
/**
 * Godot 3.x connect_to_peer: starts a client handshake over `udp`, which must be connected
 * (dtls_udp_connect_to_host). With validate_certs the server's chain is verified against
 * `valid_certificate` (NULL = the system CA bundle) and its name against `for_hostname` (NULL or ""
 * = the address udp is connected to). validate_certs = false verifies nothing.
 * \return DTLS_OK (status HANDSHAKING); DTLS_ERR_INVALID_PARAMETER when udp is not connected;
 *         DTLS_ERR_ALREADY_IN_USE when this peer is handshaking or connected, or when `udp` carries
 *         another dtls_peer's session (one UDP peer, one DTLS session); DTLS_ERR_UNCONFIGURED
 *         when the system CA bundle is needed and missing; DTLS_FAILED (see the message).
 */
DTLS_API dtls_error dtls_peer_connect_to_peer(dtls_peer *peer, dtls_udp *udp, bool validate_certs,
                                              const char *for_hostname, dtls_cert *valid_certificate);
/**
 * Godot 4.x connect_to_peer with TLSOptions (NULL = dtls_options_client(NULL, NULL)). `hostname` is
 * checked against the certificate and sent as SNI when it is a name; NULL or "" = the address udp
 * is connected to. Returns as dtls_peer_connect_to_peer(); server options are DTLS_ERR_INVALID_PARAMETER.
 */
DTLS_API dtls_error dtls_peer_connect_to_peer_with_options(dtls_peer *peer, dtls_udp *udp, const char *hostname,
                                                           dtls_options *client_options);
/**
 * Reads every datagram waiting, advances the handshake (with its retransmission timers), queues every
 * decrypted packet, and checks the idle timeout. Call it often.
 * \return DTLS_OK; DTLS_ERR_UNCONFIGURED when disconnected; DTLS_ERR_CONNECTION_ERROR when this call
 *         ended the session in an error (see dtls_peer_get_error_message()).
 */
DTLS_API dtls_error dtls_peer_poll(dtls_peer *peer);
/**
 * DISCONNECTED, HANDSHAKING, CONNECTED, ERROR or ERROR_HOSTNAME_MISMATCH, as of the last poll;
 * DTLS_STATUS_DISCONNECTED for a bad handle.
 */
DTLS_API dtls_status dtls_peer_get_status(dtls_peer *peer);
/** Sends close_notify (once, without waiting) and becomes DISCONNECTED; queued packets are dropped. */
DTLS_API dtls_error dtls_peer_disconnect_from_peer(dtls_peer *peer);
/**
 * Encrypts and sends one packet as one record.
 * \return DTLS_OK; DTLS_ERR_UNCONFIGURED when not CONNECTED; DTLS_ERR_INVALID_PARAMETER when len is 0
 *         (DTLS carries no empty packets), above dtls_peer_get_max_packet_size(), or data is NULL with
 *         len > 0; DTLS_ERR_BUSY when the socket would block (nothing was sent); DTLS_ERR_CONNECTION_ERROR
 *         on a send failure. A record the socket refused after it was built waits inside the library and
 *         goes out with the next poll or put, so DTLS_OK never means a packet was dropped.
 */
DTLS_API dtls_error dtls_peer_put_packet(dtls_peer *peer, const uint8_t *data, size_t len);
/** Takes the next decrypted packet; as dtls_udp_get_packet(). DTLS_ERR_UNAVAILABLE when none is queued. */
DTLS_API dtls_error dtls_peer_get_packet(dtls_peer *peer, uint8_t *buf, size_t cap, size_t *out_len);
/** The number of decrypted packets queued (filled by poll). */
DTLS_API int dtls_peer_get_available_packet_count(dtls_peer *peer);
/** The result of the last get_packet on this peer. */
DTLS_API dtls_error dtls_peer_get_packet_error(dtls_peer *peer);
/** Why the peer ended in an error status ("" otherwise): the reason, verification flags or alert. Returns the length needed. */
DTLS_API size_t dtls_peer_get_error_message(dtls_peer *peer, char *buf, size_t cap);
/** The negotiated cipher suite's IANA-style name once connected, "" before. Returns the length needed. */
DTLS_API size_t dtls_peer_get_ciphersuite(dtls_peer *peer, char *buf, size_t cap);
/** The largest packet put_packet accepts now (0 when not connected). */
DTLS_API int dtls_peer_get_max_packet_size(dtls_peer *peer);

/* MARK: - DTLSServer (dtls_server) */

/** A new DTLS server, not set up. Free with dtls_server_free(). */
DTLS_API dtls_server *dtls_server_new(void);
/**
 * Drops the caller's reference. Peers already taken keep the identity they started with and go on
 * working. NULL and already-freed handles are ignored.
 */
DTLS_API void dtls_server_free(dtls_server *server);
/**
 * Godot 3.x setup: the private key, its certificate and an optional chain of intermediates (NULL),
 * which is sent to clients after the certificate. May be called again to replace the identity;
 * peers already taken keep the one they started with. The cookie and ticket keys belong to the
 * server and outlive setup and stop (dtls_server_load_keys).
 * \return DTLS_OK; DTLS_ERR_INVALID_PARAMETER for a missing, public-only or mismatched key;
 *         DTLS_FAILED (see the message).
 */
DTLS_API dtls_error dtls_server_setup(dtls_server *server, dtls_key *key, dtls_cert *certificate, dtls_cert *chain);
/** Godot 4.x setup with TLSOptions made by dtls_options_server(). Client options are DTLS_ERR_INVALID_PARAMETER. */
DTLS_API dtls_error dtls_server_setup_with_options(dtls_server *server, dtls_options *server_options);
/**
 * Starts the server side of a handshake on `udp` (normally taken from a UDPServer) and returns the
 * new DTLS peer (free with dtls_peer_free()). Keep it only if its status is HANDSHAKING: a first
 * ClientHello without a valid cookie is answered with a HelloVerifyRequest and the returned peer is
 * DISCONNECTED, holding no state (and `udp` is closed so the client's next datagram is new).
 * Beyond Godot: from this call on, the UDPServer `udp` came from answers cookie-less ClientHellos
 * itself, statelessly, so its later connections arrive with a valid cookie and are HANDSHAKING at
 * once. A client that comes back on the address and port of a live peer (it restarted) becomes a new
 * connection, and the live peer ends DISCONNECTED with a reason saying the client reconnected. On a
 * `udp` connected with dtls_udp_connect_to_host (no UDPServer) the peer ends the same way and the new
 * ClientHello stays queued in `udp`: call dtls_server_take_connection(server, udp) again for the new
 * session. A peer beyond the handshake limits (dtls_server_set_handshake_limits) is returned in
 * DTLS_STATUS_ERROR. See docs/BEYOND_GODOT.md, "The front door".
 * NULL for a bad handle, a server that is not set up or stopped, a udp peer that is not connected,
 * or one that another dtls_peer's session runs over already (a second take_connection with the same
 * udp: refused, with the reason in dtls_last_error_message(); the first handshake goes on).
 */
DTLS_API dtls_peer *dtls_server_take_connection(dtls_server *server, dtls_udp *udp);
/** Forgets the identity (not the keys); take_connection fails until the next setup. */
DTLS_API dtls_error dtls_server_stop(dtls_server *server);
/**
 * Beyond Godot: runs this server's handshakes on `threads` worker threads of its own. 0 (the default)
 * keeps Godot's behaviour, every handshake step inside the caller's dtls_peer_poll(); N >= 1 starts N
 * workers (at most 64); -1 one per core. With workers, dtls_server_take_connection still answers the
 * cookie exchange at once (the peer is HANDSHAKING or not kept, as without); every later handshake
 * step (public-key work, flights, retransmissions) runs on a worker, dtls_peer_poll() returns at once,
 * and the status becomes CONNECTED or an error at the first poll after the worker is done. Connected
 * peers are driven by the caller's thread alone. Workers run at a lower scheduling priority (nice)
 * than the calling thread (dtls_server_set_handshake_threads_nice). A worker ends a handshake as the caller's poll would, with the same status
 * and message: the handshake deadline (dtls_server_set_handshake_limits), ICMP refusals (a peer over a
 * udp peer of its own), a client that reconnected. dtls_udp_server_stop() (or freeing the UDPServer)
 * makes each peer whose handshake is on a worker DISCONNECTED at its next dtls_peer_poll(). Freeing the
 * server or a peer while its handshake is on a worker is safe: handshakes already there finish (or end
 * with their peer), then the threads exit.
 * \return DTLS_OK; DTLS_ERR_INVALID_PARAMETER for a bad handle or a count outside -1...64;
 *         DTLS_ERR_OUT_OF_MEMORY when no thread could be started.
 */
DTLS_API dtls_error dtls_server_set_handshake_threads(dtls_server *server, int32_t threads);
/**
 * Beyond Godot: how much nicer (Linux nice) than the thread that starts them the handshake threads run.
 * 10, the default, lets a game loop on a machine with few cores keep its ticks while a join storm's
 * handshakes wait; 0 runs them at that thread's priority, for a server loop with no tick to keep (one
 * that only reads and echoes, as `packetdtls-cli serve`), so that other busy processes do not starve its
 * handshakes. Threads already running are restarted with the new value.
 * \return DTLS_OK; DTLS_ERR_INVALID_PARAMETER for a bad handle or a value outside 0...19.
 */
DTLS_API dtls_error dtls_server_set_handshake_threads_nice(dtls_server *server, int32_t increment);

/**
 * Beyond Godot: bounds the handshakes in flight. A handshake holds a place from the moment its
 * ClientHello with a valid cookie is accepted (pending in a UDPServer, or taken) until it completes,
 * fails or its peer is freed. `max_in_flight` caps them in all (default 512), `max_per_address` per
 * client address, any port (default 128); a verified ClientHello beyond a cap is dropped (the client
 * retransmits), and take_connection on a connected udp peer beyond a cap returns a peer in
 * DTLS_STATUS_ERROR that says so. `deadline_ms` (default 20000) ends a server-side handshake not
 * complete that long after it was taken in DTLS_STATUS_ERROR ("handshake deadline: ..."), long before
 * the idle timeout. 0 = no cap / no deadline. Applies to handshakes that start from now on.
 * \return DTLS_OK; DTLS_ERR_INVALID_PARAMETER for a bad handle or a negative value (nothing changes).
 */
DTLS_API dtls_error dtls_server_set_handshake_limits(dtls_server *server, int32_t max_in_flight,
                                                     int32_t max_per_address, int32_t deadline_ms);
/** The limits in force; each out pointer may be NULL. DTLS_ERR_INVALID_PARAMETER for a bad handle. */
DTLS_API dtls_error dtls_server_get_handshake_limits(dtls_server *server, int32_t *max_in_flight,
                                                     int32_t *max_per_address, int32_t *deadline_ms);
/** Handshakes holding a place now (see dtls_server_set_handshake_limits); -1 for a bad handle. */
DTLS_API int32_t dtls_server_get_handshakes_in_flight(dtls_server *server);

/* MARK: - Beyond Godot: pre-shared keys, ALPN, pinning, client certificates, CRLs, resumption */

/** How a server asks clients for certificates (dtls_options_set_client_certificate_mode). */
typedef enum DTLS_CLOSED_ENUM DTLS_SWIFT_NAME(DTLSClientCertificateMode) dtls_client_cert_mode {
    DTLS_CLIENT_CERT_NONE DTLS_SWIFT_NAME(none) = 0,    /**< ask for none (the default) */
    DTLS_CLIENT_CERT_REQUEST DTLS_SWIFT_NAME(request) = 1, /**< ask; clients without one still connect */
    DTLS_CLIENT_CERT_REQUIRE DTLS_SWIFT_NAME(require) = 2, /**< ask and insist on a valid one */
} dtls_client_cert_mode;

/**
 * Client options that authenticate with a pre-shared key (ECDHE-PSK and PSK suites, AEAD only) instead
 * of certificates. `identity` 1..128 bytes, key 1..32 bytes (copied). NULL on bad input (see the message).
 */
DTLS_API dtls_options *dtls_options_client_psk(const char *identity, const uint8_t *key, size_t key_len);
/** Server options for PSK clients only (no certificate); add identities with dtls_options_add_psk(). */
DTLS_API dtls_options *dtls_options_server_psk(void);
/** Lets a server accept `identity` with `key`; on certificate server options it adds PSK suites too. */
DTLS_API dtls_error dtls_options_add_psk(dtls_options *options, const char *identity, const uint8_t *key,
                                         size_t key_len);
/** ALPN protocols (each 1..255 bytes, at most 16) offered by a client or accepted by a server, in order. Copied. */
DTLS_API dtls_error dtls_options_set_alpn_protocols(dtls_options *options, const char *const *protocols,
                                                    size_t count);
/**
 * Accepts the server only if the SHA-256 of its SubjectPublicKeyInfo (32 bytes) is one of the pins.
 * With a trusted chain both must hold; on dtls_options_client_unsafe(NULL) the pin alone admits it.
 * Client options only: on server options DTLS_ERR_INVALID_PARAMETER (pins would check nothing there).
 */
DTLS_API dtls_error dtls_options_pin_public_key(dtls_options *options, const uint8_t *sha256, size_t len);
/** Pins the public key of the leaf of `certificate`. */
DTLS_API dtls_error dtls_options_pin_certificate(dtls_options *options, dtls_cert *certificate);
/** The certificate (chain) and key a client presents when the server asks. Client options only. */
DTLS_API dtls_error dtls_options_set_client_certificate(dtls_options *options, dtls_key *key, dtls_cert *certificate);
/**
 * Makes a server request or require client certificates issued by `authorities`. Server options only.
 * REQUIRE together with dtls_options_add_psk() is refused when the server starts (a PSK handshake
 * carries no certificate).
 */
DTLS_API dtls_error dtls_options_set_client_certificate_mode(dtls_options *options, dtls_client_cert_mode mode,
                                                             dtls_cert *authorities);
/** Checks peer certificates against the CRLs in a PEM or DER file. DTLS_ERR_PARSE_ERROR when none parses. */
DTLS_API dtls_error dtls_options_load_crl(dtls_options *options, const char *path);
/** As dtls_options_load_crl() from PEM text. */
DTLS_API dtls_error dtls_options_load_crl_from_string(dtls_options *options, const char *pem);
/**
 * Narrows or reorders the cipher suites, by IANA name ("TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256").
 * Only PacketDTLS's AEAD suites are accepted (ECDHE-ECDSA/RSA with ChaCha20-Poly1305 or AES-GCM, and the
 * PSK ones), and the opt-in AES-CCM suites of constrained devices and CoAP, offered only when named here:
 * TLS_PSK_WITH_AES_{128,256}_CCM[_8] and TLS_ECDHE_ECDSA_WITH_AES_{128,256}_CCM[_8] (CCM_8: 8-byte tag).
 * count 0 restores the default order. Copied. A suite the options can't authenticate is refused
 * when the session or server starts (a PSK suite without a pre-shared key, a certificate suite on a
 * PSK-only server); certificate suites chosen for a PSK client are verified as dtls_options_client() does.
 */
DTLS_API dtls_error dtls_options_set_cipher_suites(dtls_options *options, const char *const *names, size_t count);
/** Whether a server issues session tickets so clients can resume (default on; keys rotate daily). */
DTLS_API dtls_error dtls_options_set_session_tickets(dtls_options *options, bool enabled);
/**
 * Whether handshakes must agree on the extended master secret (RFC 7627). Default true on both
 * sides: a peer without it is refused with a handshake_failure alert and a sentence saying why.
 * false admits old peers (EMS is still offered and used when they can), at the cost of the
 * triple-handshake protection for their sessions.
 */
DTLS_API dtls_error dtls_options_set_extended_master_secret_required(dtls_options *options, bool required);
/**
 * Appends each session's secrets to `path` (NULL or "" = off) in the NSS key log format that
 * SSLKEYLOGFILE names, so Wireshark or tshark can decrypt a capture. Opened here, once, without
 * following a symlink, created mode 0600: DTLS_ERR_FILE_CANT_OPEN when it can't be opened for
 * appending, DTLS_ERR_FILE_NO_PERMISSION when it exists readable by others or owned by another user
 * (the log is then off).
 */
DTLS_API dtls_error dtls_options_set_key_log_file(dtls_options *options, const char *path);

/** SHA-256 of the leaf certificate's SubjectPublicKeyInfo (32 bytes), the value pins compare. */
DTLS_API dtls_error dtls_cert_get_public_key_sha256(dtls_cert *cert, uint8_t *buf, size_t cap, size_t *out_len);

/** A client's saved session (master secret and ticket), for an abbreviated handshake later. */
typedef struct dtls_session dtls_session;
/** An empty session object. Free with dtls_session_free(); the secret is zeroized. */
DTLS_API dtls_session *dtls_session_new(void);
/** Drops the caller's reference; the secret is zeroized once no peer holds it. NULL is ignored. */
DTLS_API void dtls_session_free(dtls_session *session);
/** The session of a CONNECTED client, as a new handle, or NULL. */
DTLS_API dtls_session *dtls_peer_get_session(dtls_peer *peer);
/** Offers `session` (NULL = none) on this peer's next connect_to_peer. An internal reference is kept. */
DTLS_API dtls_error dtls_peer_set_session(dtls_peer *peer, dtls_session *session);
/** True when the last handshake resumed a saved session. */
DTLS_API bool dtls_peer_is_session_resumed(dtls_peer *peer);

/** The ALPN protocol both ends agreed on ("" when none). Returns the length needed. */
DTLS_API size_t dtls_peer_get_alpn_protocol(dtls_peer *peer, char *buf, size_t cap);
/** The peer's certificate chain while CONNECTED, as a new handle; NULL when it sent none. */
DTLS_API dtls_cert *dtls_peer_get_peer_certificate(dtls_peer *peer);
/** mbedTLS's verification flags (MBEDTLS_X509_BADCERT_*) for the peer's certificate; 0 = fine or unchecked. */
DTLS_API uint32_t dtls_peer_get_verify_flags(dtls_peer *peer);
/** The flags above as sentences separated by "; " ("" when none). Returns the length needed. */
DTLS_API size_t dtls_peer_get_verify_text(dtls_peer *peer, char *buf, size_t cap);
/** The description of the last fatal alert the peer sent (RFC 5246 numbers), -1 when none. */
DTLS_API int dtls_peer_get_last_alert(dtls_peer *peer);

/**
 * Sends a keepalive whenever this peer has sent nothing for `interval_ms` (0 = off), in the running
 * session and the ones after it, whatever its options say (see dtls_options_set_keepalive_ms). Beyond Godot.
 */
DTLS_API dtls_error dtls_peer_set_keepalive_ms(dtls_peer *peer, uint32_t interval_ms);

/** Traffic and handshake figures of a peer's current (or last) session. Append-only. */
typedef struct dtls_peer_stats {
    uint64_t packets_sent;              /**< application packets put */
    uint64_t packets_received;          /**< application packets decrypted */
    uint64_t bytes_sent;                /**< application payload bytes put */
    uint64_t bytes_received;            /**< application payload bytes decrypted */
    uint64_t datagrams_sent;            /**< datagrams sent, handshake included */
    uint64_t datagrams_received;        /**< datagrams taken in, handshake and garbage included */
    uint64_t records_dropped_bad_mac;   /**< records whose MAC did not verify (forged or corrupted) */
    uint64_t datagrams_oversized;       /**< datagrams too large for a record, discarded */
    uint64_t handshake_retransmissions; /**< flights sent again after their timer ran out */
    uint64_t handshake_duration_ms;     /**< connect (or accept) to CONNECTED; 0 until then */
    uint64_t keepalives_sent;           /**< keepalive records sent (answers and refusal probes included) */
    uint64_t keepalives_received;       /**< keepalives received (duplicates of records already accepted) */
    uint64_t datagrams_dropped;         /**< dropped below DTLS: its UDPServer peer's queue stayed full */
    uint64_t hibernations;              /**< times the session hibernated after a quiet spell */
    uint64_t wakes;                     /**< times a hibernated session woke again */
} dtls_peer_stats;

/**
 * Fills *out with the peer's figures. `size` is sizeof(dtls_peer_stats) as the caller compiled it, so
 * an older caller gets the fields it knows. DTLS_ERR_INVALID_PARAMETER for NULL out or a size too small.
 */
DTLS_API dtls_error dtls_peer_get_stats(dtls_peer *peer, dtls_peer_stats *out, size_t size);
/* MARK: - Beyond Godot: fleets and restarts (shared server keys, port reuse; docs/BEYOND_GODOT.md) */

/**
 * Makes the cookie and session-ticket keys in the key file at `path` (written by
 * dtls_server_save_keys() or `packetdtls-cli gen-keys`) this server's, at once, also when it is
 * already set up. Servers that load one file accept each other's cookies and resume each other's
 * sessions; a restarted server resumes the sessions it made before.
 * \return DTLS_OK; DTLS_ERR_INVALID_PARAMETER for NULL or a file that cannot be opened;
 *         DTLS_ERR_FILE_UNRECOGNIZED for a file that is not a key file (or of a newer version);
 *         DTLS_ERR_FILE_CORRUPT for a short, long or corrupt one. The keys are then unchanged.
 */
DTLS_API dtls_error dtls_server_load_keys(dtls_server *server, const char *path);
/**
 * Writes the server's current and previous keys to `path`, mode 0600, replacing it whole (a new
 * file renamed over it). From then on the server rotates its keys only when told to.
 * \return DTLS_OK; DTLS_ERR_INVALID_PARAMETER for NULL, a directory, or a folder where no file can be
 *         made; DTLS_ERR_FILE_CANT_WRITE when writing fails (see the message).
 */
DTLS_API dtls_error dtls_server_save_keys(dtls_server *server, const char *path);
/**
 * New random keys become current; the current ones stay accepted as the previous (their tickets
 * still resume), and the previous ones are forgotten (their tickets get a full handshake).
 */
DTLS_API dtls_error dtls_server_rotate_keys(dtls_server *server);
/**
 * Off by default. When on, the next dtls_udp_server_listen() sets SO_REUSEPORT, so several servers
 * of one user can listen on one port and the kernel spreads clients over them; they should share
 * one key file. DTLS_ERR_ALREADY_IN_USE while listening.
 */
DTLS_API dtls_error dtls_udp_server_set_reuse_port(dtls_udp_server *server, bool enabled);

/*
 * Send batching (beyond Godot, off by default). Off, every put_packet of a server's peer (a dtls_udp
 * it handed out, or a dtls_peer over one) is one sendto, out at once, as in Godot. On, those datagrams
 * (DTLS records, handshake flights and plain UDP alike) are copied into one queue per server and leave
 * together, in the order they were put, in one sendmmsg per up to 512: at dtls_udp_server_flush_sends(),
 * at the next dtls_udp_server_poll() (before it reads), when the queue is full, when batching is turned
 * off, and when the server stops. A game server calls dtls_udp_server_flush_sends() once a tick after
 * its last put_packet. Nothing is lost silently: a full socket send buffer keeps the rest queued for the
 * next flush (a put_packet that finds the queue full and cannot flush gives DTLS_ERR_BUSY, as a direct
 * send to a full buffer does); a datagram the kernel refuses is dropped and counted in
 * dtls_udp_stats.datagrams_send_failed, and the flush reports it. Any thread.
 */
/**
 * Turns send batching on or off, at any time. Off sends what is queued first.
 * \return DTLS_OK; DTLS_ERR_BUSY when turning off and the send buffer is full (batching stays on, so
 *         nothing queued is overtaken: call again later); DTLS_FAILED when the kernel refused queued
 *         datagrams (counted; see dtls_last_error_message()); DTLS_ERR_INVALID_PARAMETER for a bad handle.
 */
DTLS_API dtls_error dtls_udp_server_set_send_batching(dtls_udp_server *server, bool enabled);
/** True while send batching is on; false for a bad handle. */
DTLS_API bool dtls_udp_server_is_send_batching(dtls_udp_server *server);
/**
 * Sends every queued datagram now, in order. DTLS_OK also when batching is off or nothing waits;
 * DTLS_ERR_BUSY when the send buffer filled (the rest stays queued); DTLS_FAILED when the kernel
 * refused some (dropped and counted; the message names the first); DTLS_ERR_UNCONFIGURED when not
 * listening; DTLS_ERR_INVALID_PARAMETER for a bad handle.
 */
DTLS_API dtls_error dtls_udp_server_flush_sends(dtls_udp_server *server);


/*
 * Hibernation (beyond Godot, on by default): a CONNECTED session with no traffic either way for a
 * while saves its state (a few hundred bytes, kept in wiped-on-free memory) and frees its mbedTLS
 * context and record buffers. The next datagram, put_packet, put_var, disconnect_from_peer, reading
 * the peer certificate or session, or the idle deadline wakes it; the remote end notices nothing and
 * callers see no change of status, packets, stats, ALPN or cipher suite. Default: after 10000 ms.
 */
/** Quiet milliseconds after which the peers this server makes from now on hibernate; 0 = never. */
DTLS_API dtls_error dtls_server_set_hibernate_after_ms(dtls_server *server, uint32_t ms);
/** Quiet milliseconds after which this peer's session hibernates; 0 = never (and wakes it now). */
DTLS_API dtls_error dtls_peer_set_hibernate_after_ms(dtls_peer *peer, uint32_t ms);
/** True while the peer's session is hibernated; false otherwise and for an invalid handle. */
DTLS_API bool dtls_peer_is_hibernated(dtls_peer *peer);
/* MARK: - Variant values: put_var / get_var (dtls_var) */

/*
 * Godot's PacketPeer.put_var() / get_var() carry one Variant per packet in Godot's binary
 * serialization format ("Binary serialization API" in Godot's documentation), so a C program can
 * exchange typed messages with a Godot game. A dtls_var holds one value: null, bool, int, float,
 * String, the vector/rect/transform/Color types, StringName, NodePath (its text), RID, an Object's
 * instance ID, Callable, Signal, Array, Dictionary (in insertion order) or a packed array.
 *
 * Type numbers differ between Godot 3.x and 4.x; every function that encodes or decodes takes
 * `godot_major` (3 or 4, anything else is DTLS_ERR_INVALID_PARAMETER). The put_var / get_var functions
 * also take 0: the peer's own setting (dtls_udp_set_godot_version(), 4 unless set). dtls_var_get_type() always
 * answers with Godot 4's numbers (dtls_var_type). A type Godot 3 lacks (Vector2i, StringName,
 * PackedInt64Array...) cannot be encoded for Godot 3 (DTLS_ERR_INVALID_PARAMETER).
 *
 * Values are copied in and out: dtls_var_array_get() and the dictionary readers return new handles
 * holding copies, and appending copies the item in. Objects are never built from the network: an
 * Object sent as an instance ID reads as DTLS_VAR_OBJECT with the ID in dtls_var_get_int(); a full
 * object is refused with DTLS_ERR_UNAUTHORIZED. Typed Arrays and Dictionaries (Godot 4) decode as
 * untyped ones. Decoding bounds every length by the bytes received and nesting at 256 levels.
 */

/** A new null value. Free every dtls_var with dtls_var_free(). NULL only when the handle table is full. */
DTLS_API dtls_var *dtls_var_new(void);
/**
 * The empty value of `type`: false, 0, 0.0, "", a zero vector, an empty Array, Dictionary or packed
 * array, an Object ID of 0. NULL for a number that is not a dtls_var_type.
 */
DTLS_API dtls_var *dtls_var_new_of_type(dtls_var_type type);
/** A bool. NULL only when the handle table is full. */
DTLS_API dtls_var *dtls_var_new_bool(bool value);
/** An int (Godot's 64-bit int). NULL only when the handle table is full. */
DTLS_API dtls_var *dtls_var_new_int(int64_t value);
/** A float (Godot's 64-bit float). NULL only when the handle table is full. */
DTLS_API dtls_var *dtls_var_new_float(double value);
/** A String holding a copy of the NUL-terminated UTF-8 `text` (invalid UTF-8 is repaired as U+FFFD); NULL for NULL. */
DTLS_API dtls_var *dtls_var_new_string(const char *text);
/** A PackedByteArray holding a copy of `len` bytes; NULL when data is NULL with len > 0. */
DTLS_API dtls_var *dtls_var_new_bytes(const uint8_t *data, size_t len);
/** An empty Array; fill it with dtls_var_array_append(). */
DTLS_API dtls_var *dtls_var_new_array(void);
/** An empty Dictionary; fill it with dtls_var_dict_set(). */
DTLS_API dtls_var *dtls_var_new_dictionary(void);
/**
 * A vector, rect, transform or Color from its `count` numbers, in Godot's order: Vector2/2i (x, y),
 * Rect2/2i (position x, y, size x, y), Vector3/3i, Vector4/4i, Plane (normal x, y, z, d), Quaternion
 * (x, y, z, w), AABB (position, size), Basis (9, row by row), Transform2D (6: x axis, y axis,
 * origin), Transform3D (12: basis rows, origin), Projection (16, column by column), Color (r, g, b, a).
 * The integer types need whole numbers in the int32 range. NULL (with the reason) for another type,
 * a wrong count, or a bad number.
 */
DTLS_API dtls_var *dtls_var_new_components(dtls_var_type type, const double *values, size_t count);
/** Drops the handle. NULL is fine. */
DTLS_API void dtls_var_free(dtls_var *var);

/** The value's type, with Godot 4's numbers; DTLS_VAR_NIL for a bad handle. */
DTLS_API dtls_var_type dtls_var_get_type(dtls_var *var);
/** The bool; false (with a message) for another type. */
DTLS_API bool dtls_var_get_bool(dtls_var *var);
/** The int, or the instance ID of an OBJECT, or the id of an RID; 0 (with a message) for another type. */
DTLS_API int64_t dtls_var_get_int(dtls_var *var);
/** The float (an int converts); 0.0 (with a message) for another type. */
DTLS_API double dtls_var_get_float(dtls_var *var);
/**
 * Writes the text of a String, StringName, NodePath or a Signal's name into buf, snprintf-style;
 * returns the length needed. "" (returning 0) for another type.
 */
DTLS_API size_t dtls_var_get_string(dtls_var *var, char *buf, size_t cap);
/** Copies a PackedByteArray's bytes into (buf, cap, *out_len). DTLS_ERR_INVALID_PARAMETER for another type. */
DTLS_API dtls_error dtls_var_get_bytes(dtls_var *var, uint8_t *buf, size_t cap, size_t *out_len);
/**
 * Writes up to `cap` numbers of a vector, rect, transform or Color (the order of
 * dtls_var_new_components()) into buf (NULL with cap 0 asks the count); returns how many it has,
 * 0 for another type.
 */
DTLS_API size_t dtls_var_get_components(dtls_var *var, double *buf, size_t cap);

/** The number of elements of an Array or a packed array; 0 for another type. */
DTLS_API size_t dtls_var_array_size(dtls_var *var);
/**
 * Element `index` of an Array or packed array as a new handle holding a copy (a packed array's
 * bytes and ints read as DTLS_VAR_INT, its floats as DTLS_VAR_FLOAT, its vectors as vectors, its
 * strings as DTLS_VAR_STRING, its colors as DTLS_VAR_COLOR). NULL out of range or for another type.
 */
DTLS_API dtls_var *dtls_var_array_get(dtls_var *var, size_t index);
/**
 * Appends a copy of `item` to an Array, or to a packed array when it is an element of that kind
 * (an int 0..255 to a PackedByteArray, an int or float to a float array, a String to a
 * PackedStringArray...). `item` stays the caller's.
 * \return DTLS_OK; DTLS_ERR_INVALID_PARAMETER for a bad handle or an item that does not fit.
 */
DTLS_API dtls_error dtls_var_array_append(dtls_var *var, dtls_var *item);
/** The number of entries of a Dictionary; 0 for another type. */
DTLS_API size_t dtls_var_dict_size(dtls_var *var);
/** The key of entry `index` (insertion order) as a new handle; NULL out of range or for another type. */
DTLS_API dtls_var *dtls_var_dict_key_at(dtls_var *var, size_t index);
/** The value of entry `index` as a new handle; NULL out of range or for another type. */
DTLS_API dtls_var *dtls_var_dict_value_at(dtls_var *var, size_t index);
/** The value stored under a key equal to `key` (same type and value) as a new handle; NULL when absent. */
DTLS_API dtls_var *dtls_var_dict_get(dtls_var *var, dtls_var *key);
/**
 * Stores copies of `key` and `value`: an existing equal key keeps its place and gets the new value,
 * a new key goes last. DTLS_ERR_INVALID_PARAMETER for a bad handle or a `var` that is not a Dictionary.
 */
DTLS_API dtls_error dtls_var_dict_set(dtls_var *var, dtls_var *key, dtls_var *value);

/**
 * Encodes the value as Godot `godot_major` (3 or 4) encodes it into (buf, cap, *out_len): what
 * put_var sends and Godot's var_to_bytes() returns.
 * \return DTLS_OK; DTLS_ERR_PARAMETER_RANGE_ERROR when cap is too small (*out_len is the size
 *         needed); DTLS_ERR_INVALID_PARAMETER for a bad handle or godot_major, or a type that
 *         version lacks; DTLS_ERR_OUT_OF_MEMORY when nesting exceeds 256 levels.
 */
DTLS_API dtls_error dtls_var_encode(dtls_var *var, int godot_major, uint8_t *buf, size_t cap, size_t *out_len);
/**
 * Decodes the value at the start of `len` bytes (Godot's bytes_to_var(); bytes after the value
 * are ignored, as get_var ignores them) into a new handle. NULL on malformed, truncated or too deep
 * input, a full Object, or a bad godot_major; dtls_last_error_message() says why.
 */
DTLS_API dtls_var *dtls_var_decode(const uint8_t *data, size_t len, int godot_major);

/**
 * Godot's put_var(var, full_objects): encodes the value for `godot_major` (0 = the peer's setting)
 * and sends it as one packet with dtls_udp_put_packet(). `full_objects` is accepted for Godot's signature; a dtls_var
 * holds instance IDs only, which are sent as IDs either way.
 * \return put_packet's result; DTLS_ERR_OUT_OF_MEMORY when the encoding exceeds
 *         encode_buffer_max_size; DTLS_ERR_INVALID_PARAMETER for a bad handle or godot_major.
 */
DTLS_API dtls_error dtls_udp_put_var(dtls_udp *udp, dtls_var *var, bool full_objects, int godot_major);
/**
 * Godot's get_var(allow_objects): takes the next packet and decodes it for `godot_major` (0 = the
 * peer's setting). *out_var gets a new handle (free it with dtls_var_free()), or NULL on any failure.
 * Unlike Godot, the packet must hold exactly one value: bytes after it are DTLS_ERR_INVALID_DATA, so a
 * value encoded with the other Godot's numbers is an error with the reason (naming the version it
 * reads as), never a value of the wrong type.
 * \return DTLS_OK; DTLS_ERR_UNAVAILABLE when nothing is queued; DTLS_ERR_INVALID_DATA for a packet
 *         that is not one valid encoding (it is consumed); DTLS_ERR_UNAUTHORIZED for a full Object
 *         (DTLS_ERR_UNAVAILABLE with allow_objects: this library cannot instantiate classes);
 *         DTLS_ERR_INVALID_PARAMETER for a bad handle, godot_major or a NULL out_var.
 */
DTLS_API dtls_error dtls_udp_get_var(dtls_udp *udp, bool allow_objects, int godot_major, dtls_var **out_var);
/**
 * Godot's encode_buffer_max_size: the largest encoding put_var sends (default 8388608). Rounded up
 * to a power of two. DTLS_ERR_INVALID_PARAMETER (and no change) below 1024 or above 256 MiB.
 */
DTLS_API dtls_error dtls_udp_set_encode_buffer_max_size(dtls_udp *udp, int max_size);
/** The limit set above; 0 for a bad handle. */
DTLS_API int dtls_udp_get_encode_buffer_max_size(dtls_udp *udp);
/** As dtls_udp_put_var(), over a DTLS peer (put_packet's DTLS_ERR_UNCONFIGURED when not connected). */
DTLS_API dtls_error dtls_peer_put_var(dtls_peer *peer, dtls_var *var, bool full_objects, int godot_major);
/** As dtls_udp_get_var(), from a DTLS peer's decrypted packets. */
DTLS_API dtls_error dtls_peer_get_var(dtls_peer *peer, bool allow_objects, int godot_major, dtls_var **out_var);
/** As dtls_udp_set_encode_buffer_max_size(). */
DTLS_API dtls_error dtls_peer_set_encode_buffer_max_size(dtls_peer *peer, int max_size);
/** As dtls_udp_get_encode_buffer_max_size(). */
DTLS_API int dtls_peer_get_encode_buffer_max_size(dtls_peer *peer);
/**
 * The numbering put_var / get_var use when given godot_major 0 (beyond Godot): 3 or 4 (default 4),
 * per peer. DTLS_ERR_INVALID_PARAMETER (no change) for another number. Not implied by the 3.x-style
 * calls (docs/BEYOND_GODOT.md says why).
 */
DTLS_API dtls_error dtls_udp_set_godot_version(dtls_udp *udp, int godot_major);
/** The peer's numbering, 3 or 4; 0 for a bad handle. */
DTLS_API int dtls_udp_get_godot_version(dtls_udp *udp);
/** As dtls_udp_set_godot_version(), for a DTLS peer. */
DTLS_API dtls_error dtls_peer_set_godot_version(dtls_peer *peer, int godot_major);
/** As dtls_udp_get_godot_version(). */
DTLS_API int dtls_peer_get_godot_version(dtls_peer *peer);

#ifdef __cplusplus
}
#endif

#endif /* PACKETDTLS_H */
