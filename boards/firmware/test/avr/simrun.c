/*
 * test/avr/simrun.c: runs test/avr/bench.c's image under simavr and prints,
 * for each operation, the cycles between its start and end markers
 * (GPIOR0), whether the chip found the right result, and its peak stack
 * (the records on GPIOR1). Exits non-zero if any result was wrong or the
 * simulated chip crashed.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

#include "sim_avr.h"
#include "sim_elf.h"

#define GPIOR0_ADDR 0x3E /* data-space address on the ATmega328P */
#define GPIOR1_ADDR 0x4A
#define OP_END 0x80
#define MAX_OPS 16

static const char *const names[] = {
	"x25519 (RFC 7748 5.2 #1)", "x25519 base point (6.1)",
	"ECDH P-256 (RFC 5903 8.1)", "ECDH secp160r1 (GEC 2)",
	"ChaChaPoly seal 64 B + 16 B AD", "SHA-256 of 64 B",
};

static avr_cycle_count_t start[MAX_OPS], stop[MAX_OPS];
static uint8_t rec[4 * MAX_OPS];
static unsigned nrec;

static void on_gpior0(avr_t *avr, avr_io_addr_t addr, uint8_t v, void *param)
{
	(void)param;
	avr->data[addr] = v;
	if ((v & ~OP_END) < MAX_OPS) {
		if (v & OP_END)
			stop[v & ~OP_END] = avr->cycle;
		else
			start[v] = avr->cycle;
	}
}

static void on_gpior1(avr_t *avr, avr_io_addr_t addr, uint8_t v, void *param)
{
	(void)param;
	avr->data[addr] = v;
	if (nrec < sizeof rec)
		rec[nrec++] = v;
}

int main(int argc, char **argv)
{
	elf_firmware_t fw = {{0}};
	avr_t *avr;
	int state, bad = 0;
	unsigned i;

	if (argc != 3) {
		fprintf(stderr, "usage: %s MCU IMAGE.elf\n", argv[0]);
		return 2;
	}
	if (elf_read_firmware(argv[2], &fw) != 0) {
		fprintf(stderr, "simrun: cannot read %s\n", argv[2]);
		return 2;
	}
	avr = avr_make_mcu_by_name(argv[1]);
	if (avr == NULL) {
		fprintf(stderr, "simrun: unknown MCU %s\n", argv[1]);
		return 2;
	}
	avr_init(avr);
	avr->frequency = 16000000;
	avr_load_firmware(avr, &fw);
	avr_register_io_write(avr, GPIOR0_ADDR, on_gpior0, NULL);
	avr_register_io_write(avr, GPIOR1_ADDR, on_gpior1, NULL);

	do {
		state = avr_run(avr);
	} while (state != cpu_Done && state != cpu_Crashed);
	if (state == cpu_Crashed) {
		fprintf(stderr, "simrun: the simulated chip crashed\n");
		return 1;
	}

	printf("%-32s %12s %9s %7s %s\n", "operation", "cycles", "ms@16MHz", "stack",
	       "result");
	for (i = 0; i + 4 <= nrec; i += 4) {
		unsigned op = rec[i], ok = rec[i + 1];
		unsigned stack = rec[i + 2] | (unsigned)rec[i + 3] << 8;
		unsigned long long cyc = (unsigned long long)(stop[op] - start[op]);

		printf("%-32s %12llu %9.1f %7u %s\n",
		       op < sizeof names / sizeof names[0] ? names[op] : "?", cyc,
		       cyc / 16000.0, stack, ok ? "ok" : "WRONG");
		bad |= !ok;
	}
	return bad ? 1 : 0;
}
