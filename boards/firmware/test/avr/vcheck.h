/*
 * test/avr/vcheck.h: what the ATmega328P's vector programs share
 * (test/avr/vectors.c, test/avr/ecc_vectors.c): checks counted in groups,
 * hex vectors in flash, deterministic pseudo-random bytes. Each group
 * prints "ok <group>" or "FAIL <group>"; vcheck_end prints "N checks, M
 * failed" and exits with 1 if anything failed.
 */
#ifndef SD_TEST_AVR_VCHECK_H
#define SD_TEST_AVR_VCHECK_H

#include <stdint.h>

/* Waits for the runner's first byte, then prints "chip <name> <title>". */
void vcheck_begin(const char *title);
/* Prints the totals and exits. */
void vcheck_end(void) __attribute__((noreturn));

/* Counts a check, a failure when ok is 0. */
void check(uint8_t ok);
/* Ends a group of checks: "ok <name>" or "FAIL <name>". */
void group(const char *name);
/* Decodes n bytes of a hex string in flash. */
void unhex(uint8_t *out, const char *hex, uint8_t n);
/* 1 if the n bytes at got (n at most SD_ECC_MAX_POINT_LEN) equal the hex
 * string in flash. */
uint8_t equal_hex(const uint8_t *got, const char *hex, uint8_t n);
/* xorshift32 (Marsaglia 2003): deterministic inputs, the same each run. */
void random_bytes(uint8_t *out, uint8_t n);

#endif /* SD_TEST_AVR_VCHECK_H */
