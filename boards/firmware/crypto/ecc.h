/*
 * crypto/ecc.h: short-Weierstrass curves y^2 = x^3 - 3x + b over GF(p):
 * P-256 (SEC 2 v2.0 §2.4.2 secp256r1, FIPS 186-4 §D.1.2.3) and secp160r1
 * (SEC 2 v1.0 §2.4.2). Public-key validation (SEC 1 v2.0 §3.2.2), key
 * generation from a given private scalar and ECDH (SEC 1 v2.0 §3.3.1,
 * the shared secret being the x-coordinate).
 *
 * Scalars and coordinates are big-endian byte strings; public points use
 * the uncompressed encoding 0x04 || X || Y (SEC 1 v2.0 §2.3.3).
 *
 * Constant-time in the scalar: a Montgomery ladder over the complete
 * projective formulas of Renes, Costello and Batina (EUROCRYPT 2016,
 * Algorithms 4 and 6 for a = -3), with conditional swaps by masks. The
 * same sequence of field operations runs for every scalar and point, and
 * all temporaries are wiped before returning.
 */
#ifndef SD_CRYPTO_ECC_H
#define SD_CRYPTO_ECC_H

#include <stddef.h>
#include <stdint.h>

typedef struct sd_ecc_curve sd_ecc_curve;

extern const sd_ecc_curve sd_p256;      /* secp256r1 */
extern const sd_ecc_curve sd_secp160r1; /* n has 161 bits: 21-byte scalars */

#define SD_P256_FIELD_LEN 32
#define SD_P256_SCALAR_LEN 32
#define SD_P256_POINT_LEN 65
#define SD_SECP160R1_FIELD_LEN 20
#define SD_SECP160R1_SCALAR_LEN 21
#define SD_SECP160R1_POINT_LEN 41
#define SD_ECC_MAX_FIELD_LEN 32
#define SD_ECC_MAX_SCALAR_LEN 32
#define SD_ECC_MAX_POINT_LEN 65
#define SD_ECC_POINT_UNCOMPRESSED 0x04 /* SEC 1 v2.0 §2.3.3 */

size_t sd_ecc_field_len(const sd_ecc_curve *c);  /* bytes of a coordinate */
size_t sd_ecc_scalar_len(const sd_ecc_curve *c); /* bytes of a scalar */
size_t sd_ecc_point_len(const sd_ecc_curve *c);  /* 1 + 2 * field_len */

/*
 * SEC 1 v2.0 §3.2.2.1 (partial validation; the cofactor is 1, so it is
 * full validation, §3.2.2): pub must be the uncompressed encoding of
 * length point_len, both coordinates below p, on the curve. The point at
 * infinity has no uncompressed encoding and is refused. Returns SD_OK,
 * SD_ERR_LENGTH or SD_ERR_POINT.
 */
int sd_ecc_validate(const sd_ecc_curve *c, const uint8_t *pub, size_t len);

/*
 * pub = priv * G, encoded uncompressed (point_len bytes). priv is
 * scalar_len bytes and must lie in [1, n-1], else SD_ERR_SCALAR.
 */
int sd_ecc_public(const sd_ecc_curve *c, uint8_t *pub, const uint8_t *priv);

/* The base point G, encoded uncompressed (point_len bytes). */
void sd_ecc_generator(const sd_ecc_curve *c, uint8_t *pub);

/*
 * SEC 1 v2.0 §3.3.1 Elliptic Curve Diffie-Hellman primitive: validates the
 * peer's point, computes P = priv * peer and writes its x-coordinate
 * (field_len bytes) to shared. Returns SD_OK, SD_ERR_LENGTH, SD_ERR_POINT,
 * SD_ERR_SCALAR or SD_ERR_LOW_ORDER (P is the point at infinity); on
 * failure shared is zeroed.
 */
int sd_ecdh(const sd_ecc_curve *c, uint8_t *shared, const uint8_t *priv,
	    const uint8_t *peer, size_t peer_len);

#endif /* SD_CRYPTO_ECC_H */
