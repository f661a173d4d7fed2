/*
 * test/bench/host.c: times X25519 and the two ECDHs on the host, for
 * comparison across changes. Wall-clock nanoseconds, and time-stamp-counter
 * ticks where the CPU has one (x86-64).
 */
#define _POSIX_C_SOURCE 199309L
#include <stdint.h>
#include <stdio.h>
#include <time.h>

#include "crypto/ecc.h"
#include "crypto/x25519.h"

static uint64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

static uint64_t ticks(void)
{
#if defined(__x86_64__) && defined(__GNUC__)
	uint32_t lo, hi;

	__asm__ __volatile__("rdtsc" : "=a"(lo), "=d"(hi));
	return (uint64_t)hi << 32 | lo;
#else
	return 0;
#endif
}

static uint8_t k[32] = {0x77, 0x07, 0x6d, 0x0a, 0x73, 0x18, 0xa5, 0x7d, 3};
static uint8_t k160[21] = {0x00, 0xaa, 0x37, 0x4f, 0xfc, 0x3c, 5};
static uint8_t u[65], shared[32];

static void run(const char *name, unsigned n, int (*op)(void))
{
	uint64_t t0, c0, ns, cyc;
	unsigned i;
	int err = 0;

	t0 = now_ns();
	c0 = ticks();
	for (i = 0; i < n; i++)
		err |= op();
	cyc = ticks() - c0;
	ns = now_ns() - t0;
	printf("%-22s %6u ops %10.1f us/op", name, n, ns / 1000.0 / n);
	if (cyc != 0)
		printf(" %12.0f TSC ticks/op", (double)cyc / n);
	printf("%s\n", err ? "  (error)" : "");
}

static int op_x25519(void)
{
	u[0] = 9;
	return sd_x25519(u, k, u);
}

static int op_p256(void)
{
	int err = sd_ecc_public(&sd_p256, u, k);

	return err | sd_ecdh(&sd_p256, shared, k, u, SD_P256_POINT_LEN);
}

static int op_secp160r1(void)
{
	int err = sd_ecc_public(&sd_secp160r1, u, k160);

	return err | sd_ecdh(&sd_secp160r1, shared, k160, u, SD_SECP160R1_POINT_LEN);
}

int main(void)
{
	run("X25519", 2000, op_x25519);
	run("P-256 keygen+ECDH", 200, op_p256);
	run("secp160r1 keygen+ECDH", 200, op_secp160r1);
	return 0;
}
