/*
 * port/host/host.h: the host (Linux) port of the agent: the agent runs as a
 * process on a pseudo-terminal, exactly as on a UART, so that the harness
 * and its tests drive the C firmware with no chip and no emulator.
 */
#ifndef SD_PORT_HOST_H
#define SD_PORT_HOST_H

#include <stdint.h>

/* Configures the port: the file that stands in for non-volatile storage
 * (created, filled with 0xFF as erased EEPROM, when missing), the board name
 * and the serial number INFO reports, and the file descriptor the agent
 * writes to. Returns 0, or -1 with errno set. */
int host_port_open(const char *nv_path, const char *board, const char *serial);
void host_port_set_output(int fd);

/* The kernel's random source (getrandom(2)), as port/chip.h declares
 * sd_chip_entropy for the chips: up to len bytes, how many it wrote. */
uint32_t sd_chip_entropy(uint8_t *out, uint32_t len);

#endif /* SD_PORT_HOST_H */
