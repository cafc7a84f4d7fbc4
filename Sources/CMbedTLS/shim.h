/* The parts of the system mbedTLS (Debian libmbedtls-dev 2.28) that PacketDTLS uses. */
#ifndef PACKETDTLS_CMBEDTLS_SHIM_H
#define PACKETDTLS_CMBEDTLS_SHIM_H

#include <mbedtls/version.h>

/* PacketDTLS reads and writes fields that mbedTLS 2.28 keeps internal (all of them in
 * Sources/PacketDTLS/DTLS/MbedTLSInternals.swift, checked by MbedTLSInternalsTests). Another
 * version may lay them out differently or hide them: check that file against it before allowing it. */
#if !defined(MBEDTLS_VERSION_MAJOR) || MBEDTLS_VERSION_MAJOR != 2 || MBEDTLS_VERSION_MINOR != 28
#error "PacketDTLS needs mbedTLS 2.28.x: see Sources/PacketDTLS/DTLS/MbedTLSInternals.swift"
#endif

#include <mbedtls/error.h>
#include <mbedtls/entropy.h>
#include <mbedtls/ctr_drbg.h>
#include <mbedtls/platform_util.h>
#include <mbedtls/pk.h>
#include <mbedtls/rsa.h>
#include <mbedtls/ecp.h>
#include <mbedtls/ecdsa.h>
#include <mbedtls/md.h>
#include <mbedtls/pem.h>
#include <mbedtls/base64.h>
#include <mbedtls/oid.h>
#include <mbedtls/asn1.h>
#include <mbedtls/asn1write.h>
#include <mbedtls/x509.h>
#include <mbedtls/x509_crt.h>
#include <mbedtls/x509_crl.h>
#include <mbedtls/x509_csr.h>
#include <mbedtls/ssl.h>
#include <mbedtls/ssl_cookie.h>
#include <mbedtls/ssl_ticket.h>
/* mbedtls_ssl_handshake_params (resume, retransmit_timeout): used by MbedTLSInternals.swift only. */
#include <mbedtls/ssl_internal.h>
#include <mbedtls/ssl_ciphersuites.h>
#include <mbedtls/sha256.h>
#include <mbedtls/debug.h>
#include <mbedtls/net_sockets.h>
#include <mbedtls/timing.h>

#endif
