/* The parts of the system mbedTLS (Debian libmbedtls-dev 2.28) that PacketDTLS uses. */
#ifndef PACKETDTLS_CMBEDTLS_SHIM_H
#define PACKETDTLS_CMBEDTLS_SHIM_H

#include <mbedtls/version.h>
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
/* For the handshake state (did the session resume?), which 2.28 keeps in its internal header. */
#include <mbedtls/ssl_internal.h>
#include <mbedtls/ssl_ciphersuites.h>
#include <mbedtls/sha256.h>
#include <mbedtls/debug.h>
#include <mbedtls/net_sockets.h>
#include <mbedtls/timing.h>

#endif
