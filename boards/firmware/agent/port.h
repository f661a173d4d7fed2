/*
 * agent/port.h: what a chip's port gives the agent. Each port/<chip>/
 * implements these functions; everything else in agent/ is portable C99.
 *
 * A port's main loop boots the agent once (agent_boot), hands it every
 * byte the UART receives (agent_rx), calls agent_tick at least every few
 * milliseconds, and carries out the actions agent_rx returns (a reboot).
 */
#ifndef SD_AGENT_PORT_H
#define SD_AGENT_PORT_H

#include <stddef.h>
#include <stdint.h>

/* Writes n bytes to the serial line, blocking until they are queued. A port
 * with nobody listening may drop them, as a UART does. */
void port_write(const uint8_t *p, size_t n);

/* A free-running counter of the chip's cost unit (port_cost_unit): cycles
 * on a chip with a cycle counter, nanoseconds on a host. The agent takes
 * differences modulo 2^32, so one measured interval must stay below 2^32
 * units. */
uint32_t port_cycles(void);

/* The unit of port_cycles, a board-protocol unit code (BP_UNIT_*). */
uint8_t port_cost_unit(void);

/* The core clock in Hz, as INFO reports it. */
uint32_t port_clock_hz(void);

/* Milliseconds since some fixed point, wrapping at 2^32: for deadlines and
 * uptime. */
uint32_t port_millis(void);

/* Fills out with n bytes from the chip's random generator, fit for keys
 * (Noise ephemerals). Returns 0, or non-zero when none are available. */
int port_random(uint8_t *out, size_t n);

/* Mixes the host's n random bytes (PROVISION rng_seed) into the
 * generator and into the seed it keeps in non-volatile storage, so that
 * the stream no longer follows from the image alone. Returns 0, or
 * non-zero when storage fails. */
int port_random_seed(const uint8_t *p, size_t n);

/* What feeds the generator, in INFO's caps bits (docs/board-protocol.md
 * §5.2): PORT_RANDOM_ENTROPY when the chip's hardware entropy source gave
 * bytes at this boot, PORT_RANDOM_SEEDED when it holds a seed from
 * provisioning. */
#define PORT_RANDOM_ENTROPY 0x08
#define PORT_RANDOM_SEEDED 0x10
uint8_t port_random_status(void);

/* Non-volatile storage of at least AGENT_NV_SIZE bytes (agent.h), byte
 * addressed: EEPROM, a flash page with wear levelling, a file. Return 0,
 * or non-zero on failure. A write must be complete when it returns. */
int port_nv_read(uint16_t addr, uint8_t *out, uint16_t n);
int port_nv_write(uint16_t addr, const uint8_t *p, uint16_t n);

/* The strings INFO reports: which is PORT_STRING_BOARD, _CHIP or _SERIAL.
 * Writes at most cap printable ASCII bytes (0x20-0x7E) to out and returns
 * how many. The serial number must stay the same across resets (the host
 * finds a board again by it). */
#define PORT_STRING_BOARD 0
#define PORT_STRING_CHIP 1
#define PORT_STRING_SERIAL 2
uint8_t port_string(uint8_t which, uint8_t *out, uint8_t cap);

/* Stack use, measured by painting the free stack with a pattern and
 * finding later how much of it was overwritten. port_stack_mark paints the
 * free stack below the caller's frame: a new measurement starts (the agent
 * marks at the start of every handshake). port_stack_read gives the
 * deepest use since the last mark, in bytes below the top of the stack,
 * and the fewest bytes the stack ever left free since boot (READ_COUNTERS
 * stack_free). It returns 0, or non-zero where the port does not measure
 * (the host); then the agent reports neither. */
void port_stack_mark(void);
int port_stack_read(uint16_t *peak, uint16_t *least_free);

#endif /* SD_AGENT_PORT_H */
