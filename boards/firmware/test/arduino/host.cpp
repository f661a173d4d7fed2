/*
 * test/arduino/host.cpp: the ShakedownNoise library on Linux. PosixClient
 * is an Arduino Client over port/net.h (port/host/net.c), in place of a
 * WiFiClient; main does what the Publish example does, with its keys from
 * the command line:
 *
 *   arduino-host HOST PORT DEVICE_ID DEVICE_KEY SERVER_KEY SEED COUNTER TOPIC MESSAGE
 *
 * Keys and the seed are 64 hex digits. It prints "published" and exits 0,
 * or "failed <code> stage <stage>" and exits 1; 2 on bad arguments.
 */
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#include "ShakedownNoise.h"

#define CONNECT_TIMEOUT_MS 30000
#define SEND_TIMEOUT_MS 30000
#define WAIT_TIMEOUT_MS 30000 /* each wait for the server: a loaded machine */
#define POLL_MS 1             /* how long available() looks for bytes */
#define BUF_LEN 256

uint32_t millis(void)
{
	static struct timespec t0;
	struct timespec t;

	if (t0.tv_sec == 0 && t0.tv_nsec == 0)
		clock_gettime(CLOCK_MONOTONIC, &t0);
	clock_gettime(CLOCK_MONOTONIC, &t);
	return (uint32_t)((t.tv_sec - t0.tv_sec) * 1000 + (t.tv_nsec - t0.tv_nsec) / 1000000);
}

void yield(void)
{
}

/* A Client over one port/net.h connection. available() waits up to POLL_MS
 * for bytes and keeps them, as a WiFiClient holds its socket's buffer. */
class PosixClient : public Client {
public:
	int connect(const char *host, uint16_t port)
	{
		sock_ = port_net_connect(host, port, CONNECT_TIMEOUT_MS);
		closed_ = sock_ < 0;
		return sock_ >= 0;
	}
	size_t write(const uint8_t *p, size_t n)
	{
		if (sock_ < 0 || n > PORT_NET_IO_MAX || port_net_send(sock_, p, n, SEND_TIMEOUT_MS) != PORT_NET_OK)
			return 0;
		return n;
	}
	int available()
	{
		int r;

		if (len_ == 0 && sock_ >= 0 && !closed_) {
			r = port_net_recv(sock_, held_, sizeof held_, POLL_MS);
			if (r > 0) {
				off_ = 0;
				len_ = (size_t)r;
			} else if (r != PORT_NET_ERR_TIMEOUT) {
				closed_ = true;
			}
		}
		return (int)len_;
	}
	int read(uint8_t *p, size_t n)
	{
		if (n > len_)
			n = len_;
		memcpy(p, held_ + off_, n);
		off_ += n;
		len_ -= n;
		return (int)n;
	}
	void stop()
	{
		port_net_close(sock_);
		sock_ = PORT_NET_ERR_ARG;
		closed_ = true;
	}
	uint8_t connected() { return !closed_ || len_ > 0; }

private:
	int sock_ = PORT_NET_ERR_ARG;
	bool closed_ = true;
	uint8_t held_[BUF_LEN];
	size_t off_ = 0, len_ = 0;
};

static bool hex_key(const char *s, uint8_t out[SHAKEDOWN_KEY_LEN])
{
	unsigned v;

	if (strlen(s) != 2 * SHAKEDOWN_KEY_LEN)
		return false;
	for (unsigned i = 0; i < SHAKEDOWN_KEY_LEN; i++) {
		if (sscanf(s + 2 * i, "%2x", &v) != 1)
			return false;
		out[i] = (uint8_t)v;
	}
	return true;
}

int main(int argc, char **argv)
{
	uint8_t key[SHAKEDOWN_KEY_LEN], pub[SHAKEDOWN_KEY_LEN], server[SHAKEDOWN_KEY_LEN];
	uint8_t seed[SHAKEDOWN_KEY_LEN], e[SHAKEDOWN_KEY_LEN], buf[BUF_LEN];
	PosixClient net;
	ShakedownNoise link(net, buf, sizeof buf);
	char *end;
	int r;

	if (argc != 10 || !hex_key(argv[4], key) || !hex_key(argv[5], server) || !hex_key(argv[6], seed)) {
		fprintf(stderr, "usage: %s HOST PORT DEVICE_ID DEVICE_KEY SERVER_KEY SEED COUNTER TOPIC MESSAGE\n", argv[0]);
		return 2;
	}
	ShakedownKeys keys = {key, pub, server, e, strtoull(argv[7], &end, 10)};
	if (*end != '\0')
		return 2;
	ShakedownNoise::publicKey(pub, key);
	ShakedownNoise::ephemeralFromSeed(e, seed, keys.counter);
	r = link.connect(argv[1], (uint16_t)atoi(argv[2]), keys, WAIT_TIMEOUT_MS);
	if (r == SHAKEDOWN_OK)
		r = link.mqttConnect(argv[3], 60, WAIT_TIMEOUT_MS);
	if (r == SHAKEDOWN_OK)
		r = link.publish(argv[8], (const uint8_t *)argv[9], strlen(argv[9]));
	if (r == SHAKEDOWN_OK)
		r = link.mqttDisconnect();
	link.stop();
	if (r != SHAKEDOWN_OK) {
		printf("failed %d stage %u\n", r, link.stage());
		return 1;
	}
	printf("published\n");
	return 0;
}
