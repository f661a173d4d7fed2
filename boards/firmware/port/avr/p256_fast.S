/*
 * port/avr/p256_fast.S: the reduction of a P-256 product for the AVR
 * (ATmega328P), hand-written for crypto/ecc.c's fast build (the
 * Makefile's AVR_FE=asm):
 *
 *   void sd_p256_reduce_avr(uint8_t t[64]);
 *
 * t holds a product below p^2, little-endian; afterwards t[0..32) is
 * congruent to it modulo p = 2^256 - 2^224 + 2^192 + 2^96 - 1 and below
 * 2^256 (ecc.c subtracts p once more if needed). The method is the fast
 * reduction of FIPS 186-4 Appendix D.2.3, r = s1 + 2 s2 + 2 s3 + s4 + s5
 * - s6 - s7 - s8 - s9, summed byte column by byte column: with c0..c15
 * the product's 32-bit words, byte k of word j gathers byte k of c_j and
 * of the words listed for row j below, in a signed 16-bit column sum
 * whose high byte carries on (the same rows as ecc.c's p256_word). The
 * signed carry c out of bit 255 (-4..6) folds back by 2^256 = 2^224 -
 * 2^192 - 2^96 + 1 (mod p), leaving a carry c2 in -1..1; then p is added
 * (c2 = -1) or 2^256 - p added (c2 = 1, the same as subtracting p) in one
 * masked carry chain, whose carry out is c2's own and is dropped.
 *
 * Constant time: no branch depends on the data (the loops count fixed
 * numbers of bytes), no address depends on it, and LD, LDD, ST, ADD,
 * ADC, SUB, SBC, AND, COM and NEG take fixed cycles on this core (AVR
 * Instruction Set Manual).
 *
 * Calling convention (avr-gcc ABI): t in r25:r24; r18-r27, r30, r31 are
 * free; r1 is zero on entry and on return (this code multiplies nothing).
 */

#define LO r18   /* the signed column sum: LO, then HI */
#define HI r19
#define COUNT r20
#define MNEG r21 /* 0xFF if c2 = -1 */
#define MPOS r22 /* 0xFF if c2 = 1 */
#define C1 r23   /* the carry c of the column pass, then its sign */
#define C1S r24

	.text

/* The signed carry: LO = HI, HI = its sign (0x00 or 0xFF). */
.macro CARRY
	mov	LO, HI
	lsl	HI
	sbc	HI, HI
.endm

/*
 * Word j of D.2.3 (Z = t + 4j): for its four bytes k, the column sum
 * adds byte k of c_j, of each word in plus (a word twice for 2 s_i) and
 * subtracts byte k of each word in minus; each at Z + 4 (i - j).
 */
.macro PWORD j, plus, minus
	ldi	COUNT, 4
1:
	ld	r0, Z
	add	LO, r0
	adc	HI, r1
	.irp	i, \plus
	ldd	r0, Z+4*(\i-\j)
	add	LO, r0
	adc	HI, r1
	.endr
	.irp	i, \minus
	ldd	r0, Z+4*(\i-\j)
	sub	LO, r0
	sbc	HI, r1
	.endr
	st	Z+, LO
	CARRY
	dec	COUNT
	brne	1b
.endm

/* n bytes at Z take the column sum's carry, Z advanced. */
.macro CARRYRUN n
	ldi	COUNT, \n
1:
	ld	r0, Z
	add	LO, r0
	adc	HI, r1
	st	Z+, LO
	CARRY
	dec	COUNT
	brne	1b
.endm

/* The byte at Z takes the carry and op (add or sub) C1 (sign C1S). */
.macro FOLDBYTE op, opc
	ld	r0, Z
	add	LO, r0
	adc	HI, r1
	\op	LO, C1
	\opc	HI, C1S
	st	Z+, LO
	CARRY
.endm

/* n bytes at Z += reg + the carry flag, Z advanced. */
.macro MASKRUN reg, n
	ldi	COUNT, \n
1:
	ld	r0, Z
	adc	r0, \reg
	st	Z+, r0
	dec	COUNT		/* DEC and BRNE keep the carry */
	brne	1b
.endm

	.global	sd_p256_reduce_avr
	.type	sd_p256_reduce_avr, @function
sd_p256_reduce_avr:
	movw	r30, r24	/* Z = t */
	clr	LO
	clr	HI
	PWORD	0, "8, 9", "11, 12, 13, 14"
	PWORD	1, "9, 10", "12, 13, 14, 15"
	PWORD	2, "10, 11", "13, 14, 15"
	PWORD	3, "11, 11, 12, 12, 13", "8, 9, 15"
	PWORD	4, "12, 12, 13, 13, 14", "9, 10"
	PWORD	5, "13, 13, 14, 14, 15", "10, 11"
	PWORD	6, "14, 14, 14, 15, 15, 13", "8, 9"
	PWORD	7, "15, 15, 15, 8", "10, 11, 12, 13"
	/* c = LO (sign HI): t[0..32) += c (2^224 - 2^192 - 2^96 + 1). */
	mov	C1, LO		/* C1 = c, C1S = its sign */
	mov	C1S, HI
	sbiw	r30, 32
	clr	LO
	clr	HI
	FOLDBYTE add, adc	/* byte 0: + c */
	CARRYRUN 11
	FOLDBYTE sub, sbc	/* byte 12: - c 2^96 */
	CARRYRUN 11
	FOLDBYTE sub, sbc	/* byte 24: - c 2^192 */
	CARRYRUN 3
	FOLDBYTE add, adc	/* byte 28: + c 2^224 */
	CARRYRUN 3
	/* c2 = LO (sign HI), -1, 0 or 1: add p & MNEG and (2^256 - p) &
	 * MPOS. p = FF x12, 00 x12, 01, 00 x3, FF x4 and 2^256 - p = 01,
	 * 00 x11, FF x12, FE, FF x3, 00 x4 (bytes from the least
	 * significant). */
	mov	MNEG, HI
	mov	MPOS, LO
	andi	MPOS, 1
	neg	MPOS
	com	HI
	and	MPOS, HI
	sbiw	r30, 32
	mov	C1, MPOS	/* byte 0: FF & MNEG | 01 & MPOS */
	andi	C1, 1
	or	C1, MNEG
	ld	r0, Z
	add	r0, C1
	st	Z+, r0
	MASKRUN	MNEG, 11
	MASKRUN	MPOS, 12
	mov	C1, MNEG	/* byte 24: 01 & MNEG | FE & MPOS; MOV, ANDI */
	andi	C1, 1		/* and OR leave the carry flag alone */
	mov	C1S, MPOS
	andi	C1S, 0xFE
	or	C1, C1S
	ld	r0, Z
	adc	r0, C1
	st	Z+, r0
	MASKRUN	MPOS, 3
	MASKRUN	MNEG, 4
	ret
	.size	sd_p256_reduce_avr, . - sd_p256_reduce_avr
