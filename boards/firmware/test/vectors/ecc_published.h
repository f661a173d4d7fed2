/*
 * test/vectors/ecc_published.h: published ECDH vectors for P-256 and
 * secp160r1, hex, big-endian; public points uncompressed (04 || X || Y).
 */
#ifndef SD_VECTORS_ECC_PUBLISHED_H
#define SD_VECTORS_ECC_PUBLISHED_H

struct ecdh_kat {
	const char *name;
	const char *priv, *pub;   /* our key pair */
	const char *peer_priv;    /* the peer's private key, when published */
	const char *peer, *shared; /* the peer's public point, x of priv*peer */
};

static const struct ecdh_kat p256_kats[] = {
	/* RFC 5903 §8.1, 256-bit Random ECP Group: the initiator's i, g^i
	 * and the responder's r, g^r; g^ir's x-coordinate is the secret. */
	{"RFC 5903 §8.1",
	 "c88f01f510d9ac3f70a292daa2316de544e9aab8afe84049c62a9c57862d1433",
	 "04dad0b65394221cf9b051e1feca5787d098dfe637fc90b9ef945d0c3772581180"
	 "5271a0461cdb8252d61f1c456fa3e59ab1f45b33accf5f58389e0577b8990bb3",
	 "c6ef9c5d78ae012a011164acb397ce2088685d8f06bf9be0b283ab46476bee53",
	 "04d12dfb5289c8d4f81208b70270398c342296970a0bccb74c736fc7554494bf63"
	 "56fbf3ca366cc23e8157854c13c58d6aac23f046ada30f8353e74f33039872ab",
	 "d6840f6b42f6edafd13116e0e12565202fef8e9ece7dce03812464d04b9442de"},
	/* NIST CAVS 14.1, ECC CDH Primitive (SP 800-56A), P-256 COUNT = 0:
	 * dIUT, QIUT, QCAVS and ZIUT. */
	{"NIST CAVS 14.1 ECC CDH P-256 COUNT = 0",
	 "7d7dc5f71eb29ddaf80d6214632eeae03d9058af1fb6d22ed80badb62bc1a534",
	 "04ead218590119e8876b29146ff89ca61770c4edbbf97d38ce385ed281d8a6b230"
	 "28af61281fd35e2fa7002523acc85a429cb06ee6648325389f59edfce1405141",
	 NULL,
	 "04700c48f77f56584c5cc632ca65640db91b6bacce3a4df6b42ce7cc838833d287"
	 "db71e509e3fd9b060ddb20ba5c51dcc5948d46fbf640dfe0441782cab85fa4ac",
	 "46fc62106420ff012e54a434fbdd2d25ccc5852060561e68040dd7778997bd7b"},
};

static const struct ecdh_kat secp160r1_kats[] = {
	/* GEC 2: Test Vectors for SEC 1 (Certicom Research, v0.3, 1999),
	 * the ECDH example over secp160r1: U's (dU, QU), V's (dV, QV), z. */
	{"GEC 2 ECDH over secp160r1",
	 "00aa374ffc3ce144e6b073307972cb6d57b2a4e982",
	 "0451b4496fecc406ed0e75a24a3c03206251419dc0c28dcb4b73a514b468d79389"
	 "4f381ccc1756aa6c",
	 "0045fb58a92a17ad4b15101c66e74f277e2b460866",
	 "0449b41e0e9c0369c2328739d90f63d56707c6e5bc26e008b567015ed96d232a03"
	 "111c3edc0e9c8f83",
	 "ca7c0f8c3ffa87a96e1b74ac8e6af594347bb40a"},
};

#endif /* SD_VECTORS_ECC_PUBLISHED_H */
