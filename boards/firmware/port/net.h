/*
 * port/net.h: the TCP client a chip with its own network gives the
 * firmware (board protocol network mode, docs/board-protocol.md §5.5: the
 * device connects to the server itself, the host only observes). A port
 * that has a network implements these four functions; everything above
 * them (client/, the noise profile and MQTT) is portable C99.
 *
 * One call blocks for at most its timeout; none allocates. A socket is a
 * small non-negative handle the port chooses; every failure is one of the
 * negative PORT_NET_ERR_* codes below, the same on every port, so that the
 * firmware reports a failure by its code and never by a message of the
 * stack.
 *
 * What a port provides, by platform:
 *
 *   POSIX (port/host/net.c): getaddrinfo, a non-blocking connect() and
 *   poll() for its deadline, send() and recv() under poll().
 *
 *   ESP-IDF (ESP32-C3, ESP8266 RTOS SDK): lwIP's BSD sockets, the same
 *   calls as POSIX (lwip_getaddrinfo, connect with O_NONBLOCK and select,
 *   send, recv with SO_RCVTIMEO or select), once the Wi-Fi station is up
 *   (esp_wifi_start, an IP from DHCP: the port waits for IP_EVENT_STA_GOT_IP
 *   before it lets port_net_connect succeed). CONFIG_LWIP_MAX_SOCKETS
 *   bounds the handles.
 *
 *   An Arduino core (ESP8266 and ESP32 Arduino, WiFiNINA, WiFi101,
 *   Ethernet): one Client object per handle (WiFiClient, EthernetClient);
 *   connect(host, port) after setTimeout(timeout), write() in a loop until
 *   every byte is taken, available() and read() polled against millis()
 *   for the receive deadline, stop() to close. A Client that reads 0
 *   bytes while connected() is false has seen the peer close. The Arduino
 *   library (arduino/ShakedownNoise) takes a Client& directly instead.
 *
 * Timeouts are in milliseconds; 0 means "do not wait": port_net_recv
 * returns what has arrived or PORT_NET_ERR_TIMEOUT.
 */
#ifndef SD_PORT_NET_H
#define SD_PORT_NET_H

#include <stddef.h>
#include <stdint.h>

#define PORT_NET_OK 0
#define PORT_NET_ERR_ARG (-1)      /* a host name too long or empty, a bad handle, len 0 */
#define PORT_NET_ERR_RESOLVE (-2)  /* the host name does not resolve */
#define PORT_NET_ERR_REFUSED (-3)  /* no connection: refused, unreachable, no route */
#define PORT_NET_ERR_TIMEOUT (-4)  /* the deadline passed first */
#define PORT_NET_ERR_CLOSED (-5)   /* the peer closed the connection */
#define PORT_NET_ERR_IO (-6)       /* reset, or another failure of the stack */
#define PORT_NET_ERR_NO_SOCKET (-7) /* every handle is in use */

/* A host name or dotted IPv4 address: 1 to this many bytes, as the board
 * protocol's HANDSHAKE carries it. */
#define PORT_NET_HOST_MAX 64u
/* The largest length one port_net_send or port_net_recv takes: what an
 * int of a 16-bit core holds. */
#define PORT_NET_IO_MAX 0x7fffu

/* Connects to host:port within timeout_ms. Returns a handle (>= 0) or a
 * PORT_NET_ERR_* code. host is NUL-terminated. */
int port_net_connect(const char *host, uint16_t port, uint32_t timeout_ms);

/* Sends all len bytes (1..PORT_NET_IO_MAX) within timeout_ms. Returns
 * PORT_NET_OK or a PORT_NET_ERR_* code; after an error the connection is
 * unusable and must be closed. */
int port_net_send(int sock, const uint8_t *p, size_t len, uint32_t timeout_ms);

/* Receives 1..cap bytes (cap up to PORT_NET_IO_MAX), waiting at most
 * timeout_ms for the first. Returns how many, or a PORT_NET_ERR_* code:
 * PORT_NET_ERR_TIMEOUT when nothing arrived (the connection stays
 * usable), PORT_NET_ERR_CLOSED when the peer closed it. */
int port_net_recv(int sock, uint8_t *p, size_t cap, uint32_t timeout_ms);

/* Closes the connection and frees the handle; harmless on a handle that
 * is not open. */
void port_net_close(int sock);

#endif /* SD_PORT_NET_H */
