/*
 * test/agent/unit.h: the check harness of the agent's host tests (noise/,
 * seed/, agent/, crypto/aes.c and crypto/gcm.c). A failed check prints its
 * file, line, case and expression; the run exits non-zero when any failed.
 */
#ifndef SD_TEST_AGENT_UNIT_H
#define SD_TEST_AGENT_UNIT_H

#include <stddef.h>
#include <stdint.h>

extern unsigned long ut_checks;
extern unsigned long ut_failures;
extern const char *ut_case; /* printed with every failure */

int ut_check(int ok, const char *expr, const char *file, int line);
int ut_check_mem(const uint8_t *got, size_t got_len, const uint8_t *want,
		 size_t want_len, const char *what, const char *file, int line);

/* Decodes hex test data (spaces allowed) into out; aborts on bad data. */
size_t ut_unhex(uint8_t *out, size_t cap, const char *hex);

/* A deterministic generator (xorshift64*): the same inputs on every run. */
void ut_rng_seed(uint64_t seed);
uint32_t ut_rng_u32(void);
void ut_rng_bytes(uint8_t *out, size_t n);

#define CHECK(e) ut_check((e) ? 1 : 0, #e, __FILE__, __LINE__)
#define CHECK_EQ_MEM(got, got_len, want, want_len) \
	ut_check_mem((got), (got_len), (want), (want_len), #got, __FILE__, __LINE__)
#define COUNT_OF(a) (sizeof(a) / sizeof((a)[0]))

/* The test groups, run in this order. */
void test_aesgcm(void);
void test_noise(void);
void test_seed(void);
void test_frame(void);
void test_agent(void);
void test_agent_sessions(void);
void test_agent_hostile(void);

#endif /* SD_TEST_AGENT_UNIT_H */
