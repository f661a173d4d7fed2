/*
 * Publish: connect to `shakedown serve` with the noise profile, publish one
 * MQTT message on devices/<id>/hello, and disconnect.
 *
 * Transport: an EthernetClient when the Ethernet library is installed (a
 * W5x00 shield, DHCP); otherwise the board's serial port, which a host
 * bridges to the server (an Uno has no network of its own):
 *
 *   socat /dev/ttyACM0,b115200,raw,echo=0 TCP:127.0.0.1:8885
 *
 * Provision the sketch first: a file shakedown_provision.h beside it (or
 * on the include path) defines SHAKEDOWN_DEVICE_ID (a string) and
 * SHAKEDOWN_DEVICE_KEY, SHAKEDOWN_SERVER_KEY and SHAKEDOWN_SEED (32 bytes
 * each, as comma-separated initialisers): the device's static private key
 * (`shakedown fixtures`, `shakedown devices add`), the server's static
 * public key (`shakedown serverkey`) and a secret per-device seed for the
 * ephemeral keys. Without it the sketch does nothing. The message-1
 * counter lives in EEPROM (address 0, 8 bytes) and is advanced before each
 * handshake.
 */
#include <EEPROM.h>
#include <ShakedownNoise.h>

#if __has_include(<Ethernet.h>)
#include <Ethernet.h>
static uint8_t mac[6] = {0x02, 0x53, 0x44, 0x00, 0x00, 0x01}; /* locally administered */
static EthernetClient net;
#else
/* A Client over the serial port: the host's bridge holds the TCP connection. */
class SerialClient : public Client {
public:
	int connect(IPAddress, uint16_t) { return 1; }
	int connect(const char *, uint16_t) { return 1; }
	size_t write(uint8_t b) { return Serial.write(b); }
	size_t write(const uint8_t *p, size_t n) { return Serial.write(p, n); }
	int available() { return Serial.available(); }
	int read() { return Serial.read(); }
	int read(uint8_t *p, size_t n) { return (int)Serial.readBytes(p, n); }
	int peek() { return Serial.peek(); }
	void flush() { Serial.flush(); }
	void stop() {}
	uint8_t connected() { return 1; }
	operator bool() { return true; }
};
static SerialClient net;
#endif

#if __has_include("shakedown_provision.h")
#include "shakedown_provision.h"
#else /* not provisioned: zeros, and setup() does nothing */
#define SHAKEDOWN_DEVICE_ID "uno-0001"
#define SHAKEDOWN_DEVICE_KEY 0
#define SHAKEDOWN_SERVER_KEY 0
#define SHAKEDOWN_SEED 0
#endif

static const char DEVICE_ID[] = SHAKEDOWN_DEVICE_ID;
static const char SERVER_HOST[] = "127.0.0.1"; /* the EthernetClient's; the serial bridge has its own */
static const uint16_t SERVER_PORT = 8885;
static const uint8_t DEVICE_KEY[SHAKEDOWN_KEY_LEN] = {SHAKEDOWN_DEVICE_KEY}; /* static private key */
static const uint8_t SERVER_KEY[SHAKEDOWN_KEY_LEN] = {SHAKEDOWN_SERVER_KEY}; /* the pinned server key */
static const uint8_t SEED[SHAKEDOWN_KEY_LEN] = {SHAKEDOWN_SEED};             /* secret: ephemerals */
static const int COUNTER_ADDR = 0;

static uint8_t frame[SHAKEDOWN_BUF_MIN];

static bool provisioned()
{
	uint8_t acc = 0;

	for (uint8_t i = 0; i < SHAKEDOWN_KEY_LEN; i++)
		acc |= DEVICE_KEY[i] | SERVER_KEY[i] | SEED[i];
	return acc != 0;
}

/* The next message-1 counter, stored before it is used; erased EEPROM
 * (all ones) counts as 0. */
static uint64_t nextCounter()
{
	uint64_t c;

	EEPROM.get(COUNTER_ADDR, c);
	if (c == UINT64_MAX)
		c = 0;
	c++;
	EEPROM.put(COUNTER_ADDR, c);
	return c;
}

static int publishOnce()
{
	uint8_t pub[SHAKEDOWN_KEY_LEN], e[SHAKEDOWN_KEY_LEN];
	char topic[sizeof "devices/" + sizeof DEVICE_ID + sizeof "/hello"];
	ShakedownNoise link(net, frame, sizeof frame);
	ShakedownKeys keys = {DEVICE_KEY, pub, SERVER_KEY, e, nextCounter()};
	int r;

	ShakedownNoise::publicKey(pub, DEVICE_KEY);
	ShakedownNoise::ephemeralFromSeed(e, SEED, keys.counter);
	strcpy(topic, "devices/");
	strcat(topic, DEVICE_ID);
	strcat(topic, "/hello");
	r = link.connect(SERVER_HOST, SERVER_PORT, keys);
	if (r == SHAKEDOWN_OK)
		r = link.mqttConnect(DEVICE_ID);
	if (r == SHAKEDOWN_OK)
		r = link.publish(topic, (const uint8_t *)"hello", 5);
	if (r == SHAKEDOWN_OK)
		r = link.mqttDisconnect();
	link.stop();
	memset(e, 0, sizeof e);
	return r;
}

void setup()
{
	Serial.begin(115200);
#if __has_include(<Ethernet.h>)
	Ethernet.begin(mac);
#endif
	if (!provisioned())
		return;
	publishOnce();
}

void loop()
{
}
