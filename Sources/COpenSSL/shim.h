// The host uses libcrypto for digests only (SHA-256 with SHA-NI where the CPU has it; see
// Sources/LaForgeCore/Signing/SHA256.swift). The low-level SHA256_* functions are deprecated in
// OpenSSL 3 in favour of EVP, but they are the only allocation-free path (EVP_Digest allocates
// an EVP_MD_CTX per call), so the deprecation attributes are switched off for this module only.
#define OPENSSL_SUPPRESS_DEPRECATED 1
#include <openssl/evp.h>
#include <openssl/sha.h>
// PEM private keys and RS256 signing (Sources/OpenSSLCrypto).
#include <openssl/pem.h>
#include <openssl/err.h>
// Signature verification and JWK public keys (Sources/OpenSSLCrypto: RS256, PS256, ES256, EdDSA).
#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/ec.h>
#include <openssl/param_build.h>
#include <openssl/rand.h>
#include <openssl/rsa.h>
