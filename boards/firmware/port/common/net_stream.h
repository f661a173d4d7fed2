/*
 * port/common/net_stream.h: the stream client/session.h reads and writes,
 * made of one port/net.h connection.
 */
#ifndef SD_PORT_NET_STREAM_H
#define SD_PORT_NET_STREAM_H

#include "client/session.h"
#include "port/net.h"

typedef struct {
	sd_stream io;             /* give &io to sd_session_init */
	int sock;                 /* the port's handle, or a PORT_NET_ERR_* code */
	uint32_t send_timeout_ms; /* each port_net_send's deadline */
} sd_net_stream;

/* Connects (port_net_connect); PORT_NET_OK or its error code. */
int sd_net_stream_open(sd_net_stream *ns, const char *host, uint16_t port,
		       uint32_t timeout_ms);
void sd_net_stream_close(sd_net_stream *ns);

#endif /* SD_PORT_NET_STREAM_H */
