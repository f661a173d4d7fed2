/*
 * port/common/rng.h: the random generator of the chip ports (port_random).
 *
 * The agent's ephemeral keys come from a deterministic random bit
 * generator: ChaCha20 (RFC 8439 §2.3) with fast key erasure: every request
 * takes one ChaCha20 block whose first 32 bytes replace the key and whose
 * last 32 bytes are the output, so a key once used is gone.
 *
 * The key of a boot is built in three steps; each but the first is a key
 * update (mix: the key, XORed with up to 32 bytes of input, keys one
 * ChaCha20 block whose first half is the new key: input never becomes the
 * key itself, and a weak input cannot weaken a strong key):
 *  1. the image seed, 256 bits generated when the image is built (make
 *     writes build/<chip>/rng_seed.h from the host's random source, or
 *     takes RNG_SEED=<64 hex digits>); the serial number, built into the
 *     image as well, would add nothing;
 *  2. the seed file: 32 bytes in non-volatile storage;
 *  3. the chip's hardware entropy (sd_chip_entropy: an RNG peripheral,
 *     oscillator jitter), RNG_ENTROPY_LEN bytes at boot where the chip has
 *     a source.
 * Before it gives a byte, the generator writes the next seed file, drawn
 * from that key: a reset never gives the same bytes again (a boot whose
 * write was cut gave nothing; a torn write leaves a file no boot used),
 * and what a boot's entropy added carries over to every later boot. The
 * same seed-file scheme as an operating system's saved random seed.
 *
 * Provisioning seeds the file (PROVISION rng_seed, rng_reseed): the host's
 * 32 random bytes are mixed into the running key, which takes effect at
 * once, and a new seed file is drawn from it. An image alone then no
 * longer fixes the stream: two boards flashed with the same image, each
 * provisioned, differ. rng_status says whether the file was seeded so and
 * whether the chip's source gave bytes at this boot; the agent reports both
 * in INFO (caps seeded and entropy), so a chip without a source is never
 * silent about it. (The cycle count at the arrival of the host's bytes is
 * not stirred in: under an emulator it made two fresh processes of one
 * image differ while adding only a few bits an attacker can search, which
 * hid the repetition the reflash spec shows.)
 *
 * What it is not (boards/firmware/README.md, docs/security.md):
 *  - unpredictable to whoever knows the image seed and the seed file: on a
 *    chip with no entropy source (every emulated lab chip), the image and a
 *    recording of the PROVISION that seeded it give every ephemeral key;
 *  - different on two unprovisioned boards flashed with the same image and
 *    serial number on a chip without a source, or on one such board whose
 *    NV storage was erased and which was flashed with the same image again:
 *    their ephemerals repeat;
 *  - a source for long-term keys: device keys come from provisioning.
 */
#ifndef SD_PORT_RNG_H
#define SD_PORT_RNG_H

#include <stddef.h>
#include <stdint.h>

/* Bytes of non-volatile storage the generator uses from nv_offset: the
 * 32-byte seed file and the byte that marks it seeded by provisioning. */
#define RNG_NV_LEN 33u
/* Bytes asked of the chip's entropy source at boot (at most 32): 128 bits
 * from an RNG peripheral; the nRF51 takes 10.6 ms for them (QEMU: 10.6 M
 * instructions), the ATmega328P 0.26 s of watchdog periods. */
#define RNG_ENTROPY_LEN 16u
/* Bytes of the host's seed rng_reseed takes (PROVISION rng_seed). */
#define RNG_SEED_LEN 32u

/* rng_status bits. */
#define RNG_STATUS_HARDWARE 0x08u /* the chip's entropy source gave bytes at this boot */
#define RNG_STATUS_SEEDED 0x10u   /* provisioning has seeded the seed file */

/* Derives the boot's key from the image seed, the seed file at nv_offset
 * and the chip's entropy, and writes the next seed file. Returns 0, or -1
 * when storage fails: then rng_generate fails too. */
int rng_boot(uint16_t nv_offset);

/* Fills out with n bytes. Returns 0, or -1 before a successful rng_boot. */
int rng_generate(uint8_t *out, size_t n);

/* Mixes the host's RNG_SEED_LEN bytes into the key, then writes the next
 * seed file and marks it seeded (PROVISION rng_seed). Returns 0, or -1
 * before rng_boot or when storage fails. */
int rng_reseed(const uint8_t in[RNG_SEED_LEN]);

/* RNG_STATUS_* of this boot (the bits of port_random_status and of
 * INFO's caps entropy and seeded). */
uint8_t rng_status(void);

#endif /* SD_PORT_RNG_H */
