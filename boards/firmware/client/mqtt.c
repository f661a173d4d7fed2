/*
 * client/mqtt.c: see mqtt.h. Section numbers are MQTT 3.1.1's.
 */
#include "mqtt.h"

#include <string.h>

#define STRING_MAX 0xFFFFu           /* §1.5.3: a 2-byte length */
#define REMAINING_MAX 268435455UL    /* §2.2.3: four bytes of 7 bits */
#define CONNECT_FLAG_CLEAN 0x02      /* §3.1.2.4 */
#define CONNECT_VARIABLE_LEN 10      /* §3.1.2: name, level, flags, keep alive */
#define PROTOCOL_LEVEL 4             /* §3.1.2.2: 3.1.1 */

/* §3.1.2.1 the protocol name "MQTT" with its length. */
static const uint8_t protocol_name[6] = {0x00, 0x04, 'M', 'Q', 'T', 'T'};

/* The fixed header (§2.2): type byte, then the remaining length in 7-bit
 * groups, least significant first. Returns its size, or 0 when it does
 * not fit. */
static size_t put_header(uint8_t *out, size_t cap, uint8_t type, size_t remaining)
{
	size_t n = 0;
	uint8_t b;

	if (cap < 2 || remaining > REMAINING_MAX)
		return 0;
	out[n++] = type;
	do {
		b = (uint8_t)(remaining % 128);
		remaining /= 128;
		if (remaining > 0)
			b |= 0x80;
		if (n == cap)
			return 0;
		out[n++] = b;
	} while (remaining > 0);
	return n;
}

static uint8_t *put_string(uint8_t *p, const char *s, size_t len)
{
	p[0] = (uint8_t)(len >> 8);
	p[1] = (uint8_t)len;
	memcpy(p + 2, s, len);
	return p + 2 + len;
}

/* The whole packet's size once its header is known, or an error. */
static int fits(size_t hdr, size_t remaining, size_t cap)
{
	if (hdr == 0 || remaining > cap - hdr || hdr + remaining > 0x7FFF)
		return SD_MQTT_ERR_SPACE;
	return (int)(hdr + remaining);
}

int sd_mqtt_encode_connect(uint8_t *out, size_t cap, const char *client_id,
			   uint16_t keep_alive_s)
{
	size_t id_len = strlen(client_id), remaining, hdr;
	uint8_t *p;
	int total;

	if (id_len == 0 || id_len > STRING_MAX)
		return SD_MQTT_ERR_ARG;
	remaining = CONNECT_VARIABLE_LEN + 2 + id_len;
	hdr = put_header(out, cap, SD_MQTT_CONNECT, remaining);
	total = fits(hdr, remaining, cap);
	if (total < 0)
		return total;
	p = out + hdr;
	memcpy(p, protocol_name, sizeof protocol_name);
	p += sizeof protocol_name;
	*p++ = PROTOCOL_LEVEL;
	*p++ = CONNECT_FLAG_CLEAN;
	*p++ = (uint8_t)(keep_alive_s >> 8);
	*p++ = (uint8_t)keep_alive_s;
	put_string(p, client_id, id_len); /* §3.1.3.1 */
	return total;
}

int sd_mqtt_encode_publish(uint8_t *out, size_t cap, const char *topic,
			   const uint8_t *payload, size_t len)
{
	size_t topic_len = strlen(topic), remaining, hdr;
	uint8_t *p;
	int total;

	if (topic_len == 0 || topic_len > STRING_MAX || len > REMAINING_MAX)
		return SD_MQTT_ERR_ARG;
	remaining = 2 + topic_len + len; /* QoS 0: no packet identifier, §3.3.2.2 */
	hdr = put_header(out, cap, SD_MQTT_PUBLISH, remaining);
	total = fits(hdr, remaining, cap);
	if (total < 0)
		return total;
	p = put_string(out + hdr, topic, topic_len);
	if (len > 0)
		memmove(p, payload, len);
	return total;
}

int sd_mqtt_encode_disconnect(uint8_t *out, size_t cap)
{
	size_t hdr = put_header(out, cap, SD_MQTT_DISCONNECT, 0);

	return fits(hdr, 0, cap);
}

int sd_mqtt_decode_connack(const uint8_t p[SD_MQTT_CONNACK_LEN])
{
	/* §3.2.1: type 2, flags 0, remaining length 2; §3.2.2.1: only bit 0 */
	if (p[0] != SD_MQTT_CONNACK || p[1] != 2 || (p[2] & 0xFE) != 0)
		return SD_MQTT_ERR_MALFORMED;
	return p[3];
}

/* Sends the packet of n bytes (or the encoder's error) encoded at rec. */
static int send_packet(sd_session *s, int n, uint8_t *rec)
{
	if (n < 0)
		return n;
	return sd_session_write(s, rec, (size_t)n);
}

int sd_mqtt_connect(sd_session *s, const char *client_id, uint16_t keep_alive_s,
		    uint32_t timeout_ms)
{
	uint8_t ack[SD_MQTT_CONNACK_LEN];
	size_t room, got = 0;
	uint8_t *rec = sd_session_record(s, &room);
	int r;

	r = send_packet(s, sd_mqtt_encode_connect(rec, room, client_id, keep_alive_s), rec);
	while (r == SD_SESSION_OK && got < sizeof ack) {
		r = sd_session_read(s, ack + got, sizeof ack - got, timeout_ms);
		if (r > 0) {
			got += (size_t)r;
			r = SD_SESSION_OK;
		}
	}
	if (r != SD_SESSION_OK)
		return r;
	r = sd_mqtt_decode_connack(ack);
	return r == 0 ? SD_MQTT_OK : r > 0 ? SD_MQTT_ERR_REFUSED : r;
}

int sd_mqtt_publish(sd_session *s, const char *topic, const uint8_t *payload,
		    size_t len)
{
	size_t room;
	uint8_t *rec = sd_session_record(s, &room);

	return send_packet(s, sd_mqtt_encode_publish(rec, room, topic, payload, len), rec);
}

int sd_mqtt_disconnect(sd_session *s)
{
	size_t room;
	uint8_t *rec = sd_session_record(s, &room);

	return send_packet(s, sd_mqtt_encode_disconnect(rec, room), rec);
}
