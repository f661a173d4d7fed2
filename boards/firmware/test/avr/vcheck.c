/* test/avr/vcheck.c: the vector programs' checks (vcheck.h). */
#include "vcheck.h"

#include <string.h>

#include "port/chip.h"
#include "crypto/ecc.h"
#include "crypto/port.h"
#include "out.h"

static uint16_t checks, failures;
static uint8_t group_failed;
static uint32_t rng = 0x7748u;

void vcheck_begin(const char *title)
{
	sd_chip_init();
	while (sd_chip_getc() < 0)
		;
	put_str("chip " SD_CHIP_NAME " ");
	put_str(title);
	put_str("\r\n");
}

void vcheck_end(void)
{
	put_u32(checks);
	put_str(" checks, ");
	put_u32(failures);
	put_str(" failed\r\n");
	sd_chip_exit(failures != 0);
}

void check(uint8_t ok)
{
	checks++;
	if (!ok) {
		failures++;
		group_failed = 1;
	}
}

void group(const char *name)
{
	put_str(group_failed ? "FAIL " : "ok ");
	put_str(name);
	put_str("\r\n");
	group_failed = 0;
}

static uint8_t nibble(char c)
{
	return (uint8_t)(c <= '9' ? c - '0' : c - 'a' + 10);
}

void unhex(uint8_t *out, const char *hex, uint8_t n)
{
	uint8_t i;

	for (i = 0; i < n; i++)
		out[i] = (uint8_t)(nibble((char)sd_rom_u8(hex + 2 * i)) << 4 |
				   nibble((char)sd_rom_u8(hex + 2 * i + 1)));
}

uint8_t equal_hex(const uint8_t *got, const char *hex, uint8_t n)
{
	uint8_t want[SD_ECC_MAX_POINT_LEN];

	unhex(want, hex, n);
	return memcmp(got, want, n) == 0;
}

void random_bytes(uint8_t *out, uint8_t n)
{
	while (n-- > 0) {
		rng ^= rng << 13;
		rng ^= rng >> 17;
		rng ^= rng << 5;
		*out++ = (uint8_t)rng;
	}
}
