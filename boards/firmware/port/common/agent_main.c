/*
 * port/common/agent_main.c: the agent (agent/agent.h) on a chip: the
 * functions of agent/port.h written once on top of the chip layer that
 * port/chip.h declares, and the main loop. Built once per chip
 * (make agents), with:
 *
 *   AGENT_BOARD   the board name INFO reports, a string (default: the chip's)
 *   AGENT_SERIAL  the serial number INFO reports, a string: fixed when the
 *                 image is built, so it stays the same across resets
 *
 * Storage: the agent's AGENT_NV_SIZE bytes from address 0 of the chip's
 * NV (EEPROM on the ATmega328P, RAM standing in on the QEMU machines), the
 * random generator's seed file right after them.
 */
#include <stdint.h>

#include "agent/agent.h"
#include "agent/port.h"
#include "port/chip.h"
#include "crypto/port.h"
#include "rng.h"

#ifndef AGENT_BOARD
#define AGENT_BOARD SD_CHIP_NAME
#endif
#ifndef AGENT_SERIAL
#define AGENT_SERIAL "EMULATED-0001"
#endif

#define RNG_NV_OFFSET AGENT_NV_SIZE
#define RX_CHUNK 16 /* bytes handed to the agent at a time */

#if RNG_NV_OFFSET + RNG_NV_LEN > SD_CHIP_NV_BYTES
#error "the chip's NV storage cannot hold the agent's and the generator's"
#endif

static const char board_name[] SD_ROM = AGENT_BOARD;
static const char chip_name[] SD_ROM = SD_CHIP_NAME;
static const char serial_number[] SD_ROM = AGENT_SERIAL;

static agent the_agent;
static uint16_t stack_least_free; /* since boot, over every measurement */

/* ---------------------------------------------------------------- port.h */

void port_write(const uint8_t *p, size_t n)
{
	while (n-- > 0)
		sd_chip_putc(*p++);
}

uint32_t port_cycles(void)
{
	return sd_chip_cycles();
}

uint8_t port_cost_unit(void)
{
	return SD_CHIP_COUNTS_CYCLES ? BP_UNIT_CYCLES : BP_UNIT_INSTRUCTIONS;
}

uint32_t port_clock_hz(void)
{
	return SD_CHIP_HZ;
}

uint32_t port_millis(void)
{
	return sd_chip_millis();
}

int port_random(uint8_t *out, size_t n)
{
	return rng_generate(out, n);
}

int port_random_seed(const uint8_t *p, size_t n)
{
	return n == RNG_SEED_LEN ? rng_reseed(p) : -1;
}

#if RNG_STATUS_HARDWARE != PORT_RANDOM_ENTROPY || RNG_STATUS_SEEDED != PORT_RANDOM_SEEDED
#error "rng_status must use port_random_status's bits"
#endif

uint8_t port_random_status(void)
{
	return rng_status();
}

/* The agent's part of NV: [0, AGENT_NV_SIZE). */
static int agent_range(uint16_t addr, uint16_t n)
{
	return n <= AGENT_NV_SIZE && addr <= AGENT_NV_SIZE - n;
}

int port_nv_read(uint16_t addr, uint8_t *out, uint16_t n)
{
	return agent_range(addr, n) ? sd_chip_nv_read(addr, out, n) : -1;
}

int port_nv_write(uint16_t addr, const uint8_t *p, uint16_t n)
{
	return agent_range(addr, n) ? sd_chip_nv_write(addr, p, n) : -1;
}

static uint8_t copy_rom(const char *rom, uint8_t *out, uint8_t cap)
{
	uint8_t n = 0, c;

	while (n < cap && (c = sd_rom_u8(rom + n)) != 0)
		out[n++] = c;
	return n;
}

uint8_t port_string(uint8_t which, uint8_t *out, uint8_t cap)
{
	switch (which) {
	case PORT_STRING_BOARD:
		return copy_rom(board_name, out, cap);
	case PORT_STRING_CHIP:
		return copy_rom(chip_name, out, cap);
	case PORT_STRING_SERIAL:
		return copy_rom(serial_number, out, cap);
	}
	return 0;
}

/* The free stack left by the measurement since the last mark. */
static uint16_t stack_free_now(void)
{
	uint32_t f = sd_chip_stack_free();

	return f > UINT16_MAX ? UINT16_MAX : (uint16_t)f;
}

void port_stack_mark(void)
{
	uint16_t f = stack_free_now();

	if (f < stack_least_free)
		stack_least_free = f;
	sd_chip_stack_paint();
}

int port_stack_read(uint16_t *peak, uint16_t *least_free)
{
	uint32_t size = sd_chip_stack_size();
	uint16_t f = stack_free_now();

	*peak = (uint16_t)(size - f);
	*least_free = f < stack_least_free ? f : stack_least_free;
	return 0;
}

/* ---------------------------------------------------------------- main */

/* BOOT's reason for the chip's reset cause (docs/board-protocol.md §5.9). */
static uint8_t boot_reason(void)
{
	switch (sd_chip_reset_cause()) {
	case SD_CHIP_RESET_POWER_ON:
		return BP_BOOT_POWER_ON;
	case SD_CHIP_RESET_EXTERNAL:
		return BP_BOOT_EXTERNAL;
	case SD_CHIP_RESET_WATCHDOG:
		return BP_BOOT_WATCHDOG;
	case SD_CHIP_RESET_SOFTWARE:
		return BP_BOOT_SOFT;
	case SD_CHIP_RESET_BROWN_OUT:
		return BP_BOOT_BROWN_OUT;
	}
	return BP_BOOT_UNKNOWN;
}

int main(int argc, char **argv)
{
	uint8_t buf[RX_CHUNK];
	size_t n;
	int c;

	(void)argc;
	(void)argv;
	sd_chip_init();
	stack_least_free = UINT16_MAX;
	sd_chip_stack_paint();
	/* A failure leaves the generator off: handshakes then fail. */
	rng_boot(RNG_NV_OFFSET);
	agent_boot(&the_agent, boot_reason());
	for (;;) {
		n = 0;
		while (n < sizeof buf && (c = sd_chip_getc()) >= 0)
			buf[n++] = (uint8_t)c;
		if (n > 0) {
			if (agent_rx(&the_agent, buf, n) & AGENT_ACT_REBOOT)
				sd_chip_reboot();
		} else {
			sd_chip_idle();
		}
		agent_tick(&the_agent);
	}
}
