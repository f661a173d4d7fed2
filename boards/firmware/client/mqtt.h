/*
 * client/mqtt.h: the few MQTT 3.1.1 packets (OASIS Standard, 29 October
 * 2014) a device needs to publish through the noise profile's session:
 * CONNECT, CONNACK, PUBLISH at QoS 0, DISCONNECT. Encoders write into a
 * caller's buffer, normally the session's own record space
 * (sd_session_record), so that no second buffer is needed on a small chip.
 *
 * Functions return a length or SD_MQTT_OK, or a negative code: a session's
 * code passed on, or SD_MQTT_ERR_* below.
 */
#ifndef SD_CLIENT_MQTT_H
#define SD_CLIENT_MQTT_H

#include <stddef.h>
#include <stdint.h>

#include "session.h"

#define SD_MQTT_OK 0
#define SD_MQTT_ERR_SPACE (-32)     /* the packet does not fit the buffer */
#define SD_MQTT_ERR_ARG (-33)       /* an empty client ID or topic, or one over 65,535 bytes */
#define SD_MQTT_ERR_MALFORMED (-34) /* the server's answer is not a CONNACK */
#define SD_MQTT_ERR_REFUSED (-35)   /* CONNACK with a return code other than 0 */

/* §2.2.1 packet types, in the high nibble of the first byte. */
#define SD_MQTT_CONNECT 0x10
#define SD_MQTT_CONNACK 0x20
#define SD_MQTT_PUBLISH 0x30
#define SD_MQTT_DISCONNECT 0xE0

#define SD_MQTT_CONNACK_LEN 4 /* §3.2: 2B fixed header, 1B flags, 1B return code */

/* CONNECT (§3.1): protocol level 4, clean session, the client ID (the
 * device ID for the noise profile) and no user name. */
int sd_mqtt_encode_connect(uint8_t *out, size_t cap, const char *client_id,
			   uint16_t keep_alive_s);
/* PUBLISH (§3.3) at QoS 0, not retained. */
int sd_mqtt_encode_publish(uint8_t *out, size_t cap, const char *topic,
			   const uint8_t *payload, size_t len);
/* DISCONNECT (§3.14). */
int sd_mqtt_encode_disconnect(uint8_t *out, size_t cap);
/* The CONNACK return code (§3.2.2.3, 0 accepted), or SD_MQTT_ERR_MALFORMED. */
int sd_mqtt_decode_connack(const uint8_t p[SD_MQTT_CONNACK_LEN]);

/* CONNECT through an open session, then the CONNACK within timeout_ms:
 * SD_MQTT_OK when accepted, SD_MQTT_ERR_REFUSED or another code if not. */
int sd_mqtt_connect(sd_session *s, const char *client_id, uint16_t keep_alive_s,
		    uint32_t timeout_ms);
/* One PUBLISH at QoS 0 through an open session. */
int sd_mqtt_publish(sd_session *s, const char *topic, const uint8_t *payload,
		    size_t len);
/* DISCONNECT through an open session. */
int sd_mqtt_disconnect(sd_session *s);

#endif /* SD_CLIENT_MQTT_H */
