/*
 * port/host/port.c: agent/port.h on Linux. Storage is a file, written with
 * pwrite and made durable with fdatasync before the write returns (the
 * message-1 counter must survive a crash, not only a reset). The cost
 * counter is CLOCK_MONOTONIC in nanoseconds (unit 3, as the virtual board
 * reports): a host has no cycle counter the agent can read portably.
 * Random bytes come from getrandom(2): the kernel's generator, which a
 * seed from provisioning cannot improve, so PROVISION rng_seed is taken
 * and dropped, and INFO reports the entropy cap and not the seeded one.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdint.h>
#include <string.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "agent/agent.h"
#include "agent/port.h"
#include "host.h"

#define HOST_CLOCK_HZ 1000000000u /* the unit counts nanoseconds */
#define HOST_WRITE_STALL_MS 1000  /* a terminal nobody reads drops output after this */
#define NV_ERASED 0xFF

static int nv_fd = -1;
static int out_fd = -1;
static const char *board_name = "shakedown host agent";
static const char *serial_number = "HOST-AGENT-0001";

int host_port_open(const char *nv_path, const char *board, const char *serial)
{
	uint8_t erased[AGENT_NV_SIZE];
	struct stat st;

	if (board != NULL)
		board_name = board;
	if (serial != NULL)
		serial_number = serial;
	nv_fd = open(nv_path, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
	if (nv_fd < 0 || fstat(nv_fd, &st) != 0)
		return -1;
	if (st.st_size < (off_t)AGENT_NV_SIZE) {
		memset(erased, NV_ERASED, sizeof erased);
		if (pwrite(nv_fd, erased + st.st_size, (size_t)(AGENT_NV_SIZE - st.st_size),
			   st.st_size) != (ssize_t)(AGENT_NV_SIZE - st.st_size) ||
		    fdatasync(nv_fd) != 0)
			return -1;
	}
	return 0;
}

void host_port_set_output(int fd)
{
	out_fd = fd;
}

void port_write(const uint8_t *p, size_t n)
{
	struct pollfd pfd;
	ssize_t w;

	while (n > 0) {
		w = write(out_fd, p, n);
		if (w > 0) {
			p += w;
			n -= (size_t)w;
			continue;
		}
		if (w < 0 && errno == EINTR)
			continue;
		if (w < 0 && errno != EAGAIN && errno != EWOULDBLOCK)
			return;
		/* A full terminal: wait for the reader, then give up as a UART
		 * with nobody listening does. */
		pfd.fd = out_fd;
		pfd.events = POLLOUT;
		if (poll(&pfd, 1, HOST_WRITE_STALL_MS) <= 0)
			return;
	}
}

static uint64_t monotonic_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

uint32_t port_cycles(void)
{
	return (uint32_t)monotonic_ns();
}

uint8_t port_cost_unit(void)
{
	return BP_UNIT_NANOSECONDS;
}

uint32_t port_clock_hz(void)
{
	return HOST_CLOCK_HZ;
}

uint32_t port_millis(void)
{
	return (uint32_t)(monotonic_ns() / 1000000u);
}

uint32_t sd_chip_entropy(uint8_t *out, uint32_t len)
{
	ssize_t got;

	do
		got = getrandom(out, len, 0);
	while (got < 0 && errno == EINTR);
	return got > 0 ? (uint32_t)got : 0;
}

int port_random(uint8_t *out, size_t n)
{
	uint32_t got;

	while (n > 0) {
		got = sd_chip_entropy(out, n > UINT32_MAX ? UINT32_MAX : (uint32_t)n);
		if (got == 0)
			return -1;
		out += got;
		n -= got;
	}
	return 0;
}

int port_random_seed(const uint8_t *p, size_t n)
{
	(void)p;
	(void)n;
	return 0;
}

uint8_t port_random_status(void)
{
	return PORT_RANDOM_ENTROPY;
}

int port_nv_read(uint16_t addr, uint8_t *out, uint16_t n)
{
	if ((uint32_t)addr + n > AGENT_NV_SIZE)
		return -1;
	return pread(nv_fd, out, n, addr) == (ssize_t)n ? 0 : -1;
}

int port_nv_write(uint16_t addr, const uint8_t *p, uint16_t n)
{
	if ((uint32_t)addr + n > AGENT_NV_SIZE)
		return -1;
	if (pwrite(nv_fd, p, n, addr) != (ssize_t)n)
		return -1;
	return fdatasync(nv_fd) == 0 ? 0 : -1;
}

static uint8_t copy_string(const char *s, uint8_t *out, uint8_t cap)
{
	uint8_t n = 0;

	while (s[n] != '\0' && n < cap) {
		out[n] = (uint8_t)s[n];
		n++;
	}
	return n;
}

uint8_t port_string(uint8_t which, uint8_t *out, uint8_t cap)
{
	switch (which) {
	case PORT_STRING_BOARD:
		return copy_string(board_name, out, cap);
	case PORT_STRING_CHIP:
		return copy_string("host", out, cap);
	case PORT_STRING_SERIAL:
		return copy_string(serial_number, out, cap);
	}
	return 0;
}

/* The stack is not painted here: no stack_free counter, no stack log. */
void port_stack_mark(void)
{
}

int port_stack_read(uint16_t *peak, uint16_t *least_free)
{
	(void)peak;
	(void)least_free;
	return -1;
}
