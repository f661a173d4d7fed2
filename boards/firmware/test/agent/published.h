/*
 * test/agent/published.h: published AES and AES-GCM vectors, as hex, each
 * under the document and section that publish it.
 */
#ifndef SD_TEST_AGENT_PUBLISHED_H
#define SD_TEST_AGENT_PUBLISHED_H

/* FIPS 197, Appendix C.1: AES-128 (Nk = 4, Nr = 10). */
static const char fips197_c1_key[] = "000102030405060708090a0b0c0d0e0f";
static const char fips197_c1_plaintext[] = "00112233445566778899aabbccddeeff";
static const char fips197_c1_ciphertext[] = "69c4e0d86a7b0430d8cdb78070b4c55a";

/* FIPS 197, Appendix C.3: AES-256 (Nk = 8, Nr = 14). */
static const char fips197_c3_key[] =
	"000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f";
static const char fips197_c3_plaintext[] = "00112233445566778899aabbccddeeff";
static const char fips197_c3_ciphertext[] = "8ea2b7ca516745bfeafc49904b496089";

/* D. McGrew and J. Viega, The Galois/Counter Mode of Operation (GCM),
 * revised 2005 (the specification NIST SP 800-38D adopts), Appendix B,
 * test cases 1-4 (AES-128, 96-bit IV). */
#define GCM_TC34_KEY "feffe9928665731c6d6a8f9467308308"
#define GCM_TC34_IV "cafebabefacedbaddecaf888"
#define GCM_TC34_P                                                          \
	"d9313225f88406e5a55909c5aff5269a86a7a9531534f7da2e4c303d8a318a72" \
	"1c3c0c95956809532fcf0e2449a6b525b16aedf5aa0de657ba637b39"
#define GCM_TC3_P_TAIL "1aafd255"
#define GCM_TC34_C                                                          \
	"42831ec2217774244b7221b784d0d49ce3aa212f2c02a4e035c17e2329aca12e" \
	"21d514b25466931c7d8f6a5aac84aa051ba30b396a0aac973d58e091"
#define GCM_TC3_C_TAIL "473f5985"

static const struct {
	const char *name, *key, *iv, *ad, *plaintext, *ciphertext, *tag;
} gcm_published[] = {
	{"GCM test case 1", "00000000000000000000000000000000", "000000000000000000000000",
	 "", "", "", "58e2fccefa7e3061367f1d57a4e7455a"},
	{"GCM test case 2", "00000000000000000000000000000000", "000000000000000000000000",
	 "", "00000000000000000000000000000000", "0388dace60b6a392f328c2b971b2fe78",
	 "ab6e47d42cec13bdf53a67b21257bddf"},
	{"GCM test case 3", GCM_TC34_KEY, GCM_TC34_IV, "", GCM_TC34_P GCM_TC3_P_TAIL,
	 GCM_TC34_C GCM_TC3_C_TAIL, "4d5c2af327cd64a62cf35abd2ba6fab4"},
	{"GCM test case 4", GCM_TC34_KEY, GCM_TC34_IV,
	 "feedfacedeadbeeffeedfacedeadbeefabaddad2", GCM_TC34_P, GCM_TC34_C,
	 "5bc94fbc3221a5db94fae95ae7121a47"},
};

#endif /* SD_TEST_AGENT_PUBLISHED_H */
