/* crypto/ecc_params.h: the layout of a curve's parameters; internal to
 * crypto/. Instances live in ROM (port.h) and are read with sd_rom_*. */
#ifndef SD_CRYPTO_ECC_PARAMS_H
#define SD_CRYPTO_ECC_PARAMS_H

#include <stdint.h>

#include "ecc.h"
#include "port.h"

/* The special form of p that ecc.c reduces by. */
enum {
	SD_ECC_FORM_P256 = 1, /* 2^256 - 2^224 + 2^192 + 2^96 - 1 */
	SD_ECC_FORM_P160 = 2  /* 2^160 - 2^31 - 1 (secp160r1) */
};

struct sd_ecc_curve {
	uint8_t field_len;   /* bytes of p, b and each coordinate */
	uint8_t scalar_len;  /* bytes of n */
	uint16_t order_bits; /* bits of n: the length of the ladder */
	uint8_t form;        /* SD_ECC_FORM_*: how products are reduced */
	/* Big-endian; p, b, gx, gy hold field_len bytes, n scalar_len. */
	uint8_t p[SD_ECC_MAX_FIELD_LEN];
	uint8_t b[SD_ECC_MAX_FIELD_LEN];
	uint8_t gx[SD_ECC_MAX_FIELD_LEN];
	uint8_t gy[SD_ECC_MAX_FIELD_LEN];
	uint8_t n[SD_ECC_MAX_SCALAR_LEN];
};

#endif /* SD_CRYPTO_ECC_PARAMS_H */
