/*
 * agent/store.c: the agent's non-volatile storage, through port_nv_read and
 * port_nv_write. Layout (offsets in bytes, integers big-endian):
 *
 *   0    4B  magic "sda1": absent, the storage is formatted at boot
 *   4    4B  boot count (boots since the storage was formatted)
 *   8    10B counter slot A: 8B highest message-1 counter reserved | 2B CRC-16
 *   18   10B counter slot B
 *   28   3 identities of 196 bytes, noise, seed, psk in profile-code order:
 *        0   1B  present fields (ID_HAS_*)
 *        1   65B device ID: 1B length | 64B
 *        66  33B device private key: 1B length | 32B
 *        99  1B  curve (seed)
 *        100 32B static public key, cached (noise)
 *        132 32B pinned current server key (noise)
 *        164 32B pinned next server key (noise)
 *
 * The message-1 counter (docs/protocol.md, noise "Counter"): storage holds
 * the highest value reserved, R. A handshake takes last + 1; when that
 * passes R, the agent first writes R' = last + AGENT_COUNTER_BLOCK, so one
 * write serves a block of handshakes. At boot last = R: a reset skips the
 * rest of the block and never reuses a value. The two slots alternate (the
 * write goes to the slot with the smaller value), each with a CRC, so a
 * write cut by power loss leaves the other slot, whose value no
 * handshake has passed yet.
 */
#include <string.h>

#include "crypto/port.h"
#include "internal.h"
#include "port.h"

#define NV_MAGIC_OFF 0
#define NV_MAGIC_LEN 4
#define NV_BOOTS_OFF 4
#define NV_SLOT_A_OFF 8
#define NV_SLOT_B_OFF 18
#define NV_SLOT_LEN 10 /* 8B value | 2B CRC */
#define NV_ID_OFF 28
#define NV_ID_LEN 196

#define F_FLAGS 0
#define F_ID 1
#define F_KEY 66
#define F_CURVE 99
#define F_PUB 100
#define F_SERVER 132
#define F_NEXT 164

#if NV_ID_OFF + 3 * NV_ID_LEN > AGENT_NV_SIZE
#error "the storage layout outgrew AGENT_NV_SIZE"
#endif

/* In ROM (crypto/port.h), read with sd_rom_u8. */
static const uint8_t magic[NV_MAGIC_LEN] SD_ROM = {'s', 'd', 'a', '1'};
static const uint8_t field_off[] SD_ROM = {F_ID, F_KEY, F_CURVE, F_PUB, F_SERVER, F_NEXT};
#define FIELD_OFF(f) sd_rom_u8(field_off + (f))

static uint16_t id_addr(uint8_t profile, uint8_t off)
{
	return (uint16_t)(NV_ID_OFF + (profile - 1u) * NV_ID_LEN + off);
}

static int valid_profile(uint8_t profile)
{
	return profile >= BP_PROFILE_NOISE && profile <= BP_PROFILE_PSK;
}

/* A counter slot: 0 when it holds a value, -1 when unreadable or torn. */
static int read_slot(uint16_t addr, uint64_t *v)
{
	uint8_t b[NV_SLOT_LEN];

	if (port_nv_read(addr, b, sizeof b) != 0)
		return -1;
	if (agent_crc16(b, 8) != get_be16(b + 8))
		return -1;
	*v = get_be64(b);
	return 0;
}

static int write_slot(uint16_t addr, uint64_t v)
{
	uint8_t b[NV_SLOT_LEN];

	put_be64(b, v);
	put_be16(b + 8, agent_crc16(b, 8));
	return port_nv_write(addr, b, sizeof b) == 0 ? 0 : -1;
}

static int format(void)
{
	uint8_t zero[4] = {0, 0, 0, 0};
	uint8_t p;

	if (port_nv_write(NV_BOOTS_OFF, zero, sizeof zero) != 0 ||
	    write_slot(NV_SLOT_A_OFF, 0) != 0 || write_slot(NV_SLOT_B_OFF, 0) != 0)
		return -1;
	for (p = BP_PROFILE_NOISE; p <= BP_PROFILE_PSK; p++)
		if (store_set_flags(p, 0) != 0)
			return -1;
	/* The magic last: a format cut short is done again at the next boot. */
	sd_rom_copy(zero, magic, sizeof magic);
	return port_nv_write(NV_MAGIC_OFF, zero, sizeof magic) == 0 ? 0 : -1;
}

int store_boot(agent *a)
{
	uint8_t b[NV_MAGIC_LEN], i, diff = 0;
	uint64_t va = 0, vb = 0;
	int oka, okb;

	if (port_nv_read(NV_MAGIC_OFF, b, sizeof b) != 0)
		return -1;
	for (i = 0; i < NV_MAGIC_LEN; i++)
		diff |= (uint8_t)(b[i] ^ sd_rom_u8(magic + i));
	if (diff != 0 && format() != 0)
		return -1;
	if (port_nv_read(NV_BOOTS_OFF, b, sizeof b) != 0)
		return -1;
	a->boot_count = get_be32(b) + 1;
	put_be32(b, a->boot_count);
	if (port_nv_write(NV_BOOTS_OFF, b, sizeof b) != 0)
		return -1;
	oka = read_slot(NV_SLOT_A_OFF, &va) == 0;
	okb = read_slot(NV_SLOT_B_OFF, &vb) == 0;
	if (!oka && !okb)
		return -1; /* the counter is lost: no noise handshake until PROVISION sets it */
	if (!oka || (okb && vb > va))
		va = vb;
	a->counter_reserved = a->counter_last = va;
	a->counter_ok = 1;
	return 0;
}

int store_counter_next(agent *a, uint64_t *out)
{
	uint64_t v, r, va = 0, vb = 0;
	int oka, okb;

	/* 2^64-1 is reserved (docs/protocol.md, "Counter"): erased flash reads
	 * as all ones, and the server refuses it. 2^64-2 is the last value. */
	if (!a->counter_ok || a->counter_last >= UINT64_MAX - 1u)
		return -1; /* unknown, or exhausted: PROVISION must set it */
	v = a->counter_last + 1;
	if (v > a->counter_reserved) {
		r = v + (AGENT_COUNTER_BLOCK - 1u);
		if (r < v)
			r = UINT64_MAX;
		oka = read_slot(NV_SLOT_A_OFF, &va) == 0;
		okb = read_slot(NV_SLOT_B_OFF, &vb) == 0;
		/* Overwrite the older (or torn) slot; the newer one stays. */
		if (write_slot(!oka || (okb && va <= vb) ? NV_SLOT_A_OFF : NV_SLOT_B_OFF, r) != 0)
			return -1;
		a->counter_reserved = r;
	}
	a->counter_last = v;
	*out = v;
	return 0;
}

int store_counter_set(agent *a, uint64_t last)
{
	/* Both slots: the larger of two values wins at boot, so a counter set
	 * lower than before must replace both. */
	if (write_slot(NV_SLOT_A_OFF, last) != 0 || write_slot(NV_SLOT_B_OFF, last) != 0)
		return -1;
	a->counter_last = a->counter_reserved = last;
	a->counter_ok = 1;
	return 0;
}

uint8_t store_flags(uint8_t profile)
{
	uint8_t f;

	if (!valid_profile(profile) || port_nv_read(id_addr(profile, F_FLAGS), &f, 1) != 0)
		return 0;
	return f;
}

int store_set_flags(uint8_t profile, uint8_t flags)
{
	if (!valid_profile(profile))
		return -1;
	return port_nv_write(id_addr(profile, F_FLAGS), &flags, 1) == 0 ? 0 : -1;
}

int store_read(uint8_t profile, uint8_t field, uint8_t *out, uint8_t n)
{
	if (!valid_profile(profile) || field >= sizeof field_off)
		return -1;
	return port_nv_read(id_addr(profile, FIELD_OFF(field)), out, n) == 0 ? 0 : -1;
}

int store_write(uint8_t profile, uint8_t field, const uint8_t *p, uint8_t n)
{
	if (!valid_profile(profile) || field >= sizeof field_off)
		return -1;
	return port_nv_write(id_addr(profile, FIELD_OFF(field)), p, n) == 0 ? 0 : -1;
}

uint8_t store_read_var(uint8_t profile, uint8_t field, uint8_t *out, uint8_t cap)
{
	uint8_t n;

	if (store_read(profile, field, &n, 1) != 0 || n > cap || n == 0)
		return 0;
	if (!valid_profile(profile) ||
	    port_nv_read((uint16_t)(id_addr(profile, FIELD_OFF(field)) + 1), out, n) != 0)
		return 0;
	return n;
}

int store_write_var(uint8_t profile, uint8_t field, const uint8_t *p, uint8_t n)
{
	if (!valid_profile(profile) || field >= sizeof field_off)
		return -1;
	if (port_nv_write((uint16_t)(id_addr(profile, FIELD_OFF(field)) + 1), p, n) != 0)
		return -1;
	return store_write(profile, field, &n, 1);
}

int store_erase(void)
{
	uint8_t zero[ID_KEY_MAX + 1];
	uint8_t p;

	memset(zero, 0, sizeof zero);
	for (p = BP_PROFILE_NOISE; p <= BP_PROFILE_PSK; p++) {
		/* The flags first: a device whose erase is cut short holds no
		 * identity, never half of one. Then the private key itself. */
		if (store_set_flags(p, 0) != 0 ||
		    store_write(p, ID_FIELD_KEY, zero, sizeof zero) != 0)
			return -1;
	}
	return 0;
}
