/* test/check.c: the check harness and the test runner's main. */
#include "check.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

unsigned long sd_checks;
unsigned long sd_failures;
int sd_slow;
const char *sd_case = "";

int sd_check(int ok, const char *expr, const char *file, int line)
{
	sd_checks++;
	if (!ok) {
		sd_failures++;
		fprintf(stderr, "%s:%d: [%s] check failed: %s\n", file, line,
			sd_case, expr);
	}
	return ok;
}

static void print_hex(const char *label, const uint8_t *b, size_t len)
{
	size_t i;

	fprintf(stderr, "  %s ", label);
	for (i = 0; i < len; i++)
		fprintf(stderr, "%02x", b[i]);
	fprintf(stderr, "\n");
}

int sd_check_mem(const uint8_t *got, const uint8_t *want, size_t len,
		 const char *what, const char *file, int line)
{
	int ok = memcmp(got, want, len) == 0;

	sd_check(ok, what, file, line);
	if (!ok) {
		print_hex("got: ", got, len);
		print_hex("want:", want, len);
	}
	return ok;
}

int sd_check_hex(const uint8_t *got, size_t len, const char *want_hex,
		 const char *what, const char *file, int line)
{
	uint8_t want[1024];
	size_t n = unhex(want, sizeof want, want_hex);

	if (n != len) {
		fprintf(stderr, "%s:%d: [%s] %s: have %lu bytes, vector has %lu\n",
			file, line, sd_case, what, (unsigned long)len,
			(unsigned long)n);
		sd_checks++;
		sd_failures++;
		return 0;
	}
	return sd_check_mem(got, want, len, what, file, line);
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

size_t unhex(uint8_t *out, size_t cap, const char *hex)
{
	size_t n = 0;
	int hi = -1;

	for (; *hex != '\0'; hex++) {
		int v;

		if (*hex == ' ' || *hex == '\n' || *hex == ':')
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

void rng_seed(sd_rng *r, uint64_t seed)
{
	r->s = seed ? seed : 0x9E3779B97F4A7C15ULL;
}

uint32_t rng_u32(sd_rng *r)
{
	r->s ^= r->s >> 12;
	r->s ^= r->s << 25;
	r->s ^= r->s >> 27;
	return (uint32_t)((r->s * 0x2545F4914F6CDD1DULL) >> 32);
}

void rng_bytes(sd_rng *r, uint8_t *out, size_t len)
{
	while (len-- > 0)
		*out++ = (uint8_t)rng_u32(r);
}

int main(int argc, char **argv)
{
	int i;

	for (i = 1; i < argc; i++) {
		if (strcmp(argv[i], "--slow") == 0) {
			sd_slow = 1;
		} else {
			fprintf(stderr, "usage: %s [--slow]\n", argv[0]);
			return 2;
		}
	}
	test_common();
	test_sha256();
	test_chachapoly();
	test_x25519();
	test_ecc();
	printf("%lu checks, %lu failed\n", sd_checks, sd_failures);
	return sd_failures == 0 ? 0 : 1;
}
