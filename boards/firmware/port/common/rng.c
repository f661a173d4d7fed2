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

/* A slot: 4B generation | 4B its complement, little-endian; a slot whose
 * halves disagree (erased, torn) holds nothing. Two slots, one after the
 * other. */
#define SLOT_LEN 8u
#define GEN_LEN 4u

/* The nonce of a ChaCha20 block (12 bytes), by purpose:
 *   boot:    "boot" | 4B generation | 4B hash of the serial number
 *   request: 4B stirred samples | 4B generation | 4B request number */
#define NONCE_TAG_BOOT 0x746f6f62UL /* "boot", little-endian */

#if RNG_NV_LEN < 2 * SLOT_LEN
#error "RNG_NV_LEN must hold two slots"
#endif

static const uint8_t seed[KEY_LEN] SD_ROM = RNG_SEED;

static uint8_t key[KEY_LEN];
static uint32_t generation, requests, pool;
static uint8_t ready;

static void put_le32(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)v;
	p[1] = (uint8_t)(v >> 8);
	p[2] = (uint8_t)(v >> 16);
	p[3] = (uint8_t)(v >> 24);
}

static uint32_t get_le32(const uint8_t *p)
{
	return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 |
	       (uint32_t)p[3] << 24;
}

/* The generation in slot i, or 0 when the slot holds none. */
static uint32_t read_slot(uint16_t at, uint8_t i)
{
	uint8_t b[SLOT_LEN];
	uint32_t g;

	if (sd_chip_nv_read(at + i * SLOT_LEN, b, SLOT_LEN) != 0)
		return 0;
	g = get_le32(b);
	return g == (uint32_t)~get_le32(b + GEN_LEN) ? g : 0;
}

/* FNV-1a (32 bits) of the serial number: personalisation, not secret. */
static uint32_t hash(const uint8_t *p, size_t n)
{
	uint32_t h = 0x811c9dc5UL;

	while (n-- > 0)
		h = (h ^ *p++) * 0x01000193UL;
	return h;
}

int rng_boot(uint16_t nv_offset, const uint8_t *personal, size_t personal_len)
{
	uint8_t b[SD_CHACHA20_BLOCK_LEN], nonce[SD_CHACHA20_NONCE_LEN];
	uint32_t a = read_slot(nv_offset, 0), c = read_slot(nv_offset, 1);

	ready = 0;
	/* The next generation goes over the older slot (or an empty one);
	 * it is stored before anything is derived from it. */
	generation = (a > c ? a : c) + 1;
	if (generation == 0)
		return -1; /* 2^32 boots: never repeat one */
	put_le32(b, generation);
	put_le32(b + GEN_LEN, ~generation);
	if (sd_chip_nv_write(nv_offset + (a > c ? SLOT_LEN : 0), b, SLOT_LEN) != 0)
		return -1;

	/* key = the first half of ChaCha20(seed, 0, "boot" | g | H(serial)). */
	sd_rom_copy(key, seed, KEY_LEN);
	put_le32(nonce, NONCE_TAG_BOOT);
	put_le32(nonce + 4, generation);
	put_le32(nonce + 8, hash(personal, personal_len));
	sd_chacha20_block(b, key, 0, nonce);
	memcpy(key, b, KEY_LEN);
	sd_wipe(b, sizeof b);
	requests = 0;
	pool = 0;
	ready = 1;
	return 0;
}

void rng_stir(uint32_t sample)
{
	pool = (pool << 7 | pool >> 25) ^ sample;
}

int rng_generate(uint8_t *out, size_t n)
{
	uint8_t b[SD_CHACHA20_BLOCK_LEN], nonce[SD_CHACHA20_NONCE_LEN];
	size_t take;

	if (!ready)
		return -1;
	while (n > 0) {
		put_le32(nonce, pool);
		put_le32(nonce + 4, generation);
		put_le32(nonce + 8, ++requests);
		sd_chacha20_block(b, key, 0, nonce);
		/* Fast key erasure: the key that made this block is gone. */
		memcpy(key, b, KEY_LEN);
		take = n < OUT_LEN ? n : OUT_LEN;
		memcpy(out, b + KEY_LEN, take);
		out += take;
		n -= take;
		pool = 0;
	}
	sd_wipe(b, sizeof b);
	return 0;
}
