/*
 * port/common/rng.c: see rng.h. Built once per chip, against port/chip.h
 * (storage) and the seed make generated for its image (rng_seed.h,
 * RNG_SEED: 32 bytes).
 */
#include "rng.h"

#include <string.h>

#include "port/chip.h"
#include "crypto/chachapoly.h"
#include "crypto/common.h"
#include "crypto/port.h"
#include "rng_seed.h"

#define KEY_LEN SD_CHACHA20_KEY_LEN
#define OUT_LEN (SD_CHACHA20_BLOCK_LEN - KEY_LEN) /* bytes per request block */

/* NV: the seed file (32 bytes), then one byte that says whether
 * provisioning has seeded it. */
#define SEED_LEN KEY_LEN
#define MARK_AT SEED_LEN
#define MARK_SEEDED 0xA5u

/* The nonce of a ChaCha20 block (12 bytes), by purpose:
 *   boot:    "boot" | 4B 0 | 4B 0
 *   mix:     "mix" 0 | 4B what is mixed in (MIX_*) | 4B 0
 *   seed:    "seed" | 4B 0 | 4B 0: the next seed file
 *   request: "req" 0 | 4B 0 | 4B request number */
#define NONCE_TAG_BOOT 0x746f6f62UL /* "boot", little-endian */
#define NONCE_TAG_MIX 0x0078696dUL  /* "mix" 0 */
#define NONCE_TAG_SEED 0x64656573UL /* "seed" */
#define NONCE_TAG_REQ 0x00716572UL  /* "req" 0 */
#define MIX_SEED_FILE 1u            /* the seed file from NV */
#define MIX_HARDWARE 2u             /* the chip's entropy source */
#define MIX_HOST 3u                 /* PROVISION rng_seed */

#if RNG_NV_LEN < SEED_LEN + 1 || RNG_ENTROPY_LEN > KEY_LEN || RNG_SEED_LEN != KEY_LEN
#error "rng.h's sizes: NV holds the seed file and its mark; a key update takes at most 32 bytes"
#endif

static const uint8_t seed[KEY_LEN] SD_ROM = RNG_SEED;

static uint8_t key[KEY_LEN];
static uint32_t requests;
static uint16_t nv_at;
static uint8_t ready, status;

static void put_le32(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)v;
	p[1] = (uint8_t)(v >> 8);
	p[2] = (uint8_t)(v >> 16);
	p[3] = (uint8_t)(v >> 24);
}

/* b = ChaCha20(key, 0, a | c | d), one block; its first half becomes the
 * key (fast key erasure: the key that made b is gone), its second half is
 * output. Every use of the key goes through here. */
static void step(uint8_t b[SD_CHACHA20_BLOCK_LEN], uint32_t a, uint32_t c, uint32_t d)
{
	uint8_t nonce[SD_CHACHA20_NONCE_LEN];

	put_le32(nonce, a);
	put_le32(nonce + 4, c);
	put_le32(nonce + 8, d);
	sd_chacha20_block(b, key, 0, nonce);
	memcpy(key, b, KEY_LEN);
}

/* The key update: key ^= p (32 bytes), then a step with the nonce
 * "mix" | what | 0. Samples and seeds only reach the key through the
 * block function, so a weak input cannot weaken a strong key. */
static void mix(const uint8_t p[KEY_LEN], uint32_t what)
{
	uint8_t b[SD_CHACHA20_BLOCK_LEN];
	uint8_t i;

	for (i = 0; i < KEY_LEN; i++)
		key[i] ^= p[i];
	step(b, NONCE_TAG_MIX, what, 0);
	sd_wipe(b, sizeof b);
}

/* Writes the next seed file: the second half of a step, whose first half
 * becomes the key, so no later key gives the file back. Nothing is drawn
 * from the generator before the file is stored: a boot whose write never
 * happened gave nothing, and a torn write leaves a file no boot has used.
 * Then the generator is ready. */
static int save_seed(void)
{
	uint8_t b[SD_CHACHA20_BLOCK_LEN];
	int err;

	step(b, NONCE_TAG_SEED, 0, 0);
	err = sd_chip_nv_write(nv_at, b + KEY_LEN, SEED_LEN);
	sd_wipe(b, sizeof b);
	ready = err == 0;
	return ready ? 0 : -1;
}

int rng_boot(uint16_t nv_offset)
{
	uint8_t b[SD_CHACHA20_BLOCK_LEN];

	ready = 0;
	status = 0;
	requests = 0;
	nv_at = nv_offset;
	/* key = the first half of ChaCha20(image seed, 0, "boot" | 0 | 0) */
	sd_rom_copy(key, seed, KEY_LEN);
	step(b, NONCE_TAG_BOOT, 0, 0);
	/* then the seed file (erased: all 0xFF or 0x00, the same on every
	 * board) */
	if (sd_chip_nv_read(nv_at, b, SEED_LEN + 1) != 0)
		return -1;
	if (b[MARK_AT] == MARK_SEEDED)
		status = RNG_STATUS_SEEDED;
	mix(b, MIX_SEED_FILE);
	/* then the chip's entropy, where it has a source (what it did not
	 * fill stays zero) */
	memset(b, 0, KEY_LEN);
	if (sd_chip_entropy(b, RNG_ENTROPY_LEN) > 0) {
		mix(b, MIX_HARDWARE);
		status |= RNG_STATUS_HARDWARE;
	}
	sd_wipe(b, sizeof b);
	return save_seed();
}

int rng_generate(uint8_t *out, size_t n)
{
	uint8_t b[SD_CHACHA20_BLOCK_LEN];
	size_t take;

	if (!ready)
		return -1;
	while (n > 0) {
		step(b, NONCE_TAG_REQ, 0, ++requests);
		take = n < OUT_LEN ? n : OUT_LEN;
		memcpy(out, b + KEY_LEN, take);
		out += take;
		n -= take;
	}
	sd_wipe(b, sizeof b);
	return 0;
}

int rng_reseed(const uint8_t in[RNG_SEED_LEN])
{
	uint8_t mark = MARK_SEEDED;

	if (!ready)
		return -1;
	/* The running key takes the host's bytes at once, and the seed file
	 * every later boot starts from is drawn from it. */
	mix(in, MIX_HOST);
	if (save_seed() != 0 || sd_chip_nv_write(nv_at + MARK_AT, &mark, 1) != 0)
		return -1;
	status |= RNG_STATUS_SEEDED;
	return 0;
}

uint8_t rng_status(void)
{
	return status;
}
