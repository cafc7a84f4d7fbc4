/*
 * packetdtls.hpp — the C++17 interface of PacketDTLS.
 *
 * Thin, header-only RAII owners over the C API in packetdtls.h. Every class owns one C handle,
 * is move-only, and frees its handle in its destructor. Names, parameters and defaults are
 * Godot's (PacketPeerUDP, UDPServer, PacketPeerDTLS, DTLSServer, CryptoKey, X509Certificate,
 * TLSOptions, Crypto), so the GDScript examples of Godot's documentation translate line by line.
 * Variant carries put_var / get_var values; DTLSSession, PeerStats and the functions marked "Beyond
 * Godot" wrap what packetdtls.h adds to Godot (resumption, PSK, ALPN, pinning, client certificates...).
 *
 * Conventions:
 * - A default-constructed owner holds a new object (as Godot's `X.new()`); an owner constructed
 *   from `nullptr`, moved from, or returned empty by a factory holds no handle and tests false.
 *   An empty owner passed where Godot takes an optional object (a trusted chain, options) means
 *   "null" there.
 * - Results are Error values, never exceptions. Functions that return a std::string or a
 *   std::vector allocate and may throw std::bad_alloc; everything else is noexcept.
 * - `get()` gives the raw C handle for mixing with the C API; `release()` gives it up (the caller
 *   then frees it with the matching dtls_X_free).
 * - The C library reference-counts objects inside, so an owner may be destroyed while another
 *   object still uses what it owned (a UDP peer inside a DTLS peer, a key inside options).
 */
#ifndef PACKETDTLS_HPP
#define PACKETDTLS_HPP

#include "packetdtls.h"

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace packetdtls {

// MARK: - Errors and status

/// Godot's \@GlobalScope Error, with Godot's numbers (the values of the C enum dtls_error).
enum class Error : int {
    Ok = DTLS_OK,
    Failed = DTLS_FAILED,
    Unavailable = DTLS_ERR_UNAVAILABLE,
    Unconfigured = DTLS_ERR_UNCONFIGURED,
    Unauthorized = DTLS_ERR_UNAUTHORIZED,
    ParameterRangeError = DTLS_ERR_PARAMETER_RANGE_ERROR,
    OutOfMemory = DTLS_ERR_OUT_OF_MEMORY,
    FileNotFound = DTLS_ERR_FILE_NOT_FOUND,
    FileBadDrive = DTLS_ERR_FILE_BAD_DRIVE,
    FileBadPath = DTLS_ERR_FILE_BAD_PATH,
    FileNoPermission = DTLS_ERR_FILE_NO_PERMISSION,
    FileAlreadyInUse = DTLS_ERR_FILE_ALREADY_IN_USE,
    FileCantOpen = DTLS_ERR_FILE_CANT_OPEN,
    FileCantWrite = DTLS_ERR_FILE_CANT_WRITE,
    FileCantRead = DTLS_ERR_FILE_CANT_READ,
    FileUnrecognized = DTLS_ERR_FILE_UNRECOGNIZED,
    FileCorrupt = DTLS_ERR_FILE_CORRUPT,
    FileMissingDependencies = DTLS_ERR_FILE_MISSING_DEPENDENCIES,
    FileEof = DTLS_ERR_FILE_EOF,
    CantOpen = DTLS_ERR_CANT_OPEN,
    CantCreate = DTLS_ERR_CANT_CREATE,
    QueryFailed = DTLS_ERR_QUERY_FAILED,
    AlreadyInUse = DTLS_ERR_ALREADY_IN_USE,
    Locked = DTLS_ERR_LOCKED,
    Timeout = DTLS_ERR_TIMEOUT,
    CantConnect = DTLS_ERR_CANT_CONNECT,
    CantResolve = DTLS_ERR_CANT_RESOLVE,
    ConnectionError = DTLS_ERR_CONNECTION_ERROR,
    CantAcquireResource = DTLS_ERR_CANT_ACQUIRE_RESOURCE,
    CantFork = DTLS_ERR_CANT_FORK,
    InvalidData = DTLS_ERR_INVALID_DATA,
    InvalidParameter = DTLS_ERR_INVALID_PARAMETER,
    AlreadyExists = DTLS_ERR_ALREADY_EXISTS,
    DoesNotExist = DTLS_ERR_DOES_NOT_EXIST,
    DatabaseCantRead = DTLS_ERR_DATABASE_CANT_READ,
    DatabaseCantWrite = DTLS_ERR_DATABASE_CANT_WRITE,
    CompilationFailed = DTLS_ERR_COMPILATION_FAILED,
    MethodNotFound = DTLS_ERR_METHOD_NOT_FOUND,
    LinkFailed = DTLS_ERR_LINK_FAILED,
    ScriptFailed = DTLS_ERR_SCRIPT_FAILED,
    CyclicLink = DTLS_ERR_CYCLIC_LINK,
    InvalidDeclaration = DTLS_ERR_INVALID_DECLARATION,
    DuplicateSymbol = DTLS_ERR_DUPLICATE_SYMBOL,
    ParseError = DTLS_ERR_PARSE_ERROR,
    Busy = DTLS_ERR_BUSY,
    Skip = DTLS_ERR_SKIP,
    Help = DTLS_ERR_HELP,
    Bug = DTLS_ERR_BUG,
    PrinterOnFire = DTLS_ERR_PRINTER_ON_FIRE,
};

/// PacketPeerDTLS.Status, with Godot's numbers (the values of the C enum dtls_status).
enum class Status : int {
    Disconnected = DTLS_STATUS_DISCONNECTED,
    Handshaking = DTLS_STATUS_HANDSHAKING,
    Connected = DTLS_STATUS_CONNECTED,
    Error = DTLS_STATUS_ERROR,
    ErrorHostnameMismatch = DTLS_STATUS_ERROR_HOSTNAME_MISMATCH,
};

/// Crypto.HashType, with Godot's numbers.
enum class HashType : int {
    Md5 = DTLS_HASH_MD5,
    Sha1 = DTLS_HASH_SHA1,
    Sha256 = DTLS_HASH_SHA256,
};

/// The type of a Variant: Godot 4's Variant.Type numbers, whichever Godot version a value is encoded for.
enum class VariantType : int {
    Nil = DTLS_VAR_NIL,
    Bool = DTLS_VAR_BOOL,
    Int = DTLS_VAR_INT,
    Float = DTLS_VAR_FLOAT,
    String = DTLS_VAR_STRING,
    Vector2 = DTLS_VAR_VECTOR2,
    Vector2i = DTLS_VAR_VECTOR2I,
    Rect2 = DTLS_VAR_RECT2,
    Rect2i = DTLS_VAR_RECT2I,
    Vector3 = DTLS_VAR_VECTOR3,
    Vector3i = DTLS_VAR_VECTOR3I,
    Vector4 = DTLS_VAR_VECTOR4,
    Vector4i = DTLS_VAR_VECTOR4I,
    Transform2D = DTLS_VAR_TRANSFORM2D,
    Plane = DTLS_VAR_PLANE,
    Quaternion = DTLS_VAR_QUATERNION,
    Aabb = DTLS_VAR_AABB,
    Basis = DTLS_VAR_BASIS,
    Transform3D = DTLS_VAR_TRANSFORM3D,
    Projection = DTLS_VAR_PROJECTION,
    Color = DTLS_VAR_COLOR,
    StringName = DTLS_VAR_STRING_NAME,
    NodePath = DTLS_VAR_NODE_PATH,
    Rid = DTLS_VAR_RID,
    Object = DTLS_VAR_OBJECT,
    Callable = DTLS_VAR_CALLABLE,
    Signal = DTLS_VAR_SIGNAL,
    Dictionary = DTLS_VAR_DICTIONARY,
    Array = DTLS_VAR_ARRAY,
    PackedByteArray = DTLS_VAR_PACKED_BYTE_ARRAY,
    PackedInt32Array = DTLS_VAR_PACKED_INT32_ARRAY,
    PackedInt64Array = DTLS_VAR_PACKED_INT64_ARRAY,
    PackedFloat32Array = DTLS_VAR_PACKED_FLOAT32_ARRAY,
    PackedFloat64Array = DTLS_VAR_PACKED_FLOAT64_ARRAY,
    PackedStringArray = DTLS_VAR_PACKED_STRING_ARRAY,
    PackedVector2Array = DTLS_VAR_PACKED_VECTOR2_ARRAY,
    PackedVector3Array = DTLS_VAR_PACKED_VECTOR3_ARRAY,
    PackedColorArray = DTLS_VAR_PACKED_COLOR_ARRAY,
    PackedVector4Array = DTLS_VAR_PACKED_VECTOR4_ARRAY,
};

/// How a server asks clients for certificates (beyond Godot; TLSOptions::set_client_certificate_mode()).
enum class ClientCertificateMode : int {
    None = DTLS_CLIENT_CERT_NONE,       ///< ask for none (the default)
    Request = DTLS_CLIENT_CERT_REQUEST, ///< ask; clients without one still connect
    Require = DTLS_CLIENT_CERT_REQUIRE, ///< ask and insist on a valid one
};

static_assert(static_cast<int>(Error::Ok) == 0 && static_cast<int>(Error::PrinterOnFire) == 48,
              "Error must keep Godot's numbers");
static_assert(static_cast<int>(Status::ErrorHostnameMismatch) == 4, "Status must keep Godot's numbers");
static_assert(static_cast<int>(VariantType::PackedVector4Array) == 38, "VariantType must keep Godot 4's numbers");

constexpr dtls_error to_c(Error error) noexcept { return static_cast<dtls_error>(error); }
constexpr dtls_status to_c(Status status) noexcept { return static_cast<dtls_status>(status); }
constexpr dtls_hash_type to_c(HashType type) noexcept { return static_cast<dtls_hash_type>(type); }
constexpr dtls_var_type to_c(VariantType type) noexcept { return static_cast<dtls_var_type>(type); }
constexpr dtls_client_cert_mode to_c(ClientCertificateMode mode) noexcept {
    return static_cast<dtls_client_cert_mode>(mode);
}
constexpr Error to_error(dtls_error error) noexcept { return static_cast<Error>(error); }
constexpr Status to_status(dtls_status status) noexcept { return static_cast<Status>(status); }
constexpr VariantType to_variant_type(dtls_var_type type) noexcept { return static_cast<VariantType>(type); }
constexpr int to_int(Error error) noexcept { return static_cast<int>(error); }
constexpr int to_int(Status status) noexcept { return static_cast<int>(status); }

/// Godot's name of an error ("ERR_INVALID_PARAMETER"); static storage.
inline const char *error_string(Error error) noexcept { return dtls_error_string(to_c(error)); }
/// Godot's name of a status ("STATUS_CONNECTED"); static storage.
inline const char *status_string(Status status) noexcept { return dtls_status_string(to_c(status)); }
/// The last failure of the calling thread as a sentence, copied ("" when nothing failed yet).
inline std::string last_error_message() { return std::string(dtls_last_error_message()); }
/// The library's run-time version number (compare with DTLS_VERSION_NUMBER).
inline std::uint32_t version_number() noexcept { return dtls_version_number(); }
/// The library's run-time version as text, with the mbedTLS version; static storage.
inline const char *version_string() noexcept { return dtls_version_string(); }

// MARK: - Byte views

/// A read-only view of bytes (C++17 has no std::span): from a pointer and size, a vector or a string.
class ByteView {
public:
    constexpr ByteView() noexcept = default;
    constexpr ByteView(const std::uint8_t *data, std::size_t size) noexcept : data_(data), size_(size) {}
    ByteView(const std::vector<std::uint8_t> &bytes) noexcept : data_(bytes.data()), size_(bytes.size()) {}
    ByteView(std::string_view text) noexcept
        : data_(reinterpret_cast<const std::uint8_t *>(text.data())), size_(text.size()) {}
    constexpr const std::uint8_t *data() const noexcept { return data_; }
    constexpr std::size_t size() const noexcept { return size_; }

private:
    const std::uint8_t *data_ = nullptr;
    std::size_t size_ = 0;
};

namespace detail {

/// Owns one C handle of type T, freed with Free. The base of every class below.
template <typename T, void (*Free)(T *)>
class Handle {
public:
    using handle_type = T;

    constexpr Handle() noexcept = default;
    explicit Handle(T *owned) noexcept : raw_(owned) {}
    ~Handle() { reset(); }
    Handle(const Handle &) = delete;
    Handle &operator=(const Handle &) = delete;
    Handle(Handle &&other) noexcept : raw_(other.release()) {}
    Handle &operator=(Handle &&other) noexcept {
        if (this != &other) reset(other.release());
        return *this;
    }

    /// The raw C handle (still owned here), or nullptr.
    T *get() const noexcept { return raw_; }
    /// Gives up ownership: the caller frees the returned handle.
    T *release() noexcept { return std::exchange(raw_, nullptr); }
    /// Frees the current handle (if any) and takes `owned` instead.
    void reset(T *owned = nullptr) noexcept {
        T *old = std::exchange(raw_, owned);
        if (old) Free(old);
    }
    explicit operator bool() const noexcept { return raw_ != nullptr; }

private:
    T *raw_ = nullptr;
};

/// A NUL-terminated copy of a string_view for the C API.
inline std::string c_string(std::string_view text) { return std::string(text); }

/// Reads an snprintf-style string out of a C function `fill(buf, cap) -> needed`.
template <typename Fill>
std::string read_string(Fill fill) {
    std::string out;
    std::size_t needed = fill(nullptr, 0);
    for (int attempt = 0; attempt < 4; ++attempt) {
        out.assign(needed + 1, '\0');
        std::size_t got = fill(&out[0], out.size());
        if (got <= needed) {
            out.resize(got);
            return out;
        }
        needed = got;  // It grew in between (another thread); try again with the new size.
    }
    out.resize(out.size() - 1);
    return out;
}

/// Reads a binary result out of a C function `fill(buf, cap, &len) -> dtls_error`, growing the buffer
/// when it reports DTLS_ERR_PARAMETER_RANGE_ERROR. Empty on failure, with the code in *error.
template <typename Fill>
std::vector<std::uint8_t> read_bytes(Fill fill, std::size_t first_guess, Error *error) {
    std::vector<std::uint8_t> out(first_guess);
    dtls_error result = DTLS_FAILED;
    for (int attempt = 0; attempt < 4; ++attempt) {
        std::size_t length = 0;
        result = fill(out.empty() ? nullptr : out.data(), out.size(), &length);
        if (result == DTLS_ERR_PARAMETER_RANGE_ERROR && length > out.size()) {
            out.resize(length);
            continue;
        }
        out.resize(result == DTLS_OK ? length : 0);
        break;
    }
    if (result != DTLS_OK) out.clear();
    if (error) *error = to_error(result);
    return out;
}

/// The (const char *const *, count) view of a list of strings that some C functions take. It points
/// into `texts`, so it lives no longer than the call it is made for.
class CStringArray {
public:
    explicit CStringArray(const std::vector<std::string> &texts) {
        pointers_.reserve(texts.size());
        for (const std::string &text : texts) pointers_.push_back(text.c_str());
    }
    const char *const *data() const noexcept { return pointers_.empty() ? nullptr : pointers_.data(); }
    std::size_t size() const noexcept { return pointers_.size(); }

private:
    std::vector<const char *> pointers_;
};

}  // namespace detail

// MARK: - Variant

/// The Godot major version whose type numbers put_var / get_var and encode / decode use unless told
/// otherwise: Godot 4, as Python's `godot_version=4`. Pass 3 to talk to a Godot 3 game.
constexpr int default_godot_major = 4;
/// Beyond Godot: the godot_major that put_var / get_var read as "this peer's set_godot_version()"
/// (4 unless set).
constexpr int peer_godot_major = 0;

/// Variant: one Godot value for put_var / get_var (Godot's binary serialization, var_to_bytes()).
///
/// Values are copied in and out: array_get() and the dictionary readers return new owners holding
/// copies, and array_append() / dict_set() store copies, so changing a Variant never changes another.
/// Objects are never built from the network: an Object arrives as its instance ID (get_int()).
class Variant : public detail::Handle<dtls_var, dtls_var_free> {
public:
    /// A new null value (Godot's `null`).
    Variant() noexcept : Handle(dtls_var_new()) {}
    /// An empty owner (no handle at all), which every function refuses: not Godot's null, that is Variant().
    Variant(std::nullptr_t) noexcept {}
    explicit Variant(dtls_var *owned) noexcept : Handle(owned) {}

    static Variant from_bool(bool value) noexcept { return Variant(dtls_var_new_bool(value)); }
    static Variant from_int(std::int64_t value) noexcept { return Variant(dtls_var_new_int(value)); }
    static Variant from_float(double value) noexcept { return Variant(dtls_var_new_float(value)); }
    /// A String of UTF-8 `text` (invalid UTF-8 becomes U+FFFD). Empty owner when `text` holds a NUL byte:
    /// the C API takes C strings and would cut the text there, and a silently shortened message is worse
    /// than a refused one.
    static Variant from_string(std::string_view text) {
        if (text.find('\0') != std::string_view::npos) return nullptr;
        return Variant(dtls_var_new_string(detail::c_string(text).c_str()));
    }
    /// A PackedByteArray holding a copy of `bytes`.
    static Variant from_bytes(ByteView bytes) noexcept {
        return Variant(dtls_var_new_bytes(bytes.data(), bytes.size()));
    }
    /// A vector, rect, transform, Plane, Quaternion, AABB, Basis, Projection or Color from its numbers in
    /// Godot's order (see dtls_var_new_components() in packetdtls.h). Empty owner for another type, a wrong
    /// count, or a non-whole number for an integer type (the reason is in last_error_message()).
    static Variant from_components(VariantType type, const std::vector<double> &values) noexcept {
        return Variant(dtls_var_new_components(to_c(type), values.empty() ? nullptr : values.data(), values.size()));
    }
    /// An empty Array; fill it with array_append().
    static Variant new_array() noexcept { return Variant(dtls_var_new_array()); }
    /// An empty Dictionary; fill it with dict_set().
    static Variant new_dictionary() noexcept { return Variant(dtls_var_new_dictionary()); }
    /// The empty value of `type` (false, 0, "", a zero vector, an empty container); empty owner for a
    /// number that is not a VariantType.
    static Variant new_of_type(VariantType type) noexcept { return Variant(dtls_var_new_of_type(to_c(type))); }

    /// The type (Godot 4's numbers); VariantType::Nil for an empty owner too.
    VariantType get_type() const noexcept { return to_variant_type(dtls_var_get_type(get())); }
    /// The getters below answer a value of another type with the neutral value (false, 0, "", empty).
    bool get_bool() const noexcept { return dtls_var_get_bool(get()); }
    /// The int, an Object's instance ID, or an RID's id.
    std::int64_t get_int() const noexcept { return dtls_var_get_int(get()); }
    /// The float (an int converts).
    double get_float() const noexcept { return dtls_var_get_float(get()); }
    /// The text of a String, StringName, NodePath, or a Signal's name.
    std::string get_string() const {
        dtls_var *var = get();
        return detail::read_string([var](char *buf, std::size_t cap) { return dtls_var_get_string(var, buf, cap); });
    }
    /// A PackedByteArray's bytes; empty with Error::InvalidParameter in *error for another type.
    std::vector<std::uint8_t> get_bytes(Error *error = nullptr) const {
        dtls_var *var = get();
        return detail::read_bytes([var](std::uint8_t *buf, std::size_t cap,
                                        std::size_t *len) { return dtls_var_get_bytes(var, buf, cap, len); },
                                  256, error);
    }
    /// The numbers of a vector, rect, transform or Color (the order of from_components()); empty otherwise.
    std::vector<double> get_components() const {
        std::vector<double> out(dtls_var_get_components(get(), nullptr, 0));
        if (!out.empty()) out.resize(dtls_var_get_components(get(), out.data(), out.size()));
        return out;
    }

    /// The number of elements of an Array or a packed array (0 for another type).
    std::size_t array_size() const noexcept { return dtls_var_array_size(get()); }
    /// A copy of element `index`; empty owner out of range or for another type.
    Variant array_get(std::size_t index) const noexcept { return Variant(dtls_var_array_get(get(), index)); }
    /// Appends a copy of `item` to an Array, or to a packed array when it is an element of that kind.
    Error array_append(const Variant &item) noexcept { return to_error(dtls_var_array_append(get(), item.get())); }
    /// The number of entries of a Dictionary (0 for another type).
    std::size_t dict_size() const noexcept { return dtls_var_dict_size(get()); }
    /// A copy of the key of entry `index` (insertion order); empty owner out of range.
    Variant dict_key_at(std::size_t index) const noexcept { return Variant(dtls_var_dict_key_at(get(), index)); }
    /// A copy of the value of entry `index`; empty owner out of range.
    Variant dict_value_at(std::size_t index) const noexcept {
        return Variant(dtls_var_dict_value_at(get(), index));
    }
    /// A copy of the value under a key equal to `key` (same type and value); empty owner when absent.
    Variant dict_get(const Variant &key) const noexcept { return Variant(dtls_var_dict_get(get(), key.get())); }
    /// Stores copies of `key` and `value`: an existing key keeps its place, a new one goes last.
    Error dict_set(const Variant &key, const Variant &value) noexcept {
        return to_error(dtls_var_dict_set(get(), key.get(), value.get()));
    }

    /// The bytes Godot `godot_major` (3 or 4) makes of this value: what put_var sends, var_to_bytes()
    /// returns. Empty on failure with the code in *error (Error::InvalidParameter for a type that version
    /// lacks, Error::OutOfMemory beyond 256 levels of nesting).
    std::vector<std::uint8_t> encode(int godot_major = default_godot_major, Error *error = nullptr) const {
        dtls_var *var = get();
        return detail::read_bytes(
            [var, godot_major](std::uint8_t *buf, std::size_t cap, std::size_t *len) {
                return dtls_var_encode(var, godot_major, buf, cap, len);
            },
            256, error);
    }
    /// The value at the start of `bytes` (Godot's bytes_to_var(); trailing bytes are ignored). Empty owner
    /// for malformed, truncated or too deep input, or a full Object; last_error_message() says why.
    static Variant decode(ByteView bytes, int godot_major = default_godot_major) noexcept {
        return Variant(dtls_var_decode(bytes.data(), bytes.size(), godot_major));
    }
};

class X509Certificate;
class CryptoKey;
class TLSOptions;
class PacketPeerDTLS;

// MARK: - PacketPeerUDP

/// Beyond Godot: what a PacketPeerUDP or UDPServer queued and dropped (see dtls_udp_stats).
using UDPStats = dtls_udp_stats;

/// PacketPeerUDP: one UDP socket, bound or connected, or a peer taken from a UDPServer.
class PacketPeerUDP : public detail::Handle<dtls_udp, dtls_udp_free> {
public:
    /// Beyond Godot: what this peer queued and what its server dropped for it; all zero on failure.
    UDPStats get_stats(Error *error = nullptr) const noexcept {
        UDPStats stats{};
        dtls_error result = dtls_udp_get_stats(get(), &stats, sizeof stats);
        if (result != DTLS_OK) stats = UDPStats{};
        if (error) *error = to_error(result);
        return stats;
    }
    /// A new, unbound UDP peer (Godot's PacketPeerUDP.new()).
    PacketPeerUDP() noexcept : Handle(dtls_udp_new()) {}
    /// An empty owner (no handle).
    PacketPeerUDP(std::nullptr_t) noexcept {}
    /// Takes ownership of a raw handle.
    explicit PacketPeerUDP(dtls_udp *owned) noexcept : Handle(owned) {}

    /// Binds to `port` (0 = any) on `bind_address` ("*" = dual-stack wildcard).
    Error bind(int port, std::string_view bind_address = "*", int recv_buf_size = 65536) {
        return to_error(dtls_udp_bind(get(), port, detail::c_string(bind_address).c_str(), recv_buf_size));
    }
    /// Godot 3.x name of bind().
    Error listen(int port, std::string_view bind_address = "*", int recv_buf_size = 65536) {
        return to_error(dtls_udp_listen(get(), port, detail::c_string(bind_address).c_str(), recv_buf_size));
    }
    Error close() noexcept { return to_error(dtls_udp_close(get())); }
    bool is_bound() const noexcept { return dtls_udp_is_bound(get()); }
    bool is_listening() const noexcept { return dtls_udp_is_listening(get()); }
    /// Connects the socket to host:port; afterwards only that host's datagrams are received.
    Error connect_to_host(std::string_view host, int port) {
        return to_error(dtls_udp_connect_to_host(get(), detail::c_string(host).c_str(), port));
    }
    bool is_socket_connected() const noexcept { return dtls_udp_is_socket_connected(get()); }
    bool is_connected_to_host() const noexcept { return dtls_udp_is_connected_to_host(get()); }
    Error set_dest_address(std::string_view host, int port) {
        return to_error(dtls_udp_set_dest_address(get(), detail::c_string(host).c_str(), port));
    }
    /// Blocks until a datagram can be read.
    Error wait() noexcept { return to_error(dtls_udp_wait(get())); }
    /// As wait(), giving up after timeout_ms with Error::Timeout.
    Error wait(int timeout_ms) noexcept { return to_error(dtls_udp_wait_timeout(get(), timeout_ms)); }
    std::string get_packet_ip() const {
        dtls_udp *udp = get();
        return detail::read_string([udp](char *buf, std::size_t cap) { return dtls_udp_get_packet_ip(udp, buf, cap); });
    }
    int get_packet_port() const noexcept { return dtls_udp_get_packet_port(get()); }
    int get_local_port() const noexcept { return dtls_udp_get_local_port(get()); }
    /// Beyond Godot: the socket's descriptor for select/poll/epoll, -1 with no socket (dtls_udp_get_fd).
    int get_fd() const noexcept { return dtls_udp_get_fd(get()); }
    Error set_broadcast_enabled(bool enabled) noexcept {
        return to_error(dtls_udp_set_broadcast_enabled(get(), enabled));
    }
    Error join_multicast_group(std::string_view address, std::string_view interface_name = {}) {
        return to_error(dtls_udp_join_multicast_group(get(), detail::c_string(address).c_str(),
                                                      detail::c_string(interface_name).c_str()));
    }
    Error leave_multicast_group(std::string_view address, std::string_view interface_name = {}) {
        return to_error(dtls_udp_leave_multicast_group(get(), detail::c_string(address).c_str(),
                                                       detail::c_string(interface_name).c_str()));
    }

    Error put_packet(const std::uint8_t *data, std::size_t size) noexcept {
        return to_error(dtls_udp_put_packet(get(), data, size));
    }
    Error put_packet(const std::vector<std::uint8_t> &data) noexcept { return put_packet(data.data(), data.size()); }
    Error put_packet(std::string_view data) noexcept {
        return put_packet(reinterpret_cast<const std::uint8_t *>(data.data()), data.size());
    }
    /// The next datagram, or an empty vector (see get_packet_error(): Error::Unavailable when none waits).
    std::vector<std::uint8_t> get_packet() {
        dtls_udp *udp = get();
        return detail::read_bytes([udp](std::uint8_t *buf, std::size_t cap,
                                        std::size_t *len) { return dtls_udp_get_packet(udp, buf, cap, len); },
                                  2048, nullptr);
    }
    /// The next datagram into (buf, cap); Error::ParameterRangeError (with out_len = size needed) when too small.
    Error get_packet(std::uint8_t *buf, std::size_t cap, std::size_t &out_len) noexcept {
        return to_error(dtls_udp_get_packet(get(), buf, cap, &out_len));
    }
    int get_available_packet_count() const noexcept { return dtls_udp_get_available_packet_count(get()); }
    Error get_packet_error() const noexcept { return to_error(dtls_udp_get_packet_error(get())); }

    /// Godot's put_var: sends `var` encoded for Godot `godot_major` as one datagram. `full_objects` is
    /// Godot's parameter and changes nothing here (a Variant holds Object instance IDs only).
    /// Error::OutOfMemory when the encoding exceeds get_encode_buffer_max_size().
    Error put_var(const Variant &var, bool full_objects = false, int godot_major = peer_godot_major) noexcept {
        return to_error(dtls_udp_put_var(get(), var.get(), full_objects, godot_major));
    }
    /// Godot's get_var: the next datagram decoded, or an empty owner with the reason in *error
    /// (Error::Unavailable when none waits; Error::InvalidData for a datagram that is not a Variant,
    /// which is consumed; Error::Unauthorized for a full Object).
    Variant get_var(bool allow_objects = false, int godot_major = peer_godot_major,
                    Error *error = nullptr) noexcept {
        dtls_var *out = nullptr;
        dtls_error result = dtls_udp_get_var(get(), allow_objects, godot_major, &out);
        if (error) *error = to_error(result);
        return Variant(out);
    }
    /// Godot's encode_buffer_max_size (default 8 MiB), rounded up to a power of two; 1024..256 MiB.
    Error set_encode_buffer_max_size(int max_size) noexcept {
        return to_error(dtls_udp_set_encode_buffer_max_size(get(), max_size));
    }
    int get_encode_buffer_max_size() const noexcept { return dtls_udp_get_encode_buffer_max_size(get()); }
    /// Beyond Godot: the numbering put_var / get_var use by default, 3 or 4 (default 4).
    Error set_godot_version(int godot_major) noexcept {
        return to_error(dtls_udp_set_godot_version(get(), godot_major));
    }
    int get_godot_version() const noexcept { return dtls_udp_get_godot_version(get()); }
};

// MARK: - UDPServer

/// UDPServer: one socket for many peers, handing out a connected PacketPeerUDP per new address.
class UDPServer : public detail::Handle<dtls_udp_server, dtls_udp_server_free> {
public:
    /// A new server, not listening (Godot's UDPServer.new()).
    UDPServer() noexcept : Handle(dtls_udp_server_new()) {}
    UDPServer(std::nullptr_t) noexcept {}
    explicit UDPServer(dtls_udp_server *owned) noexcept : Handle(owned) {}

    /// Opens the socket on `port` (0 = any) and `bind_address` ("*" = dual-stack wildcard).
    Error listen(int port, std::string_view bind_address = "*") {
        return to_error(dtls_udp_server_listen(get(), port, detail::c_string(bind_address).c_str()));
    }
    /// Reads every waiting datagram and routes it to its peer.
    Error poll() noexcept { return to_error(dtls_udp_server_poll(get())); }
    /// Beyond Godot: blocks until a datagram waits on the socket or timeout_ms pass (Error::Timeout), so a
    /// server loop can sleep instead of spinning. Call poll() afterwards. Error::Unconfigured when not listening.
    Error wait(int timeout_ms) noexcept { return to_error(dtls_udp_server_wait_timeout(get(), timeout_ms)); }
    bool is_connection_available() const noexcept { return dtls_udp_server_is_connection_available(get()); }
    /// The oldest pending peer, or an empty owner when none waits.
    PacketPeerUDP take_connection() noexcept { return PacketPeerUDP(dtls_udp_server_take_connection(get())); }
    bool is_listening() const noexcept { return dtls_udp_server_is_listening(get()); }
    int get_local_port() const noexcept { return dtls_udp_server_get_local_port(get()); }
    /// Beyond Godot: the socket's descriptor for select/poll/epoll, -1 when not listening (dtls_udp_server_get_fd).
    int get_fd() const noexcept { return dtls_udp_server_get_fd(get()); }
    Error stop() noexcept { return to_error(dtls_udp_server_stop(get())); }
    Error set_max_pending_connections(int max_pending) noexcept {
        return to_error(dtls_udp_server_set_max_pending_connections(get(), max_pending));
    }
    int get_max_pending_connections() const noexcept { return dtls_udp_server_get_max_pending_connections(get()); }
    /// Beyond Godot: SO_REUSEPORT on the next listen(), so several servers share the port (before listen).
    Error set_reuse_port(bool enabled) noexcept { return to_error(dtls_udp_server_set_reuse_port(get(), enabled)); }
    /// Beyond Godot: the peers' datagrams leave together (sendmmsg) at flush_sends() or the next poll().
    Error set_send_batching(bool enabled) noexcept {
        return to_error(dtls_udp_server_set_send_batching(get(), enabled));
    }
    bool is_send_batching() const noexcept { return dtls_udp_server_is_send_batching(get()); }
    /// Beyond Godot: sends every datagram queued by send batching now, in order.
    Error flush_sends() noexcept { return to_error(dtls_udp_server_flush_sends(get())); }
    /// Beyond Godot: the bytes each peer made from now on may queue (default 1 MiB).
    Error set_peer_queue_limit(int bytes) noexcept {
        return to_error(dtls_udp_server_set_peer_queue_limit(get(), bytes));
    }
    int get_peer_queue_limit() const noexcept { return dtls_udp_server_get_peer_queue_limit(get()); }
    /// Beyond Godot: the bytes all peers may queue together (default 16 MiB).
    Error set_total_queue_limit(int bytes) noexcept {
        return to_error(dtls_udp_server_set_total_queue_limit(get(), bytes));
    }
    int get_total_queue_limit() const noexcept { return dtls_udp_server_get_total_queue_limit(get()); }
    /// Beyond Godot: what the server routed and dropped, and what the kernel dropped; all zero on failure.
    UDPStats get_stats(Error *error = nullptr) const noexcept {
        UDPStats stats{};
        dtls_error result = dtls_udp_server_get_stats(get(), &stats, sizeof stats);
        if (result != DTLS_OK) stats = UDPStats{};
        if (error) *error = to_error(result);
        return stats;
    }
};

// MARK: - CryptoKey

/// CryptoKey: an RSA or EC private key, or a public key.
class CryptoKey : public detail::Handle<dtls_key, dtls_key_free> {
public:
    /// A new, empty key (Godot's CryptoKey.new()).
    CryptoKey() noexcept : Handle(dtls_key_new()) {}
    CryptoKey(std::nullptr_t) noexcept {}
    explicit CryptoKey(dtls_key *owned) noexcept : Handle(owned) {}

    Error load(std::string_view path, bool public_only = false) {
        return to_error(dtls_key_load(get(), detail::c_string(path).c_str(), public_only));
    }
    Error save(std::string_view path, bool public_only = false) {
        return to_error(dtls_key_save(get(), detail::c_string(path).c_str(), public_only));
    }
    Error load_from_string(std::string_view pem, bool public_only = false) {
        return to_error(dtls_key_load_from_string(get(), detail::c_string(pem).c_str(), public_only));
    }
    /// The key as PEM ("" for an empty key).
    std::string save_to_string(bool public_only = false) const {
        dtls_key *key = get();
        return detail::read_string(
            [key, public_only](char *buf, std::size_t cap) {
                return dtls_key_save_to_string(key, public_only, buf, cap);
            });
    }
    bool is_public_only() const noexcept { return dtls_key_is_public_only(get()); }
};

// MARK: - X509Certificate

/// X509Certificate: one certificate or a chain.
class X509Certificate : public detail::Handle<dtls_cert, dtls_cert_free> {
public:
    /// A new, empty certificate (Godot's X509Certificate.new()).
    X509Certificate() noexcept : Handle(dtls_cert_new()) {}
    X509Certificate(std::nullptr_t) noexcept {}
    explicit X509Certificate(dtls_cert *owned) noexcept : Handle(owned) {}

    Error load(std::string_view path) { return to_error(dtls_cert_load(get(), detail::c_string(path).c_str())); }
    Error save(std::string_view path) { return to_error(dtls_cert_save(get(), detail::c_string(path).c_str())); }
    Error load_from_string(std::string_view pem) {
        return to_error(dtls_cert_load_from_string(get(), detail::c_string(pem).c_str()));
    }
    /// The whole chain as PEM ("" when empty).
    std::string save_to_string() const {
        dtls_cert *cert = get();
        return detail::read_string(
            [cert](char *buf, std::size_t cap) { return dtls_cert_save_to_string(cert, buf, cap); });
    }
    /// Beyond Godot: SHA-256 of the leaf's SubjectPublicKeyInfo (32 bytes), the value
    /// TLSOptions::pin_public_key() compares. Empty on failure, with the code in *error.
    std::vector<std::uint8_t> get_public_key_sha256(Error *error = nullptr) const {
        dtls_cert *cert = get();
        return detail::read_bytes(
            [cert](std::uint8_t *buf, std::size_t cap, std::size_t *len) {
                return dtls_cert_get_public_key_sha256(cert, buf, cap, len);
            },
            32, error);
    }
};

// MARK: - TLSOptions

/// TLSOptions (Godot 4.x): how a client verifies, or what a server presents. Made by the static factories.
class TLSOptions : public detail::Handle<dtls_options, dtls_options_free> {
public:
    /// Client options that verify against the system CA bundle (as TLSOptions.client()).
    TLSOptions() noexcept : Handle(dtls_options_new()) {}
    TLSOptions(std::nullptr_t) noexcept {}
    explicit TLSOptions(dtls_options *owned) noexcept : Handle(owned) {}

    /// Verify the server's chain against `trusted_chain` (empty = system CAs) and its name against the
    /// hostname, or `common_name_override` when not empty.
    static TLSOptions client(const X509Certificate &trusted_chain = nullptr,
                             std::string_view common_name_override = {}) {
        return TLSOptions(dtls_options_client(trusted_chain.get(), detail::c_string(common_name_override).c_str()));
    }
    /// No name check; with a trusted chain the chain is still verified, without one nothing is.
    static TLSOptions client_unsafe(const X509Certificate &trusted_chain = nullptr) noexcept {
        return TLSOptions(dtls_options_client_unsafe(trusted_chain.get()));
    }
    /// Server options with a private key and its certificate; empty on a missing argument.
    static TLSOptions server(const CryptoKey &key, const X509Certificate &certificate) noexcept {
        return TLSOptions(dtls_options_server(key.get(), certificate.get()));
    }

    bool is_server() const noexcept { return dtls_options_is_server(get()); }
    bool is_unsafe_client() const noexcept { return dtls_options_is_unsafe_client(get()); }
    std::string get_common_name_override() const {
        dtls_options *options = get();
        return detail::read_string(
            [options](char *buf, std::size_t cap) { return dtls_options_get_common_name_override(options, buf, cap); });
    }
    /// A new owner of the trusted chain (empty when none).
    X509Certificate get_trusted_ca_chain() const noexcept {
        return X509Certificate(dtls_options_get_trusted_ca_chain(get()));
    }
    CryptoKey get_private_key() const noexcept { return CryptoKey(dtls_options_get_private_key(get())); }
    X509Certificate get_own_certificate() const noexcept {
        return X509Certificate(dtls_options_get_own_certificate(get()));
    }
    /// Handshake retransmission: first wait min_ms, doubling up to max_ms, then fail.
    Error set_handshake_timeout(std::uint32_t min_ms, std::uint32_t max_ms) noexcept {
        return to_error(dtls_options_set_handshake_timeout(get(), min_ms, max_ms));
    }
    /// A connected peer silent for timeout_ms ends in Status::Error (0 = never).
    Error set_idle_timeout(std::uint32_t timeout_ms) noexcept {
        return to_error(dtls_options_set_idle_timeout(get(), timeout_ms));
    }
    /// Peers set up with these options send a keepalive after `interval_ms` with nothing sent (0 = off).
    Error set_keepalive_ms(std::uint32_t interval_ms) noexcept {
        return to_error(dtls_options_set_keepalive_ms(get(), interval_ms));
    }
    /// The largest handshake datagram (0 = no limit, else 256..16384).
    Error set_mtu(std::uint32_t mtu) noexcept { return to_error(dtls_options_set_mtu(get(), mtu)); }

    // Beyond Godot: pre-shared keys, ALPN, pinning, client certificates, CRLs, suites, tickets, key log.

    /// Client options that authenticate with a pre-shared key instead of certificates: `identity` 1..128
    /// bytes, `key` 1..32 bytes. Empty owner on bad input (the reason is in last_error_message()).
    static TLSOptions client_psk(std::string_view identity, ByteView key) {
        return TLSOptions(dtls_options_client_psk(detail::c_string(identity).c_str(), key.data(), key.size()));
    }
    /// Server options for PSK clients only (no certificate); add identities with add_psk().
    static TLSOptions server_psk() noexcept { return TLSOptions(dtls_options_server_psk()); }
    /// Lets a server accept `identity` with `key`; on certificate server options it adds the PSK suites.
    Error add_psk(std::string_view identity, ByteView key) {
        return to_error(dtls_options_add_psk(get(), detail::c_string(identity).c_str(), key.data(), key.size()));
    }
    /// ALPN protocols (each 1..255 bytes, at most 16) a client offers or a server accepts, in order of
    /// preference; an empty list offers none.
    Error set_alpn_protocols(const std::vector<std::string> &protocols) {
        detail::CStringArray names(protocols);
        return to_error(dtls_options_set_alpn_protocols(get(), names.data(), names.size()));
    }
    /// Accepts the server only if the SHA-256 of its public key (32 bytes, see
    /// X509Certificate::get_public_key_sha256()) is one of the pins. With a trusted chain both must hold;
    /// on client_unsafe() without a chain the pin alone admits the server.
    Error pin_public_key(ByteView sha256) noexcept {
        return to_error(dtls_options_pin_public_key(get(), sha256.data(), sha256.size()));
    }
    /// Pins the public key of the leaf of `certificate`.
    Error pin_certificate(const X509Certificate &certificate) noexcept {
        return to_error(dtls_options_pin_certificate(get(), certificate.get()));
    }
    /// The key and certificate (chain) a client presents when the server asks. Client options only.
    Error set_client_certificate(const CryptoKey &key, const X509Certificate &certificate) noexcept {
        return to_error(dtls_options_set_client_certificate(get(), key.get(), certificate.get()));
    }
    /// Makes a server request or require client certificates issued by `authorities` (needed unless
    /// the mode is None). Server options only.
    Error set_client_certificate_mode(ClientCertificateMode mode,
                                      const X509Certificate &authorities = nullptr) noexcept {
        return to_error(dtls_options_set_client_certificate_mode(get(), to_c(mode), authorities.get()));
    }
    /// Checks peer certificates against the CRLs in a PEM or DER file (Error::ParseError when none parses).
    Error load_crl(std::string_view path) {
        return to_error(dtls_options_load_crl(get(), detail::c_string(path).c_str()));
    }
    Error load_crl_from_string(std::string_view pem) {
        return to_error(dtls_options_load_crl_from_string(get(), detail::c_string(pem).c_str()));
    }
    /// Narrows or reorders the cipher suites by IANA name ("TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256");
    /// only PacketDTLS's AEAD suites are accepted, the opt-in AES-CCM ones of constrained devices
    /// ("TLS_PSK_WITH_AES_128_CCM_8", ...) included. An empty list restores the default order.
    Error set_cipher_suites(const std::vector<std::string> &names) {
        detail::CStringArray c_names(names);
        return to_error(dtls_options_set_cipher_suites(get(), c_names.data(), c_names.size()));
    }
    /// Whether a server issues session tickets so clients can resume (default on).
    Error set_session_tickets(bool enabled) noexcept {
        return to_error(dtls_options_set_session_tickets(get(), enabled));
    }
    /// Whether handshakes must agree on the extended master secret (RFC 7627); default true on both
    /// sides. false admits old peers without it (weaker: no triple-handshake protection).
    Error set_extended_master_secret_required(bool required) noexcept {
        return to_error(dtls_options_set_extended_master_secret_required(get(), required));
    }
    /// Appends each session's secrets to `path` ("" = off) in the SSLKEYLOGFILE format, so Wireshark can
    /// decrypt a capture. Opened once, here: created mode 0600, refused (FileCantOpen / FileNoPermission)
    /// when unwritable, a symlink, or not 0600 and ours. For debugging only: it holds the session keys.
    Error set_key_log_file(std::string_view path) {
        return to_error(dtls_options_set_key_log_file(get(), detail::c_string(path).c_str()));
    }
};

// MARK: - Crypto

/// Crypto: key and certificate generation, signatures, HMAC. Static functions; `Crypto().f()` also works.
class Crypto {
public:
    /// `size` random bytes (empty on failure, with the code in *error).
    static std::vector<std::uint8_t> generate_random_bytes(std::size_t size, Error *error = nullptr) {
        std::vector<std::uint8_t> out(size);
        dtls_error result = dtls_crypto_generate_random_bytes(out.data(), size);
        if (result != DTLS_OK) out.clear();
        if (error) *error = to_error(result);
        return out;
    }
    /// A new RSA private key (e = 65537), or an empty owner.
    static CryptoKey generate_rsa(int size_bits) noexcept { return CryptoKey(dtls_crypto_generate_rsa(size_bits)); }
    /// A new EC P-256 private key, or an empty owner.
    static CryptoKey generate_ec_p256() noexcept { return CryptoKey(dtls_crypto_generate_ec_p256()); }
    /// A new self-signed certificate for `key`, or an empty owner. Defaults are Godot's.
    static X509Certificate generate_self_signed_certificate(
        const CryptoKey &key, std::string_view issuer_name = "CN=myserver,O=myorganisation,C=IT",
        std::string_view not_before = "20140101000000", std::string_view not_after = "20340101000000") {
        return X509Certificate(dtls_crypto_generate_self_signed_certificate(
            key.get(), detail::c_string(issuer_name).c_str(), detail::c_string(not_before).c_str(),
            detail::c_string(not_after).c_str()));
    }
    /// Signs the digest `hash` with the private key.
    static std::vector<std::uint8_t> sign(HashType hash_type, ByteView hash, const CryptoKey &key,
                                          Error *error = nullptr) {
        return detail::read_bytes(
            [&](std::uint8_t *buf, std::size_t cap, std::size_t *len) {
                return dtls_crypto_sign(to_c(hash_type), hash.data(), hash.size(), key.get(), buf, cap, len);
            },
            1024, error);
    }
    static bool verify(HashType hash_type, ByteView hash, ByteView signature, const CryptoKey &key) noexcept {
        return dtls_crypto_verify(to_c(hash_type), hash.data(), hash.size(), signature.data(), signature.size(),
                                  key.get());
    }
    /// RSA PKCS#1 v1.5 encryption with the (public) key.
    static std::vector<std::uint8_t> encrypt(const CryptoKey &key, ByteView plaintext, Error *error = nullptr) {
        return detail::read_bytes(
            [&](std::uint8_t *buf, std::size_t cap, std::size_t *len) {
                return dtls_crypto_encrypt(key.get(), plaintext.data(), plaintext.size(), buf, cap, len);
            },
            1024, error);
    }
    static std::vector<std::uint8_t> decrypt(const CryptoKey &key, ByteView ciphertext, Error *error = nullptr) {
        return detail::read_bytes(
            [&](std::uint8_t *buf, std::size_t cap, std::size_t *len) {
                return dtls_crypto_decrypt(key.get(), ciphertext.data(), ciphertext.size(), buf, cap, len);
            },
            1024, error);
    }
    static std::vector<std::uint8_t> hmac_digest(HashType hash_type, ByteView key, ByteView msg,
                                                 Error *error = nullptr) {
        return detail::read_bytes(
            [&](std::uint8_t *buf, std::size_t cap, std::size_t *len) {
                return dtls_crypto_hmac_digest(to_c(hash_type), key.data(), key.size(), msg.data(), msg.size(), buf,
                                               cap, len);
            },
            64, error);
    }
    static bool constant_time_compare(ByteView a, ByteView b) noexcept {
        return dtls_crypto_constant_time_compare(a.data(), a.size(), b.data(), b.size());
    }
};

// MARK: - DTLSSession

/// Beyond Godot: a client's saved session (master secret and ticket), for an abbreviated handshake later.
/// Take it from a connected client with PacketPeerDTLS::get_session() and offer it with set_session()
/// before the next connect_to_peer. The secret is zeroized when the last reference goes.
class DTLSSession : public detail::Handle<dtls_session, dtls_session_free> {
public:
    /// A new, empty session: offering it makes a full handshake, as offering none does.
    DTLSSession() noexcept : Handle(dtls_session_new()) {}
    DTLSSession(std::nullptr_t) noexcept {}
    explicit DTLSSession(dtls_session *owned) noexcept : Handle(owned) {}
};

/// Beyond Godot: a peer's traffic and handshake figures (the fields are documented in packetdtls.h).
using PeerStats = dtls_peer_stats;

// MARK: - PacketPeerDTLS

/// PacketPeerDTLS: one DTLS session over a connected PacketPeerUDP (client), or taken from a DTLSServer.
class PacketPeerDTLS : public detail::Handle<dtls_peer, dtls_peer_free> {
public:
    /// A new, disconnected peer (Godot's PacketPeerDTLS.new()).
    PacketPeerDTLS() noexcept : Handle(dtls_peer_new()) {}
    PacketPeerDTLS(std::nullptr_t) noexcept {}
    explicit PacketPeerDTLS(dtls_peer *owned) noexcept : Handle(owned) {}

    /// Godot 3.x: validate_certs checks the chain against `valid_certificate` (empty = system CAs) and
    /// the name against `for_hostname` ("" = the address udp is connected to). false verifies nothing.
    Error connect_to_peer(const PacketPeerUDP &packet_peer, bool validate_certs = true,
                          std::string_view for_hostname = {}, const X509Certificate &valid_certificate = nullptr) {
        return to_error(dtls_peer_connect_to_peer(get(), packet_peer.get(), validate_certs,
                                                  detail::c_string(for_hostname).c_str(), valid_certificate.get()));
    }
    /// Godot 4.x: verify as `client_options` says (empty = TLSOptions::client()), against `hostname`.
    Error connect_to_peer(const PacketPeerUDP &packet_peer, std::string_view hostname,
                          const TLSOptions &client_options = nullptr) {
        return connect_to_peer_with_options(packet_peer, hostname, client_options);
    }
    /// Godot 4.x with a string literal (without this overload a `const char *` would pick the 3.x bool).
    Error connect_to_peer(const PacketPeerUDP &packet_peer, const char *hostname,
                          const TLSOptions &client_options = nullptr) {
        return connect_to_peer_with_options(packet_peer, std::string_view(hostname ? hostname : ""), client_options);
    }
    /// The C name of the 4.x form.
    Error connect_to_peer_with_options(const PacketPeerUDP &packet_peer, std::string_view hostname,
                                       const TLSOptions &client_options = nullptr) {
        return to_error(dtls_peer_connect_to_peer_with_options(
            get(), packet_peer.get(), detail::c_string(hostname).c_str(), client_options.get()));
    }
    /// Reads what arrived, advances the handshake, queues decrypted packets. Call it often.
    Error poll() noexcept { return to_error(dtls_peer_poll(get())); }
    Status get_status() const noexcept { return to_status(dtls_peer_get_status(get())); }
    /// Sends close_notify and becomes disconnected.
    Error disconnect_from_peer() noexcept { return to_error(dtls_peer_disconnect_from_peer(get())); }

    Error put_packet(const std::uint8_t *data, std::size_t size) noexcept {
        return to_error(dtls_peer_put_packet(get(), data, size));
    }
    Error put_packet(const std::vector<std::uint8_t> &data) noexcept { return put_packet(data.data(), data.size()); }
    Error put_packet(std::string_view data) noexcept {
        return put_packet(reinterpret_cast<const std::uint8_t *>(data.data()), data.size());
    }
    /// The next decrypted packet, or an empty vector (see get_packet_error()).
    std::vector<std::uint8_t> get_packet() {
        dtls_peer *peer = get();
        return detail::read_bytes([peer](std::uint8_t *buf, std::size_t cap,
                                         std::size_t *len) { return dtls_peer_get_packet(peer, buf, cap, len); },
                                  2048, nullptr);
    }
    /// The next packet into (buf, cap); Error::ParameterRangeError (with out_len = size needed) when too small.
    Error get_packet(std::uint8_t *buf, std::size_t cap, std::size_t &out_len) noexcept {
        return to_error(dtls_peer_get_packet(get(), buf, cap, &out_len));
    }
    int get_available_packet_count() const noexcept { return dtls_peer_get_available_packet_count(get()); }
    Error get_packet_error() const noexcept { return to_error(dtls_peer_get_packet_error(get())); }
    /// Why the peer ended in an error status ("" otherwise).
    std::string get_error_message() const {
        dtls_peer *peer = get();
        return detail::read_string(
            [peer](char *buf, std::size_t cap) { return dtls_peer_get_error_message(peer, buf, cap); });
    }
    /// The negotiated cipher suite once connected ("" before).
    std::string get_ciphersuite() const {
        dtls_peer *peer = get();
        return detail::read_string(
            [peer](char *buf, std::size_t cap) { return dtls_peer_get_ciphersuite(peer, buf, cap); });
    }
    int get_max_packet_size() const noexcept { return dtls_peer_get_max_packet_size(get()); }

    /// Godot's put_var over DTLS (as PacketPeerUDP::put_var(); Error::Unconfigured when not connected).
    Error put_var(const Variant &var, bool full_objects = false, int godot_major = peer_godot_major) noexcept {
        return to_error(dtls_peer_put_var(get(), var.get(), full_objects, godot_major));
    }
    /// Godot's get_var from the decrypted packets (as PacketPeerUDP::get_var()).
    Variant get_var(bool allow_objects = false, int godot_major = peer_godot_major,
                    Error *error = nullptr) noexcept {
        dtls_var *out = nullptr;
        dtls_error result = dtls_peer_get_var(get(), allow_objects, godot_major, &out);
        if (error) *error = to_error(result);
        return Variant(out);
    }
    Error set_encode_buffer_max_size(int max_size) noexcept {
        return to_error(dtls_peer_set_encode_buffer_max_size(get(), max_size));
    }
    int get_encode_buffer_max_size() const noexcept { return dtls_peer_get_encode_buffer_max_size(get()); }
    /// Beyond Godot: the numbering put_var / get_var use by default, 3 or 4 (default 4).
    Error set_godot_version(int godot_major) noexcept {
        return to_error(dtls_peer_set_godot_version(get(), godot_major));
    }
    int get_godot_version() const noexcept { return dtls_peer_get_godot_version(get()); }

    // Beyond Godot: resumption, what was negotiated, why verification failed, figures.

    /// The session of a connected client, to offer later with set_session(); empty owner otherwise.
    DTLSSession get_session() const noexcept { return DTLSSession(dtls_peer_get_session(get())); }
    /// Offers `session` (empty owner = none) on this peer's next connect_to_peer.
    Error set_session(const DTLSSession &session) noexcept {
        return to_error(dtls_peer_set_session(get(), session.get()));
    }
    /// True when the last handshake resumed a saved session.
    bool is_session_resumed() const noexcept { return dtls_peer_is_session_resumed(get()); }
    /// Quiet milliseconds after which the session hibernates (frees its mbedTLS context, keeps a few
    /// hundred saved bytes); 0 = never. Default 10000.
    Error set_hibernate_after_ms(uint32_t ms) noexcept { return to_error(dtls_peer_set_hibernate_after_ms(get(), ms)); }
    /// True while the session is hibernated.
    bool is_hibernated() const noexcept { return dtls_peer_is_hibernated(get()); }
    /// The ALPN protocol both ends agreed on ("" when none).
    std::string get_alpn_protocol() const {
        dtls_peer *peer = get();
        return detail::read_string(
            [peer](char *buf, std::size_t cap) { return dtls_peer_get_alpn_protocol(peer, buf, cap); });
    }
    /// The other end's certificate chain while connected; empty owner when it sent none.
    X509Certificate get_peer_certificate() const noexcept {
        return X509Certificate(dtls_peer_get_peer_certificate(get()));
    }
    /// mbedTLS's verification flags (MBEDTLS_X509_BADCERT_*) for the peer's certificate; 0 = fine or unchecked.
    std::uint32_t get_verify_flags() const noexcept { return dtls_peer_get_verify_flags(get()); }
    /// The flags above as sentences separated by "; " ("" when none).
    std::string get_verify_text() const {
        dtls_peer *peer = get();
        return detail::read_string(
            [peer](char *buf, std::size_t cap) { return dtls_peer_get_verify_text(peer, buf, cap); });
    }
    /// The description number (RFC 5246) of the last fatal alert the other end sent, -1 when none.
    int get_last_alert() const noexcept { return dtls_peer_get_last_alert(get()); }
    /// Sends a keepalive after `interval_ms` with nothing sent (0 = off), whatever the options say.
    Error set_keepalive_ms(std::uint32_t interval_ms) noexcept {
        return to_error(dtls_peer_set_keepalive_ms(get(), interval_ms));
    }
    /// The figures of the current (or last) session; all zero on failure, with the code in *error.
    PeerStats get_stats(Error *error = nullptr) const noexcept {
        PeerStats stats{};
        dtls_error result = dtls_peer_get_stats(get(), &stats, sizeof stats);
        if (result != DTLS_OK) stats = PeerStats{};
        if (error) *error = to_error(result);
        return stats;
    }
};

// MARK: - DTLSServer

/// DTLSServer: the identity and cookie secret that turn UDP peers into server-side PacketPeerDTLS.
class DTLSServer : public detail::Handle<dtls_server, dtls_server_free> {
public:
    /// A new server, not set up (Godot's DTLSServer.new()).
    DTLSServer() noexcept : Handle(dtls_server_new()) {}
    DTLSServer(std::nullptr_t) noexcept {}
    explicit DTLSServer(dtls_server *owned) noexcept : Handle(owned) {}

    /// Godot 3.x: key, its certificate and an optional chain of intermediates (empty = none).
    Error setup(const CryptoKey &key, const X509Certificate &certificate,
                const X509Certificate &chain = nullptr) noexcept {
        return to_error(dtls_server_setup(get(), key.get(), certificate.get(), chain.get()));
    }
    /// Godot 4.x: options made by TLSOptions::server().
    Error setup(const TLSOptions &server_options) noexcept { return setup_with_options(server_options); }
    /// The C name of the 4.x form.
    Error setup_with_options(const TLSOptions &server_options) noexcept {
        return to_error(dtls_server_setup_with_options(get(), server_options.get()));
    }
    /// Starts a handshake on a connected UDP peer. Keep the result only if it is Status::Handshaking
    /// (a first ClientHello is answered with a cookie request). Empty on a bad argument.
    PacketPeerDTLS take_connection(const PacketPeerUDP &udp_peer) noexcept {
        return PacketPeerDTLS(dtls_server_take_connection(get(), udp_peer.get()));
    }
    /// Forgets the identity (not the keys).
    Error stop() noexcept { return to_error(dtls_server_stop(get())); }
    /// Beyond Godot: handshakes after the cookie exchange run on `threads` worker threads (0 = in
    /// poll(), Godot's way; -1 = one per core). See dtls_server_set_handshake_threads().
    Error set_handshake_threads(int32_t threads) noexcept {
        return to_error(dtls_server_set_handshake_threads(get(), threads));
    }
    /// Beyond Godot: how much nicer (0...19, default 10) than their maker the handshake threads run; 0
    /// for a loop with no tick to keep. See dtls_server_set_handshake_threads_nice().
    Error set_handshake_threads_nice(int32_t increment) noexcept {
        return to_error(dtls_server_set_handshake_threads_nice(get(), increment));
    }

    /// Beyond Godot: caps on handshakes in flight, in all and per client address, and the server-side
    /// handshake deadline in ms (0 = none); see dtls_server_set_handshake_limits.
    struct HandshakeLimits {
        std::int32_t max_in_flight = 512;
        std::int32_t max_per_address = 128;
        std::int32_t deadline_ms = 20000;
    };
    Error set_handshake_limits(std::int32_t max_in_flight, std::int32_t max_per_address, std::int32_t deadline_ms) noexcept {
        return to_error(dtls_server_set_handshake_limits(get(), max_in_flight, max_per_address, deadline_ms));
    }
    Error set_handshake_limits(const HandshakeLimits &limits) noexcept {
        return set_handshake_limits(limits.max_in_flight, limits.max_per_address, limits.deadline_ms);
    }
    /// The limits in force (the defaults for an empty handle).
    HandshakeLimits get_handshake_limits() const noexcept {
        HandshakeLimits limits;
        dtls_server_get_handshake_limits(get(), &limits.max_in_flight, &limits.max_per_address, &limits.deadline_ms);
        return limits;
    }
    /// Handshakes holding a place now; -1 for an empty handle.
    std::int32_t get_handshakes_in_flight() const noexcept { return dtls_server_get_handshakes_in_flight(get()); }
    /// Beyond Godot: makes the cookie and session-ticket keys in the key file at `path` this server's,
    /// so servers sharing one file resume each other's sessions (and a restarted server its own).
    Error load_keys(std::string_view path) {
        return to_error(dtls_server_load_keys(get(), detail::c_string(path).c_str()));
    }
    /// Beyond Godot: writes the current and previous keys to `path` (mode 0600, replaced whole).
    Error save_keys(std::string_view path) {
        return to_error(dtls_server_save_keys(get(), detail::c_string(path).c_str()));
    }
    /// Beyond Godot: new current keys; the current ones stay accepted as the previous.
    Error rotate_keys() noexcept { return to_error(dtls_server_rotate_keys(get())); }
    /// Quiet milliseconds after which the peers this server makes from now on hibernate; 0 = never.
    Error set_hibernate_after_ms(uint32_t ms) noexcept {
        return to_error(dtls_server_set_hibernate_after_ms(get(), ms));
    }
};

/// Shorter names.
using Udp = PacketPeerUDP;
using UdpServer = UDPServer;

}  // namespace packetdtls

#endif  // PACKETDTLS_HPP
