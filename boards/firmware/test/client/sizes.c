/*
 * test/client/sizes.c: the network client's core as a chip carries it, for
 * `make size-cores` (built, never run): one handshake, CONNECT, PUBLISH and
 * DISCONNECT over port/net.h, so that an image linked with --gc-sections
 * holds all of it. port/net.h's functions are left unresolved: a chip's
 * port adds them.
 */
#include "client/mqtt.h"
#include "client/session.h"
#include "port/common/net_stream.h"

#define BUF_LEN 256
#define TIMEOUT_MS 10000

/* Inputs from nowhere the compiler can see, so nothing folds away. */
static volatile uint8_t noise_in;
static uint8_t key[32], pub[32], server[32], e[32], buf[BUF_LEN];

int main(void)
{
	sd_session_keys k = {key, pub, server, e, 1};
	sd_net_stream ns;
	sd_session s;
	uint8_t b = noise_in;

	key[0] = b;
	if (sd_net_stream_open(&ns, "gw.example.net", 8885, TIMEOUT_MS) != PORT_NET_OK)
		return 1;
	sd_session_init(&s, &ns.io, buf, sizeof buf);
	if (sd_session_handshake(&s, &k, NULL, TIMEOUT_MS) == SD_SESSION_OK &&
	    sd_mqtt_connect(&s, "dev-1", 60, TIMEOUT_MS) == SD_MQTT_OK &&
	    sd_mqtt_publish(&s, "devices/dev-1/up", &b, 1) == SD_MQTT_OK)
		sd_mqtt_disconnect(&s);
	sd_session_close(&s);
	sd_net_stream_close(&ns);
	return 0;
}
