/*
 * test/client/publish.c: one device of the noise profile that connects by
 * itself (port/net.h), shakes hands, publishes one MQTT message and
 * disconnects: the network client's core run on a host against a server.
 *
 *   client-publish HOST PORT DEVICE_ID DEVICE_KEY SERVER_KEY COUNTER TOPIC MESSAGE
 *
 * Keys are 64 hex digits: the device's static private key and the pinned
 * server static public key. It prints "published" and exits 0, or prints
 * "failed <code> stage <stage>" (client/session.h, client/mqtt.h,
 * port/net.h codes) and exits 1; 2 on bad arguments.
 */
#define _GNU_SOURCE
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>

#include "client/mqtt.h"
#include "client/session.h"
#include "crypto/common.h"
#include "crypto/x25519.h"
#include "port/common/net_stream.h"

#define KEY_LEN 32
#define TIMEOUT_MS 30000 /* each wait: generous for a loaded machine */
#define KEEP_ALIVE_S 60
#define BUF_LEN 512

static int hex_key(const char *s, uint8_t out[KEY_LEN])
{
	unsigned v, i;

	if (strlen(s) != 2 * KEY_LEN)
		return -1;
	for (i = 0; i < KEY_LEN; i++) {
		if (sscanf(s + 2 * i, "%2x", &v) != 1)
			return -1;
		out[i] = (uint8_t)v;
	}
	return 0;
}

static int failed(int code, const sd_session *s)
{
	printf("failed %d stage %u\n", code, s != NULL ? s->stage : 0u);
	return 1;
}

/* The handshake, CONNECT, PUBLISH and DISCONNECT over an open stream. */
static int run(sd_session *s, const sd_session_keys *k, char **argv)
{
	const char *msg = argv[8];
	int r;

	r = sd_session_handshake(s, k, NULL, TIMEOUT_MS);
	if (r == SD_SESSION_OK)
		r = sd_mqtt_connect(s, argv[3], KEEP_ALIVE_S, TIMEOUT_MS);
	if (r == SD_MQTT_OK)
		r = sd_mqtt_publish(s, argv[7], (const uint8_t *)msg, strlen(msg));
	if (r == SD_MQTT_OK)
		r = sd_mqtt_disconnect(s);
	return r;
}

int main(int argc, char **argv)
{
	uint8_t key[KEY_LEN], pub[KEY_LEN], server[KEY_LEN], e[KEY_LEN], buf[BUF_LEN];
	sd_session_keys k = {key, pub, server, e, 0};
	sd_net_stream ns;
	sd_session s;
	char *end;
	int r;

	if (argc != 9 || hex_key(argv[4], key) != 0 || hex_key(argv[5], server) != 0)
		return fprintf(stderr, "usage: %s HOST PORT DEVICE_ID DEVICE_KEY SERVER_KEY COUNTER TOPIC MESSAGE\n", argv[0]), 2;
	k.counter = strtoull(argv[6], &end, 10);
	if (*end != '\0' || getrandom(e, sizeof e, 0) != (ssize_t)sizeof e)
		return 2;
	sd_x25519_base(pub, key);
	r = sd_net_stream_open(&ns, argv[1], (uint16_t)atoi(argv[2]), TIMEOUT_MS);
	if (r != PORT_NET_OK)
		return failed(r, NULL);
	sd_session_init(&s, &ns.io, buf, sizeof buf);
	r = run(&s, &k, argv);
	sd_session_close(&s);
	sd_net_stream_close(&ns);
	sd_wipe(key, sizeof key);
	sd_wipe(e, sizeof e);
	if (r != SD_SESSION_OK)
		return failed(r, &s);
	printf("published\n");
	return 0;
}
