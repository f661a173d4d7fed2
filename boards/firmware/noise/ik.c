/*
 * noise/ik.c: the initiator of the handshake pattern IK (Noise rev. 34
 * §7.5), the device side of the noise profile:
 *
 *   IK:
 *     <- s
 *     ...
 *     -> e, es, s, ss
 *     <- e, ee, se
 *
 * Each token is processed as §5.3 WriteMessage and ReadMessage say, in the
 * order of the pattern. DH is X25519 (§12.1, RFC 7748); a result of all
 * zeros (a public key of small order) aborts the handshake, as §12.1
 * allows.
 */
#include "noise.h"

#include <string.h>

#include "crypto/common.h"
#include "crypto/port.h"
#include "crypto/x25519.h"

/* The protocol name, kept in ROM (crypto/port.h): on the AVR a string in
 * RAM would cost its 33 bytes for good. */
static const char protocol_name[] SD_ROM = SD_NOISE_PROTOCOL_NAME;
/* It is exactly HASHLEN bytes, which InitializeSymmetric below relies on. */
typedef char protocol_name_is_hashlen[sizeof protocol_name - 1 == SD_NOISE_HASHLEN ? 1 : -1];

/* A failed handshake: everything goes but the cost meter's reading. */
static void wipe_failed(sd_noise_ik *hs)
{
	uint32_t cost = hs->dh_cost;

	sd_wipe(hs, sizeof *hs);
	hs->dh_cost = cost;
}

/* DH(key_pair, public_key), metered when the handshake has a clock. */
static int dh(sd_noise_ik *hs, uint8_t out[SD_NOISE_DHLEN],
	      const uint8_t priv[SD_NOISE_DHLEN],
	      const uint8_t pub[SD_NOISE_DHLEN])
{
	uint32_t t0 = hs->clock != NULL ? hs->clock() : 0;
	int err = sd_x25519(out, priv, pub);

	if (hs->clock != NULL)
		hs->dh_cost += hs->clock() - t0;
	return err;
}

void sd_noise_ik_init(sd_noise_ik *hs, const uint8_t s[SD_NOISE_DHLEN],
		      const uint8_t rs[SD_NOISE_DHLEN], const uint8_t *prologue,
		      size_t prologue_len, sd_noise_clock clock)
{
	memset(hs, 0, sizeof *hs);
	hs->clock = clock;
	/* InitializeSymmetric(protocol_name) (§5.2): a name of HASHLEN bytes
	 * is h itself; ck = h; no key. */
	sd_rom_copy(hs->ss.h, protocol_name, SD_NOISE_HASHLEN);
	memcpy(hs->ss.ck, hs->ss.h, SD_NOISE_HASHLEN);
	sd_noise_mix_hash(&hs->ss, prologue, prologue_len);
	memcpy(hs->s, s, SD_NOISE_DHLEN);
	memcpy(hs->rs, rs, SD_NOISE_DHLEN);
	/* The pre-message pattern "<- s": MixHash(rs). */
	sd_noise_mix_hash(&hs->ss, hs->rs, SD_NOISE_DHLEN);
}

int sd_noise_ik_write_msg1(sd_noise_ik *hs, uint8_t *out,
			   const uint8_t e[SD_NOISE_DHLEN],
			   const uint8_t s_pub[SD_NOISE_DHLEN],
			   const uint8_t *payload, size_t payload_len)
{
	uint8_t shared[SD_NOISE_DHLEN];
	uint8_t *p = out;
	uint32_t t0;
	int err;

	/* -> e: e = GENERATE_KEYPAIR() from the caller's random bytes;
	 * write e.public_key; MixHash(e.public_key). */
	memcpy(hs->e, e, SD_NOISE_DHLEN);
	t0 = hs->clock != NULL ? hs->clock() : 0;
	sd_x25519_base(p, hs->e);
	if (hs->clock != NULL)
		hs->dh_cost += hs->clock() - t0;
	sd_noise_mix_hash(&hs->ss, p, SD_NOISE_DHLEN);
	p += SD_NOISE_DHLEN;

	/* es: MixKey(DH(e, rs)) */
	err = dh(hs, shared, hs->e, hs->rs);
	if (err != SD_OK)
		goto fail;
	sd_noise_mix_key(&hs->ss, shared, sizeof shared);

	/* s: write EncryptAndHash(s.public_key) */
	err = sd_noise_encrypt_and_hash(&hs->ss, p, s_pub, SD_NOISE_DHLEN);
	if (err != SD_OK)
		goto fail;
	p += SD_NOISE_DHLEN + SD_NOISE_TAGLEN;

	/* ss: MixKey(DH(s, rs)) */
	err = dh(hs, shared, hs->s, hs->rs);
	if (err != SD_OK)
		goto fail;
	sd_noise_mix_key(&hs->ss, shared, sizeof shared);

	/* payload: write EncryptAndHash(payload) */
	err = sd_noise_encrypt_and_hash(&hs->ss, p, payload, payload_len);
	if (err != SD_OK)
		goto fail;
	sd_wipe(shared, sizeof shared);
	return SD_OK;
fail:
	sd_wipe(shared, sizeof shared);
	wipe_failed(hs);
	return err;
}

int sd_noise_ik_read_msg2(sd_noise_ik *hs, uint8_t *payload,
			  const uint8_t *msg, size_t msg_len,
			  sd_noise_cipher *c1, sd_noise_cipher *c2)
{
	uint8_t re[SD_NOISE_DHLEN], shared[SD_NOISE_DHLEN];
	int err = SD_ERR_LENGTH;

	if (msg_len < SD_NOISE_DHLEN + SD_NOISE_TAGLEN)
		goto fail;
	/* <- e: re = the next DHLEN bytes; MixHash(re.public_key). */
	memcpy(re, msg, SD_NOISE_DHLEN);
	sd_noise_mix_hash(&hs->ss, re, SD_NOISE_DHLEN);

	/* ee: MixKey(DH(e, re)) */
	err = dh(hs, shared, hs->e, re);
	if (err != SD_OK)
		goto fail;
	sd_noise_mix_key(&hs->ss, shared, sizeof shared);

	/* se: the initiator computes MixKey(DH(s, re)) */
	err = dh(hs, shared, hs->s, re);
	if (err != SD_OK)
		goto fail;
	sd_noise_mix_key(&hs->ss, shared, sizeof shared);

	/* payload: DecryptAndHash(the rest of the message) */
	err = sd_noise_decrypt_and_hash(&hs->ss, payload, msg + SD_NOISE_DHLEN,
					msg_len - SD_NOISE_DHLEN);
	if (err != SD_OK)
		goto fail;

	/* The pattern is done: Split(). */
	sd_noise_split(&hs->ss, c1, c2);
	sd_wipe(hs->s, sizeof hs->s);
	sd_wipe(hs->e, sizeof hs->e);
	sd_wipe(hs->rs, sizeof hs->rs);
	sd_wipe(re, sizeof re);
	sd_wipe(shared, sizeof shared);
	return SD_OK;
fail:
	sd_wipe(re, sizeof re);
	sd_wipe(shared, sizeof shared);
	wipe_failed(hs);
	return err;
}
