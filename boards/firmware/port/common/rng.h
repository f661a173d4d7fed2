/*
 * port/common/rng.h: the random generator of the chip ports (port_random).
 *
 * None of the three chips has a true random number generator under
 * emulation, and an ATmega328P has none at all, so the agent's ephemeral
 * keys come from a deterministic random bit generator: ChaCha20 (RFC 8439
 * §2.3) keyed by a 256-bit seed that is generated when the image is built
 * (make writes it into build/<chip>/rng_seed.h from the host's random
 * source, or takes RNG_SEED=<64 hex digits>), with fast key erasure: every
 * request takes one ChaCha20 block whose first 32 bytes replace the key
 * and whose last 32 bytes are the output, so a key once used is gone.
 *
 * A reset must never give the same bytes again. At boot the generator
 * reserves a boot generation in non-volatile storage, as the agent
 * reserves message-1 counters: it reads the highest generation g stored in
 * two slots, writes g + 1 over the older slot, and only then derives the
 * boot's key from the seed, g + 1 and the board's serial number. A write
 * cut by power loss leaves the other slot, whose generation was never
 * used. The cycle counter at the arrival of the host's bytes is stirred
 * into every request as well: on a real chip and under an emulator that
 * timing differs from run to run, but nothing here relies on it.
 *
 * What it is not (docs of boards/firmware/README.md):
 *  - unpredictable to whoever knows the seed: the image, or a read-out of
 *    its flash, gives the seed, and with it every ephemeral key (the
 *    timing stirred in adds a few bits per request at best);
 *  - different on two boards flashed with the same image and serial
 *    number, or on one board whose NV storage was erased and which was
 *    flashed with the same image again: build one image per board, or at
 *    least a new one whenever NV is erased;
 *  - a source for long-term keys: device keys come from provisioning.
 */
#ifndef SD_PORT_RNG_H
#define SD_PORT_RNG_H

#include <stddef.h>
#include <stdint.h>

/* Bytes of non-volatile storage the generator uses from nv_offset. */
#define RNG_NV_LEN 16u

/* Reserves a boot generation at nv_offset and derives the boot's key;
 * personal (the serial number) is mixed in. Returns 0, or -1 when storage
 * fails: then rng_generate fails too. */
int rng_boot(uint16_t nv_offset, const uint8_t *personal, size_t personal_len);

/* Stirs a sample (a cycle count) into the next request. */
void rng_stir(uint32_t sample);

/* Fills out with n bytes. Returns 0, or -1 before a successful rng_boot. */
int rng_generate(uint8_t *out, size_t n);

#endif /* SD_PORT_RNG_H */
