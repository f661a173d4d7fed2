/*
 * client/session.c: see session.h. The checks of message 2 follow
 * docs/protocol.md ("What the device checks in message 2") in its order.
 */
#include "session.h"

#include <string.h>

#include "crypto/common.h"
#include "crypto/port.h"
#include "port/net.h"

static const uint8_t prologue[SD_NOISE_PROLOGUE_LEN] SD_ROM = SD_NOISE_PROLOGUE;

static int fail(sd_session *s, uint8_t stage, int err)
{
	s->stage = stage;
	s->open = 0;
	return err;
}

/* Reads exactly n bytes, each wait bounded by timeout_ms. A timeout before
 * the first byte leaves the stream usable (PORT_NET_ERR_TIMEOUT when
 * may_wait); after it, the frame is cut short. */
static int read_exact(sd_session *s, uint8_t *p, size_t n, uint32_t timeout_ms,
		      uint8_t may_wait)
{
	size_t got = 0;
	int r;

	while (got < n) {
		r = s->io->recv(s->io->ctx, p + got, n - got, timeout_ms);
		if (r == PORT_NET_ERR_TIMEOUT && (got > 0 || !may_wait))
			return SD_SESSION_ERR_FRAME;
		if (r <= 0)
			return r < 0 ? r : SD_SESSION_ERR_FRAME;
		got += (size_t)r;
	}
	return SD_SESSION_OK;
}

/* Reads one frame of at most max bytes into s->buf; returns its length.
 * A header announcing more than max is refused before its body is read. */
static int read_frame(sd_session *s, size_t max, uint32_t timeout_ms)
{
	uint8_t hdr[SD_SESSION_FRAME_HEADER];
	size_t len;
	int r;

	r = read_exact(s, hdr, sizeof hdr, timeout_ms, 1);
	if (r != SD_SESSION_OK)
		return r;
	len = (size_t)hdr[0] << 8 | hdr[1];
	if (len == 0 || len > max)
		return SD_SESSION_ERR_FRAME;
	if (len > s->buf_len)
		return SD_SESSION_ERR_BUFFER;
	r = read_exact(s, s->buf, len, timeout_ms, 0);
	return r != SD_SESSION_OK ? r : (int)len;
}

/* Sends s->buf[0..2+len): the header is written here. */
static int send_frame(sd_session *s, size_t len)
{
	s->buf[0] = (uint8_t)(len >> 8);
	s->buf[1] = (uint8_t)len;
	return s->io->send(s->io->ctx, s->buf, SD_SESSION_FRAME_HEADER + len);
}

static void put_be64(uint8_t *p, uint64_t v)
{
	uint8_t i;

	for (i = 0; i < 8; i++)
		p[i] = (uint8_t)(v >> (56 - 8 * i));
}

static int crypto_err(int err)
{
	switch (err) {
	case SD_ERR_LOW_ORDER:
		return SD_SESSION_ERR_POINT;
	case SD_ERR_AUTH:
		return SD_SESSION_ERR_AUTH;
	default:
		return SD_SESSION_ERR_FRAME;
	}
}

void sd_session_init(sd_session *s, const sd_stream *io, uint8_t *buf,
		     size_t buf_len)
{
	memset(s, 0, sizeof *s);
	s->io = io;
	s->buf = buf;
	s->buf_len = buf_len;
}

/* -> e, es, s, ss: message 1 with the counter, sent. */
static int send_msg1(sd_session *s, sd_noise_ik *hs, const sd_session_keys *k)
{
	uint8_t payload[SD_NOISE_COUNTER_LEN];
	int err;

	put_be64(payload, k->counter);
	err = sd_noise_ik_write_msg1(hs, s->buf + SD_SESSION_FRAME_HEADER,
				     k->ephemeral, k->device_pub, payload,
				     sizeof payload);
	if (err != SD_OK)
		return crypto_err(err);
	return send_frame(s, SD_NOISE_IK_MSG1_LEN);
}

/* The announcement: version 1 and a current key that is not all zeros. */
static int check_announcement(const uint8_t *a)
{
	uint8_t acc = 0, i;

	if (a[0] != SD_NOISE_ANNOUNCEMENT_VERSION)
		return SD_SESSION_ERR_MALFORMED;
	for (i = 0; i < SD_NOISE_DHLEN; i++)
		acc |= a[1 + i];
	return acc != 0 ? SD_SESSION_OK : SD_SESSION_ERR_MALFORMED;
}

/* <- e, ee, se: message 2 read and checked; the session's ciphers set. */
static int read_msg2(sd_session *s, sd_noise_ik *hs, uint8_t *announcement,
		     uint32_t timeout_ms)
{
	uint8_t *payload;
	int r;

	r = read_frame(s, SD_NOISE_IK_MSG2_LEN, timeout_ms);
	if (r < 0)
		return r;
	if ((size_t)r != SD_NOISE_IK_MSG2_LEN)
		return SD_SESSION_ERR_FRAME;
	payload = s->buf + SD_NOISE_DHLEN;
	r = sd_noise_ik_read_msg2(hs, payload, s->buf, SD_NOISE_IK_MSG2_LEN,
				  &s->tx, &s->rx);
	if (r != SD_OK)
		return crypto_err(r);
	r = check_announcement(payload);
	if (r == SD_SESSION_OK && announcement != NULL)
		memcpy(announcement, payload, SD_NOISE_ANNOUNCEMENT_LEN);
	return r;
}

int sd_session_handshake(sd_session *s, const sd_session_keys *k,
			 uint8_t announcement[SD_NOISE_ANNOUNCEMENT_LEN],
			 uint32_t timeout_ms)
{
	uint8_t pro[SD_NOISE_PROLOGUE_LEN];
	sd_noise_ik hs;
	int err;

	if (s->open)
		return fail(s, SD_SESSION_STAGE_MSG1, SD_SESSION_ERR_STATE);
	if (s->buf_len < SD_SESSION_BUF_MIN)
		return fail(s, SD_SESSION_STAGE_MSG1, SD_SESSION_ERR_BUFFER);
	if (k->counter == 0 || k->counter == UINT64_MAX)
		return fail(s, SD_SESSION_STAGE_MSG1, SD_SESSION_ERR_COUNTER);
	sd_rom_copy(pro, prologue, sizeof pro);
	sd_noise_ik_init(&hs, k->device_key, k->server_pub, pro, sizeof pro, NULL);
	err = send_msg1(s, &hs, k);
	if (err != SD_SESSION_OK) {
		sd_wipe(&hs, sizeof hs);
		return fail(s, SD_SESSION_STAGE_MSG1, err);
	}
	err = read_msg2(s, &hs, announcement, timeout_ms);
	sd_wipe(&hs, sizeof hs);
	sd_wipe(s->buf, s->buf_len);
	if (err != SD_SESSION_OK) {
		sd_session_close(s);
		return fail(s, SD_SESSION_STAGE_MSG2, err);
	}
	s->open = 1;
	s->stage = SD_SESSION_STAGE_NONE;
	s->rd = s->fill = 0;
	return SD_SESSION_OK;
}

uint8_t *sd_session_record(sd_session *s, size_t *room)
{
	*room = 0;
	if (s->open && s->rd == s->fill &&
	    s->buf_len > SD_SESSION_FRAME_HEADER + SD_NOISE_TAGLEN)
		*room = s->buf_len - SD_SESSION_FRAME_HEADER - SD_NOISE_TAGLEN;
	return s->buf + SD_SESSION_FRAME_HEADER;
}

int sd_session_write(sd_session *s, const uint8_t *p, size_t n)
{
	uint8_t *ct = s->buf + SD_SESSION_FRAME_HEADER;
	size_t room;
	int r;

	if (!s->open)
		return SD_SESSION_ERR_STATE;
	sd_session_record(s, &room);
	if (n == 0 || n > room)
		return SD_SESSION_ERR_BUFFER;
	if (sd_noise_transport_seal(&s->tx, ct, ct + n, p, n) != SD_OK)
		return fail(s, SD_SESSION_STAGE_TRANSPORT, SD_SESSION_ERR_NONCE);
	r = send_frame(s, n + SD_NOISE_TAGLEN);
	sd_wipe(s->buf, s->buf_len);
	return r == SD_SESSION_OK ? r : fail(s, SD_SESSION_STAGE_TRANSPORT, r);
}

/* The next record into s->buf, opened in place. */
static int next_record(sd_session *s, uint32_t timeout_ms)
{
	int r;

	r = read_frame(s, SD_NOISE_MAX_MSG_LEN, timeout_ms);
	if (r < 0)
		return r == PORT_NET_ERR_TIMEOUT ? r : fail(s, SD_SESSION_STAGE_TRANSPORT, r);
	if (sd_noise_transport_open(&s->rx, s->buf, s->buf, (size_t)r) != SD_OK)
		return fail(s, SD_SESSION_STAGE_TRANSPORT, SD_SESSION_ERR_AUTH);
	s->rd = 0;
	s->fill = (size_t)r - SD_NOISE_TAGLEN;
	return SD_SESSION_OK;
}

int sd_session_read(sd_session *s, uint8_t *p, size_t cap, uint32_t timeout_ms)
{
	size_t n;
	int r;

	if (!s->open)
		return SD_SESSION_ERR_STATE;
	while (s->rd == s->fill) { /* an empty record holds nothing to return */
		r = next_record(s, timeout_ms);
		if (r != SD_SESSION_OK)
			return r;
	}
	n = s->fill - s->rd;
	if (n > cap)
		n = cap;
	memcpy(p, s->buf + s->rd, n);
	s->rd += n;
	return (int)n;
}

void sd_session_close(sd_session *s)
{
	sd_wipe(&s->tx, sizeof s->tx);
	sd_wipe(&s->rx, sizeof s->rx);
	if (s->buf != NULL)
		sd_wipe(s->buf, s->buf_len);
	s->rd = s->fill = 0;
	s->open = 0;
}
