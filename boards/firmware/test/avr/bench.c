/*
 * test/avr/bench.c: the chip benchmark, one program for the three chips
 * (ATmega328P, Cortex-M3, RV32; `make bench-chips` builds it against
 * port/<chip>/). It runs each operation once on a published vector,
 * checks the result on the chip, and prints one line per operation on the
 * UART:
 *
 *   chip <name> unit <cycles|instructions>
 *   bench <op> <count> <stack bytes> <ok|WRONG>
 *   #exit <number of wrong results>
 *
 * count is the chip's own counter less what its own interrupt took
 * (port/chip.h: sd_chip_cycles), so it does not depend on where the
 * ATmega328P's Timer1 stood when an operation began, which moves with
 * the moment the runner's start byte arrives: two runs agree exactly. On
 * the AVR the simavr runner also prints the cycles between the GPIOR0
 * markers around each operation (sd_chip_mark), interrupts included. The stack figure
 * is the deepest byte the operation wrote below the caller's frame
 * (sd_chip_stack_paint/peak). The vectors stay in flash (SD_ROM) so the
 * ATmega328P's 2 KB of RAM hold only the working buffers.
 *
 * ChaCha20-Poly1305 is timed on 64 and 256 bytes with 16 bytes of AD;
 * per byte = (count(256) - count(64)) / 192, reported in hundredths as
 * aead_per_byte_x100.
 *
 * The program waits for one byte on the UART before it starts: QEMU drops
 * output until its pseudo-terminal is opened, so the runner opens it,
 * then sends the byte.
 */
#include <stdint.h>
#include <string.h>

#include "port/chip.h"
#include "out.h"
#include "crypto/chachapoly.h"
#include "crypto/common.h"
#include "crypto/ecc.h"
#include "crypto/port.h"
#include "crypto/sha256.h"
#include "crypto/x25519.h"

enum { OP_X25519, OP_X25519_BASE, OP_ECDH_P256, OP_ECDH_SECP160R1,
       OP_AEAD_64, OP_AEAD_256, OP_SHA256_64 };

#define AEAD_SHORT 64
#define AEAD_LONG 256
#define AD_LEN 16

/* RFC 7748 §5.2, first vector (scalar, u, output), little-endian. */
static const uint8_t x_k[32] SD_ROM = {
	0xa5, 0x46, 0xe3, 0x6b, 0xf0, 0x52, 0x7c, 0x9d, 0x3b, 0x16, 0x15, 0x4b,
	0x82, 0x46, 0x5e, 0xdd, 0x62, 0x14, 0x4c, 0x0a, 0xc1, 0xfc, 0x5a, 0x18,
	0x50, 0x6a, 0x22, 0x44, 0xba, 0x44, 0x9a, 0xc4};
static const uint8_t x_u[32] SD_ROM = {
	0xe6, 0xdb, 0x68, 0x67, 0x58, 0x30, 0x30, 0xdb, 0x35, 0x94, 0xc1, 0xa4,
	0x24, 0xb1, 0x5f, 0x7c, 0x72, 0x66, 0x24, 0xec, 0x26, 0xb3, 0x35, 0x3b,
	0x10, 0xa9, 0x03, 0xa6, 0xd0, 0xab, 0x1c, 0x4c};
static const uint8_t x_out[32] SD_ROM = {
	0xc3, 0xda, 0x55, 0x37, 0x9d, 0xe9, 0xc6, 0x90, 0x8e, 0x94, 0xea, 0x4d,
	0xf2, 0x8d, 0x08, 0x4f, 0x32, 0xec, 0xcf, 0x03, 0x49, 0x1c, 0x71, 0xf7,
	0x54, 0xb4, 0x07, 0x55, 0x77, 0xa2, 0x85, 0x52};
/* RFC 7748 §6.1: Alice's private key and public key. */
static const uint8_t a_priv[32] SD_ROM = {
	0x77, 0x07, 0x6d, 0x0a, 0x73, 0x18, 0xa5, 0x7d, 0x3c, 0x16, 0xc1, 0x72,
	0x51, 0xb2, 0x66, 0x45, 0xdf, 0x4c, 0x2f, 0x87, 0xeb, 0xc0, 0x99, 0x2a,
	0xb1, 0x77, 0xfb, 0xa5, 0x1d, 0xb9, 0x2c, 0x2a};
static const uint8_t a_pub[32] SD_ROM = {
	0x85, 0x20, 0xf0, 0x09, 0x89, 0x30, 0xa7, 0x54, 0x74, 0x8b, 0x7d, 0xdc,
	0xb4, 0x3e, 0xf7, 0x5a, 0x0d, 0xbf, 0x3a, 0x0d, 0x26, 0x38, 0x1a, 0xf4,
	0xeb, 0xa4, 0xa9, 0x8e, 0xaa, 0x9b, 0x4e, 0x6a};
/* RFC 5903 §8.1: i, g^r and the x of g^ir. */
static const uint8_t p_i[32] SD_ROM = {
	0xc8, 0x8f, 0x01, 0xf5, 0x10, 0xd9, 0xac, 0x3f, 0x70, 0xa2, 0x92, 0xda,
	0xa2, 0x31, 0x6d, 0xe5, 0x44, 0xe9, 0xaa, 0xb8, 0xaf, 0xe8, 0x40, 0x49,
	0xc6, 0x2a, 0x9c, 0x57, 0x86, 0x2d, 0x14, 0x33};
static const uint8_t p_gr[65] SD_ROM = {
	0x04, 0xd1, 0x2d, 0xfb, 0x52, 0x89, 0xc8, 0xd4, 0xf8, 0x12, 0x08, 0xb7,
	0x02, 0x70, 0x39, 0x8c, 0x34, 0x22, 0x96, 0x97, 0x0a, 0x0b, 0xcc, 0xb7,
	0x4c, 0x73, 0x6f, 0xc7, 0x55, 0x44, 0x94, 0xbf, 0x63, 0x56, 0xfb, 0xf3,
	0xca, 0x36, 0x6c, 0xc2, 0x3e, 0x81, 0x57, 0x85, 0x4c, 0x13, 0xc5, 0x8d,
	0x6a, 0xac, 0x23, 0xf0, 0x46, 0xad, 0xa3, 0x0f, 0x83, 0x53, 0xe7, 0x4f,
	0x33, 0x03, 0x98, 0x72, 0xab};
static const uint8_t p_z[32] SD_ROM = {
	0xd6, 0x84, 0x0f, 0x6b, 0x42, 0xf6, 0xed, 0xaf, 0xd1, 0x31, 0x16, 0xe0,
	0xe1, 0x25, 0x65, 0x20, 0x2f, 0xef, 0x8e, 0x9e, 0xce, 0x7d, 0xce, 0x03,
	0x81, 0x24, 0x64, 0xd0, 0x4b, 0x94, 0x42, 0xde};
/* GEC 2, ECDH over secp160r1: dU, QV and z. */
static const uint8_t s_du[21] SD_ROM = {
	0x00, 0xaa, 0x37, 0x4f, 0xfc, 0x3c, 0xe1, 0x44, 0xe6, 0xb0, 0x73, 0x30,
	0x79, 0x72, 0xcb, 0x6d, 0x57, 0xb2, 0xa4, 0xe9, 0x82};
static const uint8_t s_qv[41] SD_ROM = {
	0x04, 0x49, 0xb4, 0x1e, 0x0e, 0x9c, 0x03, 0x69, 0xc2, 0x32, 0x87, 0x39,
	0xd9, 0x0f, 0x63, 0xd5, 0x67, 0x07, 0xc6, 0xe5, 0xbc, 0x26, 0xe0, 0x08,
	0xb5, 0x67, 0x01, 0x5e, 0xd9, 0x6d, 0x23, 0x2a, 0x03, 0x11, 0x1c, 0x3e,
	0xdc, 0x0e, 0x9c, 0x8f, 0x83};
static const uint8_t s_z[20] SD_ROM = {
	0xca, 0x7c, 0x0f, 0x8c, 0x3f, 0xfa, 0x87, 0xa9, 0x6e, 0x1b, 0x74, 0xac,
	0x8e, 0x6a, 0xf5, 0x94, 0x34, 0x7b, 0xb4, 0x0a};


static uint8_t a[SD_ECC_MAX_POINT_LEN], b[SD_ECC_MAX_POINT_LEN];
static uint8_t buf[AEAD_LONG + SD_AEAD_TAG_LEN];
static uint8_t wrong;

static uint8_t same_rom(const uint8_t *ram, const uint8_t *rom, uint8_t n)
{
	uint8_t diff = 0, i;

	for (i = 0; i < n; i++)
		diff |= (uint8_t)(ram[i] ^ sd_rom_u8(rom + i));
	return diff == 0;
}

/* Timing state of the operation in progress. */
static uint32_t t0;
static uint8_t cur;

static void start(uint8_t op)
{
	cur = op;
	sd_chip_stack_paint();
	sd_chip_mark(op);
	t0 = sd_chip_cycles();
}

static uint32_t stop(const char *name, uint8_t ok)
{
	uint32_t n = sd_chip_cycles() - t0;

	sd_chip_mark((uint8_t)(SD_CHIP_MARK_END | cur));
	put_str("bench ");
	put_str(name);
	sd_chip_putc(' ');
	put_u32(n);
	sd_chip_putc(' ');
	put_u32(sd_chip_stack_peak());
	put_str(ok ? " ok\r\n" : " WRONG\r\n");
	wrong = (uint8_t)(wrong + !ok);
	return n;
}

/* Seals len bytes in place and opens them again; 1 if they come back. */
static uint8_t aead_round_trip(uint8_t op, const char *name, size_t len,
			       uint32_t *count)
{
	uint8_t tag[SD_AEAD_TAG_LEN];
	size_t i;

	for (i = 0; i < len; i++)
		buf[i] = (uint8_t)i;
	sd_rom_copy(a, x_k, 32);
	memset(b, 0x4A, SD_CHACHA20_NONCE_LEN + AD_LEN);
	start(op);
	sd_aead_chacha20poly1305_seal(buf, tag, a, b, b + SD_CHACHA20_NONCE_LEN,
				      AD_LEN, buf, len);
	*count = stop(name, 1);
	if (sd_aead_chacha20poly1305_open(buf, a, b, b + SD_CHACHA20_NONCE_LEN,
					  AD_LEN, buf, len, tag) != SD_OK)
		return 0;
	for (i = 0; i < len; i++)
		if (buf[i] != (uint8_t)i)
			return 0;
	return 1;
}

int main(int argc, char **argv)
{
	uint32_t c64, c256;
	int err;

	(void)argc;
	(void)argv;
	sd_chip_init();
	while (sd_chip_getc() < 0)
		;
	put_str("chip " SD_CHIP_NAME " unit " SD_CHIP_UNIT "\r\n");

	sd_rom_copy(a, x_k, 32);
	sd_rom_copy(b, x_u, 32);
	start(OP_X25519);
	err = sd_x25519(buf, a, b);
	stop("x25519", err == SD_OK && same_rom(buf, x_out, 32));

	sd_rom_copy(a, a_priv, 32);
	start(OP_X25519_BASE);
	sd_x25519_base(buf, a);
	stop("x25519_base", same_rom(buf, a_pub, 32));

	sd_rom_copy(a, p_i, 32);
	sd_rom_copy(b, p_gr, 65);
	start(OP_ECDH_P256);
	err = sd_ecdh(&sd_p256, buf, a, b, 65);
	stop("ecdh_p256", err == SD_OK && same_rom(buf, p_z, 32));

	sd_rom_copy(a, s_du, 21);
	sd_rom_copy(b, s_qv, 41);
	start(OP_ECDH_SECP160R1);
	err = sd_ecdh(&sd_secp160r1, buf, a, b, 41);
	stop("ecdh_secp160r1", err == SD_OK && same_rom(buf, s_z, 20));

	if (!aead_round_trip(OP_AEAD_64, "aead_64", AEAD_SHORT, &c64))
		wrong++;
	if (!aead_round_trip(OP_AEAD_256, "aead_256", AEAD_LONG, &c256))
		wrong++;
	put_str("bench aead_per_byte_x100 ");
	put_u32((c256 - c64) * 100u / (AEAD_LONG - AEAD_SHORT));
	put_str(" 0 ok\r\n");

	memset(buf, 0x5A, 64);
	start(OP_SHA256_64);
	sd_sha256(a, buf, 64);
	stop("sha256_64", 1);

	sd_chip_exit(wrong);
}
