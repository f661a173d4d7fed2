/*
 * noise/noise.h: the device (initiator) side of the noise profile,
 * Noise_IK_25519_ChaChaPoly_SHA256 (Noise Protocol Framework, revision 34)
 * with the payloads docs/protocol.md fixes: message 1 carries the device's
 * 8-byte big-endian counter, message 2 the server's key announcement.
 *
 * Three layers, named as in the spec:
 *   - CipherState (§5.1): sd_noise_cipher, EncryptWithAd, DecryptWithAd,
 *     Rekey (§4.2, §11.3);
 *   - SymmetricState (§5.2): sd_noise_symmetric, MixKey, MixHash,
 *     EncryptAndHash, DecryptAndHash, Split;
 *   - HandshakeState (§5.3) of pattern IK (§7.5) for the initiator:
 *     sd_noise_ik, message 1 (-> e, es, s, ss) and message 2
 *     (<- e, ee, se).
 * The transport of the profile (one ChaChaPoly record per frame, REKEY
 * after every 65,536 messages of a direction) sits on a CipherState.
 *
 * All state lives in caller-provided structs, nothing is allocated, and
 * every function that ends a state's use wipes it. Framing (the 2-byte
 * length) is the caller's: these functions take and give Noise messages.
 */
#ifndef SD_NOISE_NOISE_H
#define SD_NOISE_NOISE_H

#include <stddef.h>
#include <stdint.h>

/* Spec constants of the suite 25519, ChaChaPoly, SHA256. */
#define SD_NOISE_DHLEN 32   /* §12.1 */
#define SD_NOISE_HASHLEN 32 /* §12.5 */
#define SD_NOISE_KEYLEN 32  /* §12.3: cipher keys */
#define SD_NOISE_TAGLEN 16  /* §12.3: ChaChaPoly authentication tag */
#define SD_NOISE_MAX_MSG_LEN 65535 /* §3 */

/* Profile constants: fixed by docs/protocol.md ("noise"). */
#define SD_NOISE_PROTOCOL_NAME "Noise_IK_25519_ChaChaPoly_SHA256"
#define SD_NOISE_PROLOGUE "shakedown/1"
#define SD_NOISE_PROLOGUE_LEN 11
#define SD_NOISE_COUNTER_LEN 8            /* message 1 payload */
#define SD_NOISE_ANNOUNCEMENT_VERSION 0x01
/* Message 2 payload, the key announcement:
 *   1B  version (SD_NOISE_ANNOUNCEMENT_VERSION)
 *   32B current server static public key
 *   32B next server static public key, or 32 zero bytes when none */
#define SD_NOISE_ANNOUNCEMENT_LEN (1 + 2 * SD_NOISE_DHLEN)
#define SD_NOISE_REKEY_INTERVAL 65536UL   /* transport messages per REKEY */

/* Message 1: 32 e | 32+16 s | 8+16 counter = 104 bytes. */
#define SD_NOISE_IK_MSG1_LEN \
	(SD_NOISE_DHLEN + SD_NOISE_DHLEN + SD_NOISE_TAGLEN + \
	 SD_NOISE_COUNTER_LEN + SD_NOISE_TAGLEN)
/* Message 2: 32 e | 65+16 announcement = 113 bytes. */
#define SD_NOISE_IK_MSG2_LEN \
	(SD_NOISE_DHLEN + SD_NOISE_ANNOUNCEMENT_LEN + SD_NOISE_TAGLEN)

/* ---------------------------------------------------------------- §5.1 */

/* CipherState: k, n, and whether k is set (k = empty in the spec). */
typedef struct {
	uint8_t k[SD_NOISE_KEYLEN];
	uint64_t n;
	uint8_t has_key;
} sd_noise_cipher;

/*
 * EncryptWithAd(ad, plaintext): with a key, out = ENCRYPT(k, n++, ad, pt),
 * len + 16 bytes; without, out = pt. out may equal pt. Returns SD_OK, or
 * SD_ERR_LENGTH when n reached 2^64-1 (§5.1: the nonce is exhausted).
 */
int sd_noise_encrypt_with_ad(sd_noise_cipher *cs, uint8_t *out,
			     const uint8_t *ad, size_t ad_len,
			     const uint8_t *pt, size_t len);

/*
 * DecryptWithAd(ad, ciphertext): with a key, out = DECRYPT(k, n, ad, ct)
 * (ct_len - 16 bytes) and n++ on success; without, out = ct. Returns
 * SD_OK, SD_ERR_LENGTH (ct_len < 16 or n exhausted) or SD_ERR_AUTH (out
 * zeroed, n unchanged). out may equal ct.
 */
int sd_noise_decrypt_with_ad(sd_noise_cipher *cs, uint8_t *out,
			     const uint8_t *ad, size_t ad_len,
			     const uint8_t *ct, size_t ct_len);

/* Rekey() (§4.2 REKEY, the default): k = ENCRYPT(k, 2^64-1, "",
 * zeros[32])[0:32]; n is kept. */
void sd_noise_rekey(sd_noise_cipher *cs);

/* ---------------------------------------------------------------- §5.2 */

typedef struct {
	sd_noise_cipher cs;
	uint8_t ck[SD_NOISE_HASHLEN]; /* chaining key */
	uint8_t h[SD_NOISE_HASHLEN];  /* handshake hash */
} sd_noise_symmetric;

/* InitializeSymmetric(protocol_name): h = name padded with zeros, or its
 * hash when longer than HASHLEN; ck = h; no key. */
void sd_noise_initialize_symmetric(sd_noise_symmetric *ss, const char *name,
				   size_t name_len);
/* MixKey(ikm): ck, temp_k = HKDF(ck, ikm, 2); InitializeKey(temp_k). */
void sd_noise_mix_key(sd_noise_symmetric *ss, const uint8_t *ikm, size_t len);
/* MixHash(data): h = HASH(h || data). */
void sd_noise_mix_hash(sd_noise_symmetric *ss, const uint8_t *data, size_t len);
/* EncryptAndHash(pt): out = EncryptWithAd(h, pt); MixHash(out). */
int sd_noise_encrypt_and_hash(sd_noise_symmetric *ss, uint8_t *out,
			      const uint8_t *pt, size_t len);
/* DecryptAndHash(ct): out = DecryptWithAd(h, ct); MixHash(ct). ct is
 * hashed before out is written, so out may equal ct. */
int sd_noise_decrypt_and_hash(sd_noise_symmetric *ss, uint8_t *out,
			      const uint8_t *ct, size_t ct_len);
/* Split(): temp_k1, temp_k2 = HKDF(ck, "", 2); c1 encrypts initiator to
 * responder, c2 the other way. Wipes ck and ss's CipherState; h stays, the
 * handshake hash (GetHandshakeHash(), §5.3). */
void sd_noise_split(sd_noise_symmetric *ss, sd_noise_cipher *c1,
		    sd_noise_cipher *c2);

/* ---------------------------------------------------------------- IK */

/* An optional cost meter: a free-running counter read around every DH,
 * so that a board can report what its public-key operations cost. */
typedef uint32_t (*sd_noise_clock)(void);

/*
 * HandshakeState of the initiator of IK:
 *   <- s
 *   ...
 *   -> e, es, s, ss
 *   <- e, ee, se
 */
typedef struct {
	sd_noise_symmetric ss;
	uint8_t s[SD_NOISE_DHLEN];  /* the device's static private key */
	uint8_t e[SD_NOISE_DHLEN];  /* the ephemeral private key */
	uint8_t rs[SD_NOISE_DHLEN]; /* the server static key this handshake targets */
	sd_noise_clock clock;       /* NULL: no metering */
	uint32_t dh_cost;           /* clock units spent in DH so far */
} sd_noise_ik;

/*
 * Initialize(IK, initiator, prologue, s, rs) (§5.3): InitializeSymmetric
 * with the protocol name, MixHash(prologue), then the pre-message "<- s":
 * MixHash(rs). s is the device's static private key, rs the pinned server
 * public key.
 */
void sd_noise_ik_init(sd_noise_ik *hs, const uint8_t s[SD_NOISE_DHLEN],
		      const uint8_t rs[SD_NOISE_DHLEN], const uint8_t *prologue,
		      size_t prologue_len, sd_noise_clock clock);

/*
 * WriteMessage for message 1, -> e, es, s, ss, with payload (any length
 * the caller's out can take; the profile sends the 8-byte counter):
 * out gets 32 + 48 + payload_len + 16 bytes. e is the ephemeral private
 * key (DHLEN random bytes, GENERATE_KEYPAIR), s_pub the device's static
 * public key. Returns SD_OK, or SD_ERR_LOW_ORDER when a DH with rs is
 * zero (a pinned key of small order). On failure hs is wiped but for
 * dh_cost, what the DHs done so far cost.
 */
int sd_noise_ik_write_msg1(sd_noise_ik *hs, uint8_t *out,
			   const uint8_t e[SD_NOISE_DHLEN],
			   const uint8_t s_pub[SD_NOISE_DHLEN],
			   const uint8_t *payload, size_t payload_len);

/*
 * ReadMessage for message 2, <- e, ee, se: msg is msg_len bytes (at least
 * 32 + 16); payload gets msg_len - 48 bytes. On success it calls Split:
 * c1 encrypts device to server, c2 server to device, and hs keeps only
 * the handshake hash, hs->ss.h (for channel binding and the tests). Returns
 * SD_OK, SD_ERR_LENGTH, SD_ERR_LOW_ORDER (re of small order) or
 * SD_ERR_AUTH; on failure hs is wiped but for dh_cost. payload may point
 * into msg.
 */
int sd_noise_ik_read_msg2(sd_noise_ik *hs, uint8_t *payload,
			  const uint8_t *msg, size_t msg_len,
			  sd_noise_cipher *c1, sd_noise_cipher *c2);

/* ---------------------------------------------------------------- transport */

/*
 * One transport message of the profile: ct = ENCRYPT(k, n, "", pt) with the
 * tag apart (so a caller can stream ct, then tag), n++, and REKEY when n
 * reaches a multiple of 65,536. ct may equal pt. SD_OK or SD_ERR_LENGTH.
 */
int sd_noise_transport_seal(sd_noise_cipher *cs, uint8_t *ct,
			    uint8_t tag[SD_NOISE_TAGLEN], const uint8_t *pt,
			    size_t len);

/* The reverse: rec is ciphertext || tag (rec_len >= 16), pt gets rec_len -
 * 16 bytes. SD_OK, SD_ERR_LENGTH or SD_ERR_AUTH (pt zeroed). pt may equal
 * rec. */
int sd_noise_transport_open(sd_noise_cipher *cs, uint8_t *pt,
			    const uint8_t *rec, size_t rec_len);

#endif /* SD_NOISE_NOISE_H */
