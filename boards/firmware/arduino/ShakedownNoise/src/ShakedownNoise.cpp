/*
 * ShakedownNoise.cpp: see ShakedownNoise.h. The Client's bytes become the
 * stream client/session.h reads and writes (port/net.h's codes).
 */
#include "ShakedownNoise.h"

extern "C" {
#include "crypto/common.h"
}

ShakedownNoise::ShakedownNoise(Client &client, uint8_t *buf, size_t len)
	: client_(client)
{
	io_.ctx = this;
	io_.send = send;
	io_.recv = recv;
	sd_session_init(&session_, &io_, buf, len);
	memset(announcement_, 0, sizeof announcement_);
}

/* Client::write may take fewer bytes than given (a full socket buffer);
 * none at all is a broken connection. */
int ShakedownNoise::send(void *ctx, const uint8_t *p, size_t n)
{
	Client &c = static_cast<ShakedownNoise *>(ctx)->client_;
	size_t done = 0, w;

	while (done < n) {
		w = c.write(p + done, n - done);
		if (w == 0)
			return c.connected() ? PORT_NET_ERR_IO : PORT_NET_ERR_CLOSED;
		done += w;
	}
	return PORT_NET_OK;
}

/* Polls available() until the deadline; a Client with nothing to read and
 * no connection has seen the peer close. */
int ShakedownNoise::recv(void *ctx, uint8_t *p, size_t cap, uint32_t timeoutMs)
{
	Client &c = static_cast<ShakedownNoise *>(ctx)->client_;
	uint32_t start = millis();
	int avail, got;

	if (cap > PORT_NET_IO_MAX)
		cap = PORT_NET_IO_MAX;
	do {
		avail = c.available();
		if (avail > 0) {
			got = c.read(p, (size_t)avail < cap ? (size_t)avail : cap);
			return got > 0 ? got : PORT_NET_ERR_IO;
		}
		if (!c.connected())
			return PORT_NET_ERR_CLOSED;
		yield();
	} while ((uint32_t)(millis() - start) < timeoutMs);
	return PORT_NET_ERR_TIMEOUT;
}

int ShakedownNoise::connect(const char *host, uint16_t port, const ShakedownKeys &keys,
			    uint32_t timeoutMs)
{
	if (!client_.connect(host, port))
		return PORT_NET_ERR_REFUSED;
	return handshake(keys, timeoutMs);
}

int ShakedownNoise::handshake(const ShakedownKeys &keys, uint32_t timeoutMs)
{
	return sd_session_handshake(&session_, &keys, announcement_, timeoutMs);
}

int ShakedownNoise::write(const uint8_t *p, size_t n)
{
	return sd_session_write(&session_, p, n);
}

int ShakedownNoise::read(uint8_t *p, size_t cap, uint32_t timeoutMs)
{
	return sd_session_read(&session_, p, cap, timeoutMs);
}

int ShakedownNoise::mqttConnect(const char *clientId, uint16_t keepAliveS, uint32_t timeoutMs)
{
	return sd_mqtt_connect(&session_, clientId, keepAliveS, timeoutMs);
}

int ShakedownNoise::publish(const char *topic, const uint8_t *payload, size_t len)
{
	return sd_mqtt_publish(&session_, topic, payload, len);
}

int ShakedownNoise::mqttDisconnect()
{
	return sd_mqtt_disconnect(&session_);
}

void ShakedownNoise::stop()
{
	sd_session_close(&session_);
	client_.stop();
}

void ShakedownNoise::publicKey(uint8_t pub[SHAKEDOWN_KEY_LEN], const uint8_t key[SHAKEDOWN_KEY_LEN])
{
	sd_x25519_base(pub, key);
}

/* nonce: "eph" 0 | 8B counter, little-endian */
void ShakedownNoise::ephemeralFromSeed(uint8_t e[SHAKEDOWN_KEY_LEN], const uint8_t seed[SHAKEDOWN_KEY_LEN],
				       uint64_t counter)
{
	uint8_t block[SD_CHACHA20_BLOCK_LEN], nonce[SD_CHACHA20_NONCE_LEN] = {'e', 'p', 'h', 0};
	uint8_t i;

	for (i = 0; i < 8; i++)
		nonce[4 + i] = (uint8_t)(counter >> (8 * i));
	sd_chacha20_block(block, seed, 0, nonce);
	memcpy(e, block, SHAKEDOWN_KEY_LEN);
	sd_wipe(block, sizeof block);
}
