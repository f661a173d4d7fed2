/*
 * port/avr/bn_fast.S: crypto/bn.h's add, sub, csub, cadd, cmov and cswap
 * for the AVR (ATmega328P) with 16-bit limbs, hand-written for the fast
 * build (the Makefile's AVR_FE=asm, which defines SD_FE25519_AVR without
 * SD_CRYPTO_SMALL; crypto/bn.c then leaves these six out). Same
 * contracts as bn.h, with n at least 1 and, for csub and cadd, even
 * (ecc.c's 16 and 10 limbs): n limbs of 2 bytes, little-endian, r may
 * alias a or b, masks all-zero or all-one. ecc.c's field add, sub and the
 * final subtraction of its product run on them.
 *
 * Constant time: the loops count limbs (n is public), no branch or
 * address depends on the data, and LD, ST, ADC, SBC, EOR, AND, OR, COM
 * and NEG take fixed cycles on this core (AVR Instruction Set Manual).
 *
 * Calling convention (avr-gcc ABI): arguments in r25:r24, r23:r22,
 * r21:r20, r19:r18, r17:r16; r18-r27, r30, r31 are free; r28, r29 are saved; r1
 * is zero on return.
 */

#include "entry3.inc"

	.text

/* r = a op b over n limbs (X = r, Z = a, Y = b, r18 = n), op adc or
 * sbc; returns the carry (borrow) in r25:r24. */
.macro CHAINOP op
	ENTER3
	clc
1:
	.rept	2
	ld	r20, Z+
	ld	r21, Y+
	\op	r20, r21
	st	X+, r20
	.endr
	dec	r18		/* DEC and BRNE keep the carry */
	brne	1b
	clr	r24		/* EOR keeps it too */
	clr	r25
	adc	r24, r24
	LEAVE3
.endm

/* sd_limb sd_bn_add(sd_limb *r, const sd_limb *a, const sd_limb *b,
 * sd_len n) */
	.global	sd_bn_add
	.type	sd_bn_add, @function
sd_bn_add:
	CHAINOP	adc
	.size	sd_bn_add, . - sd_bn_add

/* sd_limb sd_bn_sub(sd_limb *r, const sd_limb *a, const sd_limb *b,
 * sd_len n) */
	.global	sd_bn_sub
	.type	sd_bn_sub, @function
sd_bn_sub:
	CHAINOP	sbc
	.size	sd_bn_sub, . - sd_bn_sub

/*
 * void sd_bn_csub(sd_limb *r, const sd_limb *a, const sd_limb *p,
 *                 sd_len n, sd_limb carry)
 * r = a - p if carry 2^(16 n) + a >= p, else a: first the borrow of
 * a - p alone, then a - (p & mask) with mask = carry | no borrow. carry
 * (r17:r16, call-saved) is only read.
 */
	.global	sd_bn_csub
	.type	sd_bn_csub, @function
sd_bn_csub:
	movw	r26, r24	/* X = r */
	push	r28
	push	r29
	movw	r30, r22	/* Z = a */
	movw	r28, r20	/* Y = p */
	mov	r19, r18
	lsr	r19		/* two limbs each time round: n is even */
	lsr	r18
	clc
1:
	.rept	4
	ld	r0, Z+
	ld	r24, Y+
	sbc	r0, r24
	.endr
	dec	r19
	brne	1b
	sbc	r25, r25	/* 0xFF after a borrow */
	com	r25
	mov	r24, r16
	neg	r24		/* 0xFF if carry */
	or	r25, r24	/* mask */
	movw	r30, r22
	movw	r28, r20
	clc
2:
	.rept	4
	ld	r0, Z+
	ld	r24, Y+
	and	r24, r25
	sbc	r0, r24
	st	X+, r0
	.endr
	dec	r18
	brne	2b
	LEAVE3
	.size	sd_bn_csub, . - sd_bn_csub

/* void sd_bn_cadd(sd_limb *r, const sd_limb *p, sd_len n, sd_limb mask):
 * r += mask & p, the carry out dropped. */
	.global	sd_bn_cadd
	.type	sd_bn_cadd, @function
sd_bn_cadd:
	movw	r26, r24	/* X = r */
	movw	r30, r22	/* Z = p */
	lsr	r20		/* two limbs each time round: n is even */
	clc
1:
	.rept	4
	ld	r0, X
	ld	r24, Z+
	and	r24, r18
	adc	r0, r24
	st	X+, r0
	.endr
	dec	r20
	brne	1b
	ret
	.size	sd_bn_cadd, . - sd_bn_cadd

/*
 * SELECT swap: X = r24, Z = r22, n = r20 limbs, mask = r18: d = mask &
 * (x ^ z) byte by byte, x ^= d and, with swap = 1, z ^= d too.
 */
.macro SELECT swap
	movw	r26, r24
	movw	r30, r22
1:
	.rept	2
	ld	r24, X
	.if	\swap
	ld	r25, Z
	.else
	ld	r25, Z+
	.endif
	mov	r21, r24
	eor	r21, r25
	and	r21, r18
	eor	r24, r21
	st	X+, r24
	.if	\swap
	eor	r25, r21
	st	Z+, r25
	.endif
	.endr
	dec	r20
	brne	1b
	ret
.endm

/* void sd_bn_cmov(sd_limb *r, const sd_limb *a, sd_len n, sd_limb mask):
 * r ^= mask & (r ^ a). */
	.global	sd_bn_cmov
	.type	sd_bn_cmov, @function
sd_bn_cmov:
	SELECT	0
	.size	sd_bn_cmov, . - sd_bn_cmov

/* void sd_bn_cswap(sd_limb *a, sd_limb *b, sd_len n, sd_limb mask): d =
 * mask & (a ^ b); a ^= d; b ^= d. */
	.global	sd_bn_cswap
	.type	sd_bn_cswap, @function
sd_bn_cswap:
	SELECT	1
	.size	sd_bn_cswap, . - sd_bn_cswap
