/* test/agent/testport.c: see testport.h. */
#include "testport.h"

#include <string.h>

#include "agent/port.h"

uint8_t tp_nv[AGENT_NV_SIZE];
int tp_nv_fail_writes;
int tp_nv_fail_after;
uint32_t tp_ms;
uint32_t tp_cycles;
int tp_random_fail;
uint8_t tp_seed[TP_SEED_MAX];
size_t tp_seed_len;
int tp_seeds;
int tp_seed_fail;
uint8_t tp_random_status;

static uint8_t out_buf[TP_OUT_MAX];
static size_t out_len;
static uint8_t rnd_queue[256];
static size_t rnd_len, rnd_pos;
static uint32_t rnd_state = 12345;

void tp_reset(void)
{
	memset(tp_nv, 0xFF, sizeof tp_nv);
	tp_nv_fail_writes = 0;
	tp_nv_fail_after = 0;
	tp_ms = 0;
	tp_cycles = 0;
	tp_random_fail = 0;
	memset(tp_seed, 0, sizeof tp_seed);
	tp_seed_len = 0;
	tp_seeds = 0;
	tp_seed_fail = 0;
	tp_random_status = 0;
	out_len = 0;
	rnd_len = rnd_pos = 0;
}

void tp_random_queue(const uint8_t *p, size_t n)
{
	memcpy(rnd_queue, p, n);
	rnd_len = n;
	rnd_pos = 0;
}

/* ---------------------------------------------------------------- the port */

void port_write(const uint8_t *p, size_t n)
{
	if (out_len + n > sizeof out_buf)
		n = sizeof out_buf - out_len;
	memcpy(out_buf + out_len, p, n);
	out_len += n;
}

uint32_t port_cycles(void)
{
	tp_cycles += TP_CYCLE_STEP;
	return tp_cycles;
}

uint8_t port_cost_unit(void)
{
	return 1; /* cycles */
}

uint32_t port_clock_hz(void)
{
	return 16000000u;
}

uint32_t port_millis(void)
{
	return tp_ms;
}

int port_random(uint8_t *out, size_t n)
{
	if (tp_random_fail)
		return -1;
	while (n-- > 0) {
		if (rnd_pos < rnd_len) {
			*out++ = rnd_queue[rnd_pos++];
		} else {
			rnd_state = rnd_state * 1103515245u + 12345u;
			*out++ = (uint8_t)(rnd_state >> 16);
		}
	}
	return 0;
}

int port_random_seed(const uint8_t *p, size_t n)
{
	if (n > sizeof tp_seed)
		return -1;
	memcpy(tp_seed, p, n);
	tp_seed_len = n;
	tp_seeds++;
	return tp_seed_fail ? -1 : 0;
}

uint8_t port_random_status(void)
{
	return tp_random_status;
}

int port_nv_read(uint16_t addr, uint8_t *out, uint16_t n)
{
	if ((size_t)addr + n > sizeof tp_nv)
		return -1;
	memcpy(out, tp_nv + addr, n);
	return 0;
}

int port_nv_write(uint16_t addr, const uint8_t *p, uint16_t n)
{
	if ((size_t)addr + n > sizeof tp_nv)
		return -1;
	if (tp_nv_fail_writes > 0) {
		if (tp_nv_fail_after > 0) {
			tp_nv_fail_after--;
		} else {
			tp_nv_fail_writes--;
			return -1;
		}
	}
	memcpy(tp_nv + addr, p, n);
	return 0;
}

uint8_t port_string(uint8_t which, uint8_t *out, uint8_t cap)
{
	static const char *const s[] = {"Test Board", "testchip", "TP-SERIAL-0001"};
	uint8_t n = 0;

	if (which > 2)
		return 0;
	while (s[which][n] != '\0' && n < cap) {
		out[n] = (uint8_t)s[which][n];
		n++;
	}
	return n;
}

/* ---------------------------------------------------------------- the line */

uint16_t tp_crc16(const uint8_t *p, size_t n)
{
	/* CRC-16/CCITT-FALSE, bit by bit as §3.1 writes it. */
	uint16_t crc = 0xFFFF;
	int i;

	while (n-- > 0) {
		crc ^= (uint16_t)(*p++ << 8);
		for (i = 0; i < 8; i++)
			crc = (crc & 0x8000) ? (uint16_t)((crc << 1) ^ 0x1021) : (uint16_t)(crc << 1);
	}
	return crc;
}

/* COBS decoding of one chunk; -1 when it is not a valid encoding. */
static long cobs_decode(const uint8_t *in, size_t n, uint8_t *out, size_t cap)
{
	size_t i = 0, o = 0, k;
	uint8_t code;

	while (i < n) {
		code = in[i++];
		if (code == 0 || i + code - 1 > n)
			return -1;
		for (k = 1; k < code; k++) {
			if (o == cap)
				return -1;
			out[o++] = in[i++];
		}
		if (code != 0xFF && i < n) {
			if (o == cap)
				return -1;
			out[o++] = 0;
		}
	}
	return (long)o;
}

size_t tp_take(tp_frame *out, size_t cap, size_t *bad)
{
	uint8_t body[300];
	size_t i = 0, start, nf = 0, nbad = 0;
	long n;

	while (i < out_len) {
		if (out_buf[i] == 0) {
			i++;
			continue;
		}
		start = i;
		while (i < out_len && out_buf[i] != 0)
			i++;
		n = cobs_decode(out_buf + start, i - start, body, sizeof body);
		if (n < 6 || body[3] != n - 6 ||
		    tp_crc16(body, (size_t)n - 2) != (uint16_t)(body[n - 2] << 8 | body[n - 1])) {
			nbad++;
			continue;
		}
		if (nf < cap) {
			out[nf].ver = body[0];
			out[nf].type = body[1];
			out[nf].seq = body[2];
			out[nf].len = body[3];
			memcpy(out[nf].payload, body + 4, body[3]);
			nf++;
		}
	}
	out_len = 0;
	if (bad != NULL)
		*bad = nbad;
	return nf;
}

size_t tp_raw(uint8_t *out, size_t cap)
{
	size_t n = out_len < cap ? out_len : cap;

	memcpy(out, out_buf, n);
	out_len = 0;
	return n;
}

size_t tp_encode(uint8_t *wire, size_t cap, uint8_t ver, uint8_t type, uint8_t seq,
		 const uint8_t *payload, uint8_t len)
{
	uint8_t body[4 + 255 + 2];
	size_t n = 4u + len, i, o = 0, code_at;
	uint16_t crc;

	body[0] = ver;
	body[1] = type;
	body[2] = seq;
	body[3] = len;
	if (len > 0)
		memcpy(body + 4, payload, len);
	crc = tp_crc16(body, n);
	body[n++] = (uint8_t)(crc >> 8);
	body[n++] = (uint8_t)crc;
	if (cap < n + n / 254 + 3)
		return 0;
	/* COBS: keep the position of the open block's code byte. */
	wire[o++] = 0;
	code_at = o++;
	wire[code_at] = 1;
	for (i = 0; i < n; i++) {
		if (body[i] == 0) {
			code_at = o++;
			wire[code_at] = 1;
			continue;
		}
		wire[o++] = body[i];
		if (++wire[code_at] == 0xFF && i + 1 < n) {
			code_at = o++;
			wire[code_at] = 1;
		}
	}
	wire[o++] = 0;
	return o;
}

unsigned tp_command(agent *a, uint8_t type, uint8_t seq, const uint8_t *payload, uint8_t len)
{
	uint8_t wire[600];
	size_t n = tp_encode(wire, sizeof wire, 1, type, seq, payload, len);

	return agent_rx(a, wire, n);
}

/* The stack is not painted here: no stack_free counter, no stack log. */
void port_stack_mark(void)
{
}

int port_stack_read(uint16_t *peak, uint16_t *least_free)
{
	(void)peak;
	(void)least_free;
	return -1;
}
