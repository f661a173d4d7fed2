/* test/test_common.c: sd_wipe and sd_ct_equal. */
#include <string.h>

#include "check.h"
#include "crypto/common.h"

void test_common(void)
{
	uint8_t a[33], b[33];
	unsigned i, bit;

	sd_case = "sd_wipe";
	memset(a, 0xA5, sizeof a);
	sd_wipe(a + 1, 31);
	CHECK(a[0] == 0xA5 && a[32] == 0xA5);
	for (i = 1; i < 32; i++)
		CHECK(a[i] == 0);

	sd_case = "sd_ct_equal";
	for (i = 0; i < sizeof a; i++)
		a[i] = b[i] = (uint8_t)(i * 29 + 3);
	CHECK(sd_ct_equal(a, b, sizeof a) == 1);
	CHECK(sd_ct_equal(a, b, 0) == 1);
	/* Every single-bit difference, in every position, is seen. */
	for (i = 0; i < sizeof a; i++) {
		for (bit = 0; bit < 8; bit++) {
			b[i] ^= (uint8_t)(1u << bit);
			CHECK(sd_ct_equal(a, b, sizeof a) == 0);
			b[i] ^= (uint8_t)(1u << bit);
		}
	}
	CHECK(sd_ct_equal(a, b, sizeof a) == 1);
}
