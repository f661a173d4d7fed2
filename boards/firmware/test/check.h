/*
 * test/check.h: the small check harness of the host tests. A failed check
 * prints its file, line and expression and counts; the run exits non-zero
 * when any check failed.
 */
#ifndef SD_TEST_CHECK_H
#define SD_TEST_CHECK_H

#include <stddef.h>
#include <stdint.h>

extern unsigned long sd_checks;
extern unsigned long sd_failures;
extern int sd_slow; /* set by --slow: run the long vectors too */
extern const char *sd_case; /* the vector being checked, printed on failure */

int sd_check(int ok, const char *expr, const char *file, int line);
int sd_check_mem(const uint8_t *got, const uint8_t *want, size_t len,
		 const char *what, const char *file, int line);
int sd_check_hex(const uint8_t *got, size_t len, const char *want_hex,
		 const char *what, const char *file, int line);

/* unhex decodes a hex string of test data (spaces allowed) into out and
 * returns its length; malformed data aborts the run. */
size_t unhex(uint8_t *out, size_t cap, const char *hex);

/* A deterministic generator for randomised tests (xorshift64*): the same
 * seed gives the same inputs on every run and every machine. */
typedef struct {
	uint64_t s;
} sd_rng;
void rng_seed(sd_rng *r, uint64_t seed);
void rng_bytes(sd_rng *r, uint8_t *out, size_t len);
uint32_t rng_u32(sd_rng *r);

#define CHECK(e) sd_check((e) ? 1 : 0, #e, __FILE__, __LINE__)
#define CHECK_MEM(got, want, len) \
	sd_check_mem((got), (want), (len), #got, __FILE__, __LINE__)
#define CHECK_HEX(got, len, hex) \
	sd_check_hex((got), (len), (hex), #got, __FILE__, __LINE__)

#define COUNT_OF(a) (sizeof(a) / sizeof((a)[0]))

/* The test groups, one per primitive, run by main in this order. */
void test_common(void);
void test_sha256(void);
void test_chachapoly(void);
void test_x25519(void);
void test_ecc(void);

#endif /* SD_TEST_CHECK_H */
