/*
 * port/common/net_stream.c: a client/session.h stream over port/net.h, for
 * a port with its own network.
 */
#include "net_stream.h"

static int net_send(void *ctx, const uint8_t *p, size_t n)
{
	const sd_net_stream *ns = (const sd_net_stream *)ctx;

	return port_net_send(ns->sock, p, n, ns->send_timeout_ms);
}

static int net_recv(void *ctx, uint8_t *p, size_t cap, uint32_t timeout_ms)
{
	const sd_net_stream *ns = (const sd_net_stream *)ctx;

	if (cap > PORT_NET_IO_MAX)
		cap = PORT_NET_IO_MAX;
	return port_net_recv(ns->sock, p, cap, timeout_ms);
}

int sd_net_stream_open(sd_net_stream *ns, const char *host, uint16_t port,
		       uint32_t timeout_ms)
{
	ns->sock = port_net_connect(host, port, timeout_ms);
	ns->send_timeout_ms = timeout_ms;
	ns->io.ctx = ns;
	ns->io.send = net_send;
	ns->io.recv = net_recv;
	return ns->sock < 0 ? ns->sock : PORT_NET_OK;
}

void sd_net_stream_close(sd_net_stream *ns)
{
	if (ns->sock >= 0)
		port_net_close(ns->sock);
	ns->sock = PORT_NET_ERR_ARG;
}
