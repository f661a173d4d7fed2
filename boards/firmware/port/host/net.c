/*
 * port/host/net.c: port/net.h over POSIX sockets. A handle is the socket's
 * file descriptor. connect() runs non-blocking under poll() for its
 * deadline; send() and recv() wait in poll() too, so that no call blocks
 * longer than it was given.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <poll.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "port/net.h"

#define PORT_DIGITS 6 /* "65535" and its NUL */
#define SPURIOUS_MAX 16 /* wake-ups with nothing to do before a call gives up */

static uint64_t now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

/* What is left of a deadline, 0 once it passed. */
static uint32_t left_ms(uint64_t deadline)
{
	uint64_t t = now_ms();

	return t >= deadline ? 0 : (uint32_t)(deadline - t);
}

/* Waits for events on fd; PORT_NET_OK, or TIMEOUT or IO. */
static int wait_fd(int fd, short events, uint32_t timeout_ms)
{
	struct pollfd pfd;
	int r;

	pfd.fd = fd;
	pfd.events = events;
	pfd.revents = 0;
	do
		r = poll(&pfd, 1, timeout_ms > INT32_MAX ? INT32_MAX : (int)timeout_ms);
	while (r < 0 && errno == EINTR);
	if (r == 0)
		return PORT_NET_ERR_TIMEOUT;
	return r < 0 ? PORT_NET_ERR_IO : PORT_NET_OK;
}

/* One address: a non-blocking connect, finished within timeout_ms. */
static int connect_addr(const struct addrinfo *ai, uint32_t timeout_ms)
{
	int fd, err = 0, r;
	socklen_t len = sizeof err;

	fd = socket(ai->ai_family, ai->ai_socktype | SOCK_CLOEXEC | SOCK_NONBLOCK,
		    ai->ai_protocol);
	if (fd < 0)
		return errno == EMFILE || errno == ENFILE ? PORT_NET_ERR_NO_SOCKET : PORT_NET_ERR_IO;
	if (connect(fd, ai->ai_addr, ai->ai_addrlen) != 0) {
		r = errno == EINPROGRESS ? wait_fd(fd, POLLOUT, timeout_ms) : PORT_NET_ERR_REFUSED;
		if (r == PORT_NET_OK && (getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &len) != 0 || err != 0))
			r = PORT_NET_ERR_REFUSED;
		if (r != PORT_NET_OK) {
			close(fd);
			return r;
		}
	}
	return fd;
}

int port_net_connect(const char *host, uint16_t port, uint32_t timeout_ms)
{
	uint64_t deadline = now_ms() + timeout_ms;
	struct addrinfo hints, *res, *ai;
	char service[PORT_DIGITS];
	size_t len = strnlen(host, PORT_NET_HOST_MAX + 1);
	int r = PORT_NET_ERR_REFUSED;

	if (len == 0 || len > PORT_NET_HOST_MAX)
		return PORT_NET_ERR_ARG;
	memset(&hints, 0, sizeof hints);
	hints.ai_family = AF_UNSPEC;
	hints.ai_socktype = SOCK_STREAM;
	snprintf(service, sizeof service, "%u", (unsigned)port);
	if (getaddrinfo(host, service, &hints, &res) != 0)
		return PORT_NET_ERR_RESOLVE;
	for (ai = res; ai != NULL; ai = ai->ai_next) {
		r = connect_addr(ai, left_ms(deadline)); /* every address within the one deadline */
		if (r >= 0 || r == PORT_NET_ERR_NO_SOCKET)
			break;
	}
	freeaddrinfo(res);
	return r;
}

int port_net_send(int sock, const uint8_t *p, size_t len, uint32_t timeout_ms)
{
	uint64_t deadline = now_ms() + timeout_ms;
	size_t done = 0;
	unsigned spurious = 0;
	ssize_t n;
	int r;

	if (sock < 0 || len == 0 || len > PORT_NET_IO_MAX)
		return PORT_NET_ERR_ARG;
	while (done < len && spurious < SPURIOUS_MAX) {
		r = wait_fd(sock, POLLOUT, left_ms(deadline));
		if (r != PORT_NET_OK)
			return r;
		n = send(sock, p + done, len - done, MSG_NOSIGNAL);
		if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR)) {
			spurious++;
			continue;
		}
		if (n < 0)
			return errno == EPIPE || errno == ECONNRESET ? PORT_NET_ERR_CLOSED : PORT_NET_ERR_IO;
		done += (size_t)n;
	}
	return done == len ? PORT_NET_OK : PORT_NET_ERR_IO;
}

int port_net_recv(int sock, uint8_t *p, size_t cap, uint32_t timeout_ms)
{
	uint64_t deadline = now_ms() + timeout_ms;
	unsigned spurious;
	ssize_t n;
	int r;

	if (sock < 0 || cap == 0 || cap > PORT_NET_IO_MAX)
		return PORT_NET_ERR_ARG;
	for (spurious = 0; spurious < SPURIOUS_MAX; spurious++) {
		r = wait_fd(sock, POLLIN, left_ms(deadline));
		if (r != PORT_NET_OK)
			return r;
		n = recv(sock, p, cap, 0);
		if (n > 0)
			return (int)n;
		if (n == 0)
			return PORT_NET_ERR_CLOSED;
		if (errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR)
			return errno == ECONNRESET ? PORT_NET_ERR_CLOSED : PORT_NET_ERR_IO;
	}
	return PORT_NET_ERR_IO;
}

void port_net_close(int sock)
{
	if (sock >= 0)
		close(sock);
}
