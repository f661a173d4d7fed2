/*
 * ShakedownNoise.h: the device side of shakedown's noise profile over any
 * Arduino Client (WiFiClient, EthernetClient, ...): the Noise IK
 * handshake against a pinned server key, encrypted records, and MQTT 3.1.1
 * CONNECT and QoS 0 PUBLISH through them. The code under src/crypto,
 * src/noise and src/client is the shakedown firmware's own, copied from
 * boards/firmware when the library is assembled (make arduino-lib); this
 * class only carries its bytes over the Client.
 *
 *   uint8_t buf[128];                    // one frame; 115 bytes at least
 *   ShakedownNoise link(wifiClient, buf, sizeof buf);
 *   ShakedownKeys keys = {deviceKey, devicePub, serverPub, ephemeral, counter};
 *   if (link.connect("gw.example.net", 8885, keys) == SHAKEDOWN_OK &&
 *       link.mqttConnect("dev-1") == SHAKEDOWN_OK)
 *           link.publish("devices/dev-1/hello", (const uint8_t *)"hi", 2);
 *   link.stop();
 *
 * The caller keeps the message-1 counter: store counter + 1 in EEPROM or
 * flash before connect() (docs/protocol.md, "Counter"), and give 32 fresh
 * random bytes as the ephemeral key of every connect().
 *
 * Every call returns SHAKEDOWN_OK (0), a count, or a negative code of
 * port/net.h (-1..-7), client/session.h (-16..-23) or client/mqtt.h
 * (-32..-35); stage() says where a handshake failed.
 */
#ifndef SHAKEDOWN_NOISE_H
#define SHAKEDOWN_NOISE_H

#include <Arduino.h>
#include <Client.h>

extern "C" {
#include "client/mqtt.h"
#include "client/session.h"
#include "crypto/chachapoly.h"
#include "crypto/x25519.h"
#include "port/net.h"
}

#define SHAKEDOWN_OK 0
#define SHAKEDOWN_KEY_LEN 32
#define SHAKEDOWN_BUF_MIN SD_SESSION_BUF_MIN
#define SHAKEDOWN_TIMEOUT_MS 10000u /* each wait for the server, by default */

typedef sd_session_keys ShakedownKeys;

class ShakedownNoise {
public:
	ShakedownNoise(Client &client, uint8_t *buf, size_t len);

	/* client.connect(host, port), then the handshake. */
	int connect(const char *host, uint16_t port, const ShakedownKeys &keys,
		    uint32_t timeoutMs = SHAKEDOWN_TIMEOUT_MS);
	/* The handshake over a Client that is already connected. */
	int handshake(const ShakedownKeys &keys, uint32_t timeoutMs = SHAKEDOWN_TIMEOUT_MS);

	/* One record of n bytes; bytes of the server's stream. */
	int write(const uint8_t *p, size_t n);
	int read(uint8_t *p, size_t cap, uint32_t timeoutMs = SHAKEDOWN_TIMEOUT_MS);

	/* MQTT through the session: CONNECT (client ID: the device ID) and
	 * its CONNACK, PUBLISH at QoS 0, DISCONNECT. */
	int mqttConnect(const char *clientId, uint16_t keepAliveS = 60,
			uint32_t timeoutMs = SHAKEDOWN_TIMEOUT_MS);
	int publish(const char *topic, const uint8_t *payload, size_t len);
	int mqttDisconnect();

	/* Wipes the session's keys and stops the Client. */
	void stop();
	/* The board protocol's stage code of the last failure (3 msg1, 4 msg2,
	 * 6 transport), 0 when none. */
	uint8_t stage() const { return session_.stage; }
	/* The server's key announcement of the last handshake (65 bytes:
	 * version, current key, next key or zeros): pin it in NV when the next
	 * key is not zero. */
	const uint8_t *announcement() const { return announcement_; }

	/* An ephemeral key for a chip without a random generator: the first
	 * 32 bytes of ChaCha20 (RFC 8439 §2.3) under a secret per-device seed,
	 * with the message-1 counter as nonce. The counter never repeats, so
	 * neither does the key; whoever reads the seed can compute it (the
	 * limits of README.md, "The random generator", apply). */
	static void ephemeralFromSeed(uint8_t e[SHAKEDOWN_KEY_LEN], const uint8_t seed[SHAKEDOWN_KEY_LEN],
				      uint64_t counter);
	/* The public key of a 32-byte private key (X25519 with the base point). */
	static void publicKey(uint8_t pub[SHAKEDOWN_KEY_LEN], const uint8_t key[SHAKEDOWN_KEY_LEN]);

private:
	static int send(void *ctx, const uint8_t *p, size_t n);
	static int recv(void *ctx, uint8_t *p, size_t cap, uint32_t timeoutMs);

	Client &client_;
	sd_stream io_;
	sd_session session_;
	uint8_t announcement_[SD_NOISE_ANNOUNCEMENT_LEN];
};

#endif /* SHAKEDOWN_NOISE_H */
