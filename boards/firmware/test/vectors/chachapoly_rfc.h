/*
 * test/vectors/chachapoly_rfc.h: RFC 8439 vectors for ChaCha20, Poly1305
 * and AEAD_CHACHA20_POLY1305, as hex strings, each under the section that
 * publishes it.
 */
#ifndef SD_VECTORS_CHACHAPOLY_RFC_H
#define SD_VECTORS_CHACHAPOLY_RFC_H

/* "Ladies and Gentlemen of the class of '99: If I could offer you only one
 * tip for the future, sunscreen would be it." (§2.4.2, §2.8.2) */
#define RFC8439_SUNSCREEN                                                   \
	"4c616469657320616e642047656e746c656d656e206f662074686520636c6173" \
	"73206f66202739393a204966204920636f756c64206f6666657220796f75206f" \
	"6e6c79206f6e652074697020666f7220746865206675747572652c2073756e73" \
	"637265656e20776f756c642062652069742e"

#define RFC8439_KEY_00_1F \
	"000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f"

/* §2.3.2 Test Vector for the ChaCha20 Block Function. */
static const char rfc8439_232_key[] = RFC8439_KEY_00_1F;
static const char rfc8439_232_nonce[] = "000000090000004a00000000";
#define RFC8439_232_COUNTER 1
static const char rfc8439_232_block[] =
	"10f1e7e4d13b5915500fdd1fa32071c4c7d1f4c733c068030422aa9ac3d46c4e"
	"d2826446079faa0914c2d705d98b02a2b5129cd1de164eb9cbd083e8a2503c4e";

/* §2.4.2 Example and Test Vector for the ChaCha20 Cipher. */
static const char rfc8439_242_key[] = RFC8439_KEY_00_1F;
static const char rfc8439_242_nonce[] = "000000000000004a00000000";
#define RFC8439_242_COUNTER 1
static const char rfc8439_242_plaintext[] = RFC8439_SUNSCREEN;
static const char rfc8439_242_ciphertext[] =
	"6e2e359a2568f98041ba0728dd0d6981e97e7aec1d4360c20a27afccfd9fae0b"
	"f91b65c5524733ab8f593dabcd62b3571639d624e65152ab8f530c359f0861d8"
	"07ca0dbf500d6a6156a38e088a22b65e52bc514d16ccf806818ce91ab7793736"
	"5af90bbf74a35be6b40b8eedf2785e42874d";

/* §2.5.2 Example and Test Vector for Poly1305. */
static const char rfc8439_252_key[] =
	"85d6be7857556d337f4452fe42d506a80103808afb0db2fd4abff6af4149f51b";
/* "Cryptographic Forum Research Group" */
static const char rfc8439_252_msg[] =
	"43727970746f6772617068696320466f72756d2052657365617263682047726f7570";
static const char rfc8439_252_tag[] = "a8061dc1305136c6c22b8baf0c0127a9";

/* §2.8.2 Example and Test Vector for AEAD_CHACHA20_POLY1305. The nonce is
 * the 32-bit constant 07000000 followed by the IV 4041424344454647. */
static const char rfc8439_282_key[] =
	"808182838485868788898a8b8c8d8e8f909192939495969798999a9b9c9d9e9f";
static const char rfc8439_282_nonce[] = "070000004041424344454647";
static const char rfc8439_282_aad[] = "50515253c0c1c2c3c4c5c6c7";
static const char rfc8439_282_plaintext[] = RFC8439_SUNSCREEN;
static const char rfc8439_282_ciphertext[] =
	"d31a8d34648e60db7b86afbc53ef7ec2a4aded51296e08fea9e2b5a736ee62d6"
	"3dbea45e8ca9671282fafb69da92728b1a71de0a9e060b2905d6a5b67ecd3b36"
	"92ddbd7f2d778b8c9803aee328091b58fab324e4fad675945585808b4831d7bc"
	"3ff4def08e4b7a9de576d26586cec64b6116";
static const char rfc8439_282_tag[] = "1ae10b594f09e26a7e902ecbd0600691";

/* Appendix A.5 ChaCha20-Poly1305 AEAD Decryption. */
static const char rfc8439_a5_key[] =
	"1c9240a5eb55d38af333888604f6b5f0473917c1402b80099dca5cbc207075c0";
static const char rfc8439_a5_nonce[] = "000000000102030405060708";
static const char rfc8439_a5_aad[] = "f33388860000000000004e91";
static const char rfc8439_a5_ciphertext[] =
	"64a0861575861af460f062c79be643bd5e805cfd345cf389f108670ac76c8cb2"
	"4c6cfc18755d43eea09ee94e382d26b0bdb7b73c321b0100d4f03b7f355894cf"
	"332f830e710b97ce98c8a84abd0b948114ad176e008d33bd60f982b1ff37c855"
	"9797a06ef4f0ef61c186324e2b3506383606907b6a7c02b0f9f6157b53c867e4"
	"b9166c767b804d46a59b5216cde7a4e99040c5a40433225ee282a1b0a06c523e"
	"af4534d7f83fa1155b0047718cbc546a0d072b04b3564eea1b422273f548271a"
	"0bb2316053fa76991955ebd63159434ecebb4e466dae5a1073a6727627097a10"
	"49e617d91d361094fa68f0ff77987130305beaba2eda04df997b714d6c6f2c29"
	"a6ad5cb4022b02709b";
static const char rfc8439_a5_tag[] = "eead9d67890cbb22392336fea1851f38";
/* "Internet-Drafts are draft documents valid for a maximum of six months
 * and may be updated, replaced, or obsoleted by other documents at any
 * time. It is inappropriate to use Internet-Drafts as reference material
 * or to cite them other than as /"work in progress./"" (with U+201C and
 * U+201D quotation marks). */
static const char rfc8439_a5_plaintext[] =
	"496e7465726e65742d4472616674732061726520647261667420646f63756d65"
	"6e74732076616c696420666f722061206d6178696d756d206f6620736978206d"
	"6f6e74687320616e64206d617920626520757064617465642c207265706c6163"
	"65642c206f72206f62736f6c65746564206279206f7468657220646f63756d65"
	"6e747320617420616e792074696d652e20497420697320696e617070726f7072"
	"6961746520746f2075736520496e7465726e65742d4472616674732061732072"
	"65666572656e6365206d6174657269616c206f7220746f206369746520746865"
	"6d206f74686572207468616e206173202fe2809c776f726b20696e2070726f67"
	"726573732e2fe2809d";

#endif /* SD_VECTORS_CHACHAPOLY_RFC_H */
