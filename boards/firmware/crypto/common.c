/* crypto/common.c: secret wiping and constant-time comparison. */
#include "common.h"

void sd_wipe(void *p, size_t n)
{
	volatile uint8_t *v = (volatile uint8_t *)p;

	while (n > 0) {
		*v++ = 0;
		n--;
	}
}

int sd_ct_equal(const void *a, const void *b, size_t n)
{
	const uint8_t *x = (const uint8_t *)a;
	const uint8_t *y = (const uint8_t *)b;
	uint8_t diff = 0;
	size_t i;

	for (i = 0; i < n; i++)
		diff |= (uint8_t)(x[i] ^ y[i]);
	/* In 16 bits, (diff - 1) >> 8 is 0xFF when diff == 0 and 0 otherwise. */
	return (int)((uint16_t)((uint16_t)diff - 1u) >> 8 & 1u);
}
