/*
 * test/vectors/sha256_rfc.h: published vectors for SHA-256, HMAC-SHA256 and
 * HKDF-SHA256, as hex strings, each under the section that publishes it.
 */
#ifndef SD_VECTORS_SHA256_RFC_H
#define SD_VECTORS_SHA256_RFC_H

struct sha256_vector {
	const char *name;
	const char *msg;      /* ASCII message */
	unsigned long repeat; /* the message is repeated this many times */
	const char *digest;   /* hex */
};

/* FIPS 180-4 examples (csrc.nist.gov SHA256.pdf / SHA2_Additional.pdf),
 * repeated in RFC 6234 §8.5 as TEST1, TEST2_1, TEST3 and TEST4. */
static const struct sha256_vector sha256_vectors[] = {
	{"RFC 6234 TEST1 (FIPS 180-4 one block)", "abc", 1,
	 "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"},
	{"RFC 6234 TEST2_1 (FIPS 180-4 448-bit message)",
	 "abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq", 1,
	 "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1"},
	{"RFC 6234 TEST3 (one million 'a')", "a", 1000000UL,
	 "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0"},
	{"RFC 6234 TEST4 (\"01234567\" x 80)", "0123456701234567012345670123456701234567012345670123456701234567", 10,
	 "594847328451bdfa85056225462cc1d867d877fb388df0ce35f25ab5562bfbb5"},
	{"empty message (NIST CAVS SHA256ShortMsg Len = 0)", "", 1,
	 "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"},
};

struct hmac_vector {
	const char *name;
	const char *key;  /* hex */
	const char *data; /* hex */
	const char *mac;  /* hex; test case 5 publishes only 128 bits */
};

/* RFC 4231 §4.2 to §4.8: test cases 1 to 7, HMAC-SHA-256 results. */
static const struct hmac_vector hmac_vectors[] = {
	{"RFC 4231 §4.2 test case 1",
	 "0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b",
	 "4869205468657265", /* "Hi There" */
	 "b0344c61d8db38535ca8afceaf0bf12b881dc200c9833da726e9376c2e32cff7"},
	{"RFC 4231 §4.3 test case 2", "4a656665", /* "Jefe" */
	 /* "what do ya want for nothing?" */
	 "7768617420646f2079612077616e7420666f72206e6f7468696e673f",
	 "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843"},
	{"RFC 4231 §4.4 test case 3",
	 "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa",
	 "dddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddd"
	 "dddddddddddddddddddddddddddddddddddd",
	 "773ea91e36800e46854db8ebd09181a72959098b3ef8c122d9635514ced565fe"},
	{"RFC 4231 §4.5 test case 4",
	 "0102030405060708090a0b0c0d0e0f10111213141516171819",
	 "cdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcd"
	 "cdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcd",
	 "82558a389a443c0ea4cc819899f2083a85f0faa3e578f8077a2e3ff46729665b"},
	{"RFC 4231 §4.6 test case 5 (truncated to 128 bits)",
	 "0c0c0c0c0c0c0c0c0c0c0c0c0c0c0c0c0c0c0c0c",
	 "546573742057697468205472756e636174696f6e", /* "Test With Truncation" */
	 "a3b6167473100ee06e0c796c2955552b"},
	{"RFC 4231 §4.7 test case 6 (131-byte key)",
	 "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
	 "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
	 "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
	 "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
	 "aaaaaa",
	 /* "Test Using Larger Than Block-Size Key - Hash Key First" */
	 "54657374205573696e67204c6172676572205468616e20426c6f636b2d53697a"
	 "65204b6579202d2048617368204b6579204669727374",
	 "60e431591ee0b67f0d8a26aacbf5b77f8e0bc6213728c5140546040f0ee37f54"},
	{"RFC 4231 §4.8 test case 7 (131-byte key, 152-byte data)",
	 "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
	 "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
	 "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
	 "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
	 "aaaaaa",
	 /* "This is a test using a larger than block-size key and a larger
	  * than block-size data. The key needs to be hashed before being
	  * used by the HMAC algorithm." */
	 "5468697320697320612074657374207573696e672061206c6172676572207468"
	 "616e20626c6f636b2d73697a65206b657920616e642061206c61726765722074"
	 "68616e20626c6f636b2d73697a6520646174612e20546865206b6579206e6565"
	 "647320746f20626520686173686564206265666f7265206265696e6720757365"
	 "642062792074686520484d414320616c676f726974686d2e",
	 "9b09ffa71b942fcb27635fbcd5b0e944bfdc63644f0713938a7f51535c3a35e2"},
};

struct hkdf_vector {
	const char *name;
	const char *ikm, *salt, *info; /* hex */
	unsigned long len;             /* L */
	const char *prk, *okm;         /* hex */
};

/* RFC 5869 Appendix A.1 to A.3 (the SHA-256 cases). */
static const struct hkdf_vector hkdf_vectors[] = {
	{"RFC 5869 A.1 basic test case",
	 "0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b",
	 "000102030405060708090a0b0c",
	 "f0f1f2f3f4f5f6f7f8f9", 42,
	 "077709362c2e32df0ddc3f0dc47bba6390b6c73bb50f9c3122ec844ad7c2b3e5",
	 "3cb25f25faacd57a90434f64d0362f2a2d2d0a90cf1a5a4c5db02d56ecc4c5bf"
	 "34007208d5b887185865"},
	{"RFC 5869 A.2 longer inputs and outputs",
	 "000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f"
	 "202122232425262728292a2b2c2d2e2f303132333435363738393a3b3c3d3e3f"
	 "404142434445464748494a4b4c4d4e4f",
	 "606162636465666768696a6b6c6d6e6f707172737475767778797a7b7c7d7e7f"
	 "808182838485868788898a8b8c8d8e8f909192939495969798999a9b9c9d9e9f"
	 "a0a1a2a3a4a5a6a7a8a9aaabacadaeaf",
	 "b0b1b2b3b4b5b6b7b8b9babbbcbdbebfc0c1c2c3c4c5c6c7c8c9cacbcccdcecf"
	 "d0d1d2d3d4d5d6d7d8d9dadbdcdddedfe0e1e2e3e4e5e6e7e8e9eaebecedeeef"
	 "f0f1f2f3f4f5f6f7f8f9fafbfcfdfeff", 82,
	 "06a6b88c5853361a06104c9ceb35b45cef760014904671014a193f40c15fc244",
	 "b11e398dc80327a1c8e7f78c596a49344f012eda2d4efad8a050cc4c19afa97c"
	 "59045a99cac7827271cb41c65e590e09da3275600c2f09b8367793a9aca3db71"
	 "cc30c58179ec3e87c14c01d5c1f3434f1d87"},
	{"RFC 5869 A.3 zero-length salt and info",
	 "0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b", "", "", 42,
	 "19ef24a32c717b167f33a91d6f648bdf96596776afdb6377ac434c1c293ccb04",
	 "8da4e775a563c18f715f802a063c5a31b8a11f5c5ee1879ec3454e5f3c738d2d"
	 "9d201395faa4b61a96c8"},
};

#endif /* SD_VECTORS_SHA256_RFC_H */
