/*
 * agent/bench.c: BENCH (docs/board-protocol.md §5.4). The board runs one
 * operation `iterations` times on fixed data and counts each run with its
 * own counter (port_cycles), only the operation itself: inputs are made
 * before the count starts. The relay buffer, idle outside a run, holds the
 * data.
 *
 *   op 1 scalar multiplication: X25519 (RFC 7748 §5) or ECDH on P-256 or
 *        secp160r1 (sd_ecdh: point validation, the ladder, the affine x)
 *   op 2, 3 AEAD seal, open of `size` bytes, 12-byte nonce, no AD:
 *        ChaCha20-Poly1305, AES-128-GCM, AES-256-GCM
 *   op 4 SHA-256 of `size` bytes (any size: the buffer is hashed again and
 *        again)
 */
#include <string.h>

#include "crypto/aesgcm.h"
#include "crypto/chachapoly.h"
#include "crypto/common.h"
#include "crypto/ecc.h"
#include "crypto/sha256.h"
#include "crypto/x25519.h"
#include "internal.h"
#include "port.h"

#if AGENT_BENCH

/* Fixed inputs, no secrets: the scalars of a benchmark are public. */
#define BENCH_SCALAR_BYTE 0x5A
#define BENCH_PEER_BYTE 0x3C
#define BENCH_KEY_MAX 32

/* Where the data sits in the relay buffer. */
#define OFF_SCALAR 0
#define OFF_PEER 32
#define OFF_OUT 97 /* after a 65-byte point; also the peer's scalar */

#if AGENT_RELAY_LEN < OFF_OUT + SD_ECC_MAX_SCALAR_LEN
#error "the relay buffer cannot hold the scalar multiplication benchmark"
#endif

typedef struct {
	uint8_t op, param;
	uint16_t size;
	const sd_ecc_curve *curve;
} bench_job;

/* Each kind of operation in a function of its own, kept out of line: the
 * stack under a scalar multiplication (the deepest there is) holds no
 * AEAD or hash state. */
#if defined(__GNUC__)
#define NOINLINE __attribute__((noinline))
#else
#define NOINLINE
#endif

static NOINLINE int run_scalar_mult(uint8_t *buf, const bench_job *j)
{
	if (j->curve == NULL)
		return sd_x25519(buf + OFF_OUT, buf + OFF_SCALAR, buf + OFF_PEER);
#if AGENT_SEED
	return sd_ecdh(j->curve, buf + OFF_OUT, buf + OFF_SCALAR, buf + OFF_PEER,
		       sd_ecc_point_len(j->curve));
#else
	return SD_ERR_POINT;
#endif
}

/* Seal (the tag of the last seal stays beside the ciphertext, for open)
 * or open, with an all-zero key and nonce. */
static NOINLINE int run_aead(uint8_t *buf, const bench_job *j)
{
	uint8_t key[BENCH_KEY_MAX], tag[SD_AEAD_TAG_LEN], nonce[SD_CHACHA20_NONCE_LEN];
	int err = SD_OK;

	memset(key, 0, sizeof key);
	memset(nonce, 0, sizeof nonce);
	if (j->op == BP_BENCH_AEAD_SEAL) {
		if (j->param == BP_AEAD_CHACHAPOLY)
			sd_aead_chacha20poly1305_seal(buf, tag, key, nonce, NULL, 0, buf, j->size);
#if AGENT_GCM
		else
			err = sd_aes_gcm_seal(buf, tag, key,
					      j->param == BP_AEAD_AES128GCM ? SD_AES128_KEY_LEN
									    : SD_AES256_KEY_LEN,
					      nonce, NULL, 0, buf, j->size);
#endif
		memcpy(buf + j->size, tag, sizeof tag);
		return err;
	}
	if (j->param == BP_AEAD_CHACHAPOLY)
		return sd_aead_chacha20poly1305_open(buf, key, nonce, NULL, 0, buf, j->size,
						     buf + j->size);
#if AGENT_GCM
	return sd_aes_gcm_open(buf, key,
			       j->param == BP_AEAD_AES128GCM ? SD_AES128_KEY_LEN : SD_AES256_KEY_LEN,
			       nonce, NULL, 0, buf, j->size, buf + j->size);
#else
	return SD_ERR_LENGTH;
#endif
}

/* SHA-256 of size bytes: the buffer hashed again and again. */
static NOINLINE int run_sha256(const uint8_t *buf, const bench_job *j)
{
	uint8_t out[SD_SHA256_LEN];
	sd_sha256_ctx h;
	uint16_t left, n;

	sd_sha256_init(&h);
	for (left = j->size; left > 0; left = (uint16_t)(left - n)) {
		n = left < AGENT_RELAY_LEN ? left : AGENT_RELAY_LEN;
		sd_sha256_update(&h, buf, n);
	}
	sd_sha256_final(&h, out);
	return SD_OK;
}

static int run_once(agent *a, const bench_job *j)
{
	switch (j->op) {
	case BP_BENCH_SCALAR_MULT:
		return run_scalar_mult(a->relay, j);
	case BP_BENCH_AEAD_SEAL:
	case BP_BENCH_AEAD_OPEN:
		return run_aead(a->relay, j);
	}
	return run_sha256(a->relay, j);
}

/* Makes the inputs of one run; not counted. */
static int prepare(agent *a, bench_job *j)
{
	bench_job seal = *j;

	if (j->op == BP_BENCH_SCALAR_MULT) {
		/* Our scalar, and the peer's public key: X25519's made from
		 * the peer's scalar (kept where the output goes); on the
		 * Weierstrass curves the base point, which the ladder treats
		 * as any other point (the same field operations, validation
		 * included). A leading zero byte keeps the scalar in [1, n-1]
		 * on either curve. */
		memset(a->relay + OFF_SCALAR, BENCH_SCALAR_BYTE, SD_X25519_LEN);
		if (j->curve == NULL) {
			memset(a->relay + OFF_OUT, BENCH_PEER_BYTE, SD_X25519_LEN);
			sd_x25519_base(a->relay + OFF_PEER, a->relay + OFF_OUT);
			return SD_OK;
		}
#if AGENT_SEED
		a->relay[OFF_SCALAR] = 0;
		sd_ecc_generator(j->curve, a->relay + OFF_PEER);
		return SD_OK;
#endif
	}
	if (j->op == BP_BENCH_AEAD_OPEN) {
		/* A sealed message to open: open in place consumes it. */
		memset(a->relay, 0, j->size);
		seal.op = BP_BENCH_AEAD_SEAL;
		return run_once(a, &seal);
	}
	memset(a->relay, 0, AGENT_RELAY_LEN);
	return SD_OK;
}

uint8_t agent_cmd_bench(agent *a, const uint8_t *p, uint8_t len)
{
	bench_job j;
	uint8_t iterations, i, *r = TX_PAYLOAD(a) + 1;
	uint32_t t0, cost, min = UINT32_MAX, max = 0;
	uint64_t total = 0;

	if (len != BP_BENCH_REQ_LEN)
		return BP_BAD_LENGTH;
	j.op = p[0];
	j.param = p[1];
	j.size = get_be16(p + 2);
	j.curve = NULL;
	iterations = p[4];
	if (j.op < BP_BENCH_SCALAR_MULT || j.op > BP_BENCH_SHA256 || iterations == 0)
		return BP_BAD_VALUE;
	if (a->state != BP_STATE_IDLE)
		return BP_BUSY; /* the relay buffer is the run's */
	switch (j.op) {
	case BP_BENCH_SCALAR_MULT:
#if AGENT_SEED
		if (j.param == BP_CURVE_P256)
			j.curve = &sd_p256;
		else if (j.param == BP_CURVE_SECP160R1)
			j.curve = &sd_secp160r1;
		else
#endif
		if (j.param != BP_CURVE_X25519)
			return BP_UNSUPPORTED;
		break;
	case BP_BENCH_AEAD_SEAL:
	case BP_BENCH_AEAD_OPEN:
		if (j.param != BP_AEAD_CHACHAPOLY && !(AGENT_GCM && (j.param == BP_AEAD_AES128GCM ||
								     j.param == BP_AEAD_AES256GCM)))
			return BP_UNSUPPORTED;
		if (j.size > AGENT_RELAY_LEN - SD_AEAD_TAG_LEN)
			return BP_TOO_LARGE;
		break;
	case BP_BENCH_SHA256:
		if (j.param != 0)
			return BP_BAD_VALUE;
		break;
	}
	for (i = 0; i < iterations; i++) {
		if (prepare(a, &j) != SD_OK)
			return BP_INTERNAL;
		t0 = port_cycles();
		if (run_once(a, &j) != SD_OK)
			return BP_INTERNAL;
		cost = port_cycles() - t0;
		total += cost;
		if (cost < min)
			min = cost;
		if (cost > max)
			max = cost;
	}
	sd_wipe(a->relay, AGENT_RELAY_LEN);
	/* 1B unit | 1B iterations | 8B total | 4B min | 4B max */
	r[0] = port_cost_unit();
	r[1] = iterations;
	put_be64(r + 2, total);
	put_be32(r + 10, min);
	put_be32(r + 14, max);
	a->resp_len = BP_BENCH_RSP_LEN;
	return BP_OK;
}
#endif /* AGENT_BENCH */
