/*
 * port/host/host.h: the host (Linux) port of the agent: the agent runs as a
 * process on a pseudo-terminal, exactly as on a UART, so that the harness
 * and its tests drive the C firmware with no chip and no emulator.
 */
#ifndef SD_PORT_HOST_H
#define SD_PORT_HOST_H

/* Configures the port: the file that stands in for non-volatile storage
 * (created, filled with 0xFF as erased EEPROM, when missing), the board name
 * and the serial number INFO reports, and the file descriptor the agent
 * writes to. Returns 0, or -1 with errno set. */
int host_port_open(const char *nv_path, const char *board, const char *serial);
void host_port_set_output(int fd);

#endif /* SD_PORT_HOST_H */
