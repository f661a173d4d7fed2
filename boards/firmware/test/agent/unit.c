/* test/agent/unit.c: the check harness and the test runner's main. */
#include "unit.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

unsigned long ut_checks;
unsigned long ut_failures;
const char *ut_case = "";

int ut_check(int ok, const char *expr, const char *file, int line)
{
	ut_checks++;
	if (!ok) {
		ut_failures++;
		fprintf(stderr, "%s:%d: [%s] check failed: %s\n", file, line, ut_case, expr);
	}
	return ok;
}

static void print_hex(const char *label, const uint8_t *b, size_t n)
{
	size_t i;

	fprintf(stderr, "  %s (%lu) ", label, (unsigned long)n);
	for (i = 0; i < n; i++)
		fprintf(stderr, "%02x", b[i]);
	fprintf(stderr, "\n");
}

int ut_check_mem(const uint8_t *got, size_t got_len, const uint8_t *want,
		 size_t want_len, const char *what, const char *file, int line)
{
	int ok = got_len == want_len && (want_len == 0 || memcmp(got, want, want_len) == 0);

	ut_check(ok, what, file, line);
	if (!ok) {
		print_hex("got: ", got, got_len);
		print_hex("want:", want, want_len);
	}
	return ok;
}

static int nibble(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

size_t ut_unhex(uint8_t *out, size_t cap, const char *hex)
{
	size_t n = 0;
	int hi = -1, v;

	for (; *hex != '\0'; hex++) {
		if (*hex == ' ')
			continue;
		v = nibble(*hex);
		if (v < 0 || (hi < 0 && n == cap)) {
			fprintf(stderr, "bad test vector data\n");
			exit(2);
		}
		if (hi < 0) {
			hi = v;
		} else {
			out[n++] = (uint8_t)(hi << 4 | v);
			hi = -1;
		}
	}
	if (hi >= 0) {
		fprintf(stderr, "odd-length test vector data\n");
		exit(2);
	}
	return n;
}

static uint64_t rng_state = 1;

void ut_rng_seed(uint64_t seed)
{
	rng_state = seed != 0 ? seed : 0x9E3779B97F4A7C15ULL;
}

uint32_t ut_rng_u32(void)
{
	rng_state ^= rng_state >> 12;
	rng_state ^= rng_state << 25;
	rng_state ^= rng_state >> 27;
	return (uint32_t)((rng_state * 0x2545F4914F6CDD1DULL) >> 32);
}

void ut_rng_bytes(uint8_t *out, size_t n)
{
	while (n-- > 0)
		*out++ = (uint8_t)ut_rng_u32();
}

int main(void)
{
	test_aesgcm();
	test_noise();
	test_seed();
	test_frame();
	test_agent();
	test_agent_sessions();
	test_agent_hostile();
	printf("%lu checks, %lu failed\n", ut_checks, ut_failures);
	return ut_failures == 0 ? 0 : 1;
}
