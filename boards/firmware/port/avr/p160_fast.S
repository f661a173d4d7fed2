/*
 * port/avr/p160_fast.S: multiplication and squaring in GF(p), p =
 * 2^160 - 2^31 - 1 (secp160r1, SEC 2 v1.0 §2.4.2), for the AVR
 * (ATmega328P), hand-written for crypto/ecc.c's fast build (the
 * Makefile's AVR_FE=asm):
 *
 *   void sd_p160_mul_avr(uint8_t r[20], const uint8_t a[20],
 *                        const uint8_t b[20], uint8_t t[60]);
 *   void sd_p160_sqr_avr(uint8_t r[20], const uint8_t a[20], uint8_t t[60]);
 *
 * Little-endian 160-bit numbers, a and b below 2^160; r = a b (or a^2)
 * mod p, fully reduced (below p), as ecc.c keeps its residues. r may
 * alias a or b: the product is formed in t (scratch) before r is written.
 *
 * Product: one level of subtractive Karatsuba on 10-byte halves (a = a0 +
 * 2^80 a1): a b = L + 2^80 (L + H - (-1)^s |a0 - a1| |b0 - b1|) + 2^160
 * H, L = a0 b0, H = a1 b1, s the sign of (a0 - a1)(b0 - b1), as a mask,
 * so nothing branches on it (the method of port/avr/fe25519_fast.S, after
 * Hutter and Schwabe, "Multiprecision multiplication on AVR revisited",
 * J. Cryptographic Engineering 5(3), 2015). Each 10x10-byte block product
 * (`kmul10') is product scanning with both blocks in registers (r2..r21)
 * and a rolling 3-byte column sum: 300 8-bit multiplications instead of
 * 400. The square is a0^2 + 2^160 a1^2 + 2^81 a0 a1: two block squares
 * (`ksqr10', each column's cross products formed once and doubled) and
 * one block product, 210 multiplications.
 *
 * Reduction (`reduce160'), with 2^160 = 2^31 + 1 (mod p) and the product
 * t = L + 2^160 H: s = L + H + 2^31 H is below 2^192 (24 bytes in
 * r2..r25, 2^31 H summed as H times 128 at byte 3: MUL gives the low byte
 * for byte j and the high for byte j + 1); its top e = s >> 160 (below
 * 2^31 + 2) folds as e + 2^31 e, leaving f = 0 or 1 at bit 160; f + 2^31
 * f then cannot carry (the value below 2^160 is then below 2^64). Last, r
 * + 2^31 + 1 carries out of bit 160 exactly when r >= p: that sum is kept
 * (it is r - p modulo 2^160), otherwise 2^31 + 1 is taken off again, in
 * masks.
 *
 * Constant time: no branch depends on data, no address depends on it,
 * and MUL, ADD, ADC, SUB, SBC, EOR, COM, AND, LSR, ROR, LD, LDD, ST and
 * STD take fixed numbers of cycles on this core (AVR Instruction Set
 * Manual). test/avr/ctime.c checks whole ECDH calls on the chip;
 * test/avr/ecc_vectors.c checks both functions against long division.
 *
 * Calling convention (avr-gcc ABI): arguments in r25:r24, r23:r22,
 * r21:r20, r19:r18; r2-r17 and r28-r29 are saved; r1 is zero on return.
 */

#define A0 2     /* a 10-byte block of a, r2..r11 */
#define B0 12    /* a 10-byte block of b, r12..r21 */
#define ACC 22   /* the rolling column sum, r22..r24 */
#define ZERO r25
#define SIGN r28 /* n = ~s: 0xFF when the middle subtracts M */
#define TOP r29  /* byte 20 of the middle */
#define HALF 10
#define FE 20
/* Scratch layout of t: L, H, then M (or a0 a1 when squaring). */
#define T_H 20
#define T_M 40
#define T_BYTES 60
/* reduce160's registers */
#define S0 2     /* the sum s, r2..r25 */
#define K128 r26
#define RZERO r27
#define TMP r28
#define F r29

#define FE_FUSED_REDUCE /* only the .inc's macros (MAC, SAVE, RESTORE, ENTER) */
#include "fe25519_reduce.inc"
#include "bytes.inc"
#include "block.inc"

	.text

/* kmul10: X[0..20) = A * B (A = r2..r11, B = r12..r21), X advanced by
 * 20. Clobbers r0, r1, ACC. 100 multiplications. */
kmul10:
	BLOCKPRODUCT KCOL, B0, HALF

/* ksqr10: X[0..20) = A^2, X advanced by 20. Clobbers r0, r1, r12-r14,
 * ACC. 55 multiplications. */
ksqr10:
	BLOCKPRODUCT SCOL, A0, HALF

/*
 * addmid160: with Z = t, t[10..30) += r2..r21, t[30] += TOP and the
 * carry, t[31..40) += the carry: the middle term at 2^80.
 */
addmid160:
	.irp	i, 0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17, 18, 19
	ldd	r0, Z+HALF+\i
	.if	\i == 0
	add	r0, A0
	.else
	adc	r0, A0+\i
	.endif
	std	Z+HALF+\i, r0
	.endr
	ldd	r0, Z+30
	adc	r0, TOP
	std	Z+30, r0
	.irp	i, 31, 32, 33, 34, 35, 36, 37, 38, 39
	ldd	r0, Z+\i
	adc	r0, ZERO
	std	Z+\i, r0
	.endr
	ret

/*
 * product160: t[0..40) = a * b, with a, b and t (t[40..60) scratch) as
 * sd_p160_mul_avr's arguments, in Y, Z and X.
 * The middle L + H - (-1)^s M is below 2^161: (M ^ n) + (n & 1) + L + H,
 * its byte 20 c + n + carry modulo 256 (0 or 1), n = ~s. Ends with Z = t.
 * Clobbers r0-r25, r28, r29, X, Z.
 */
product160:
	movw	r28, r22	/* Y = a */
	movw	r30, r20	/* Z = b */
	movw	r26, r18	/* X = t */
	clr	ZERO
	LDDN	A0, Y, 0, HALF
	LDDN	B0, Z, 0, HALF
	rcall	kmul10		/* L */
	LDDN	A0, Y, HALF, HALF
	LDDN	B0, Z, HALF, HALF
	rcall	kmul10		/* H */
	DIFFN	A0, Y, SIGN, HALF	/* |a0 - a1|, with a1 still in A */
	DIFFN	B0, Z, TOP, HALF
	eor	SIGN, TOP	/* s */
	com	SIGN		/* n */
	rcall	kmul10		/* M */
	movw	r30, r26
	sbiw	r30, T_BYTES	/* Z = t */
	LDDN	A0, Z, 0, FE
	clr	TOP
	CHAIN	add, adc, A0, Z, T_H, FE
	adc	TOP, ZERO	/* c, the carry of L + H */
	mov	r0, SIGN
	lsr	r0		/* carry = n & 1: -M = ~M + 1 - 2^160 */
	.irp	i, 0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17, 18, 19
	ldd	r0, Z+T_M+\i
	eor	r0, SIGN
	adc	A0+\i, r0
	.endr
	adc	TOP, SIGN
	rjmp	addmid160

/*
 * square160: t[0..40) = a^2, with a and t (t[40..60) scratch) as
 * sd_p160_sqr_avr's arguments, in Y and X, as L + 2^160 H + 2^81 P with
 * L = a0^2, H = a1^2, P = a0 a1: 2P, below 2^161, is added at 2^80. Ends with Z = t. Clobbers r0-r25, r29, X, Z.
 */
square160:
	movw	r28, r22	/* Y = a */
	movw	r26, r20	/* X = t */
	clr	ZERO
	LDDN	A0, Y, 0, HALF
	rcall	ksqr10		/* L */
	LDDN	A0, Y, HALF, HALF
	rcall	ksqr10		/* H */
	LDDN	B0, Y, 0, HALF
	rcall	kmul10		/* P = a1 a0 */
	movw	r30, r26
	sbiw	r30, T_BYTES	/* Z = t */
	LDDN	A0, Z, T_M, FE
	clr	TOP
	lsl	A0
	.irp	i, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17, 18, 19
	rol	A0+\i
	.endr
	rol	TOP
	rjmp	addmid160

/*
 * reduce160: r2..r21 = t[0..40) mod p, below p, with Z = t (see the top
 * of the file). Clobbers r0, r1, r2-r29.
 */

/* Byte j of s = L + H + 128 H 2^24, into S0+j with its carry into
 * S0+j+1 (never past it: that byte holds at most 1 + 1 + 128 then). */
.macro R1COL j
	.if	\j < FE
	ldd	TMP, Z+\j
	add	S0+\j, TMP
	adc	S0+\j+1, RZERO
	ldd	TMP, Z+T_H+\j
	add	S0+\j, TMP
	adc	S0+\j+1, RZERO
	.endif
	.if	(\j >= 3) && (\j <= 22)
	ldd	TMP, Z+T_H+\j-3
	mul	TMP, K128
	add	S0+\j, r0
	adc	S0+\j+1, r1
	.endif
.endm

/* S0..S0+19 += the carry flag, from byte `from' on. */
.macro RIPPLE160 from
	.irp	i, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17, 18, 19
	.if	\i >= \from
	adc	S0+\i, RZERO
	.endif
	.endr
.endm

reduce160:
	clr	RZERO
	ldi	K128, 128
	.irp	i, 0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17, 18, 19, 20, 21, 22, 23
	clr	S0+\i
	.endr
	.irp	j, 0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17, 18, 19, 20, 21, 22
	R1COL	\j
	.endr
	/* e = S0+20..S0+23: s_low += e, then += e 2^31 = (e >> 1) 2^32 +
	 * (e & 1) 2^31; F gathers the carries (their sum is 0 or 1). */
	clr	F
	add	S0, S0+20
	adc	S0+1, S0+21
	adc	S0+2, S0+22
	adc	S0+3, S0+23
	RIPPLE160 4
	adc	F, RZERO
	clr	TMP
	lsr	S0+23
	ror	S0+22
	ror	S0+21
	ror	S0+20
	ror	TMP		/* (e & 1) << 7 */
	add	S0+3, TMP
	adc	S0+4, S0+20
	adc	S0+5, S0+21
	adc	S0+6, S0+22
	adc	S0+7, S0+23
	RIPPLE160 8
	adc	F, RZERO
	/* f + f 2^31: cannot carry out. */
	mov	TMP, F
	lsr	TMP
	ror	TMP		/* f << 7 */
	add	S0, F
	adc	S0+1, RZERO
	adc	S0+2, RZERO
	adc	S0+3, TMP
	RIPPLE160 4
	/* r + 2^31 + 1; a carry out means r >= p and keeps the sum. */
	ldi	TMP, 1
	ldi	F, 0x80
	add	S0, TMP
	adc	S0+1, RZERO
	adc	S0+2, RZERO
	adc	S0+3, F
	RIPPLE160 4
	sbc	TMP, TMP	/* 0xFF if r >= p */
	com	TMP		/* 0xFF: take 2^31 + 1 off again */
	mov	F, TMP
	andi	F, 0x80
	andi	TMP, 1
	sub	S0, TMP
	sbc	S0+1, RZERO
	sbc	S0+2, RZERO
	sbc	S0+3, F
	.irp	i, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17, 18, 19
	sbc	S0+\i, RZERO
	.endr
	ret

	ENTER	sd_p160_mul_avr
	rcall	product160
	rjmp	p160_out
	.size	sd_p160_mul_avr, . - sd_p160_mul_avr

	ENTER	sd_p160_sqr_avr
	rcall	square160
	/* The tail both share: reduce t (Z = t), store r (from the stack,
	 * where ENTER left it), return. */
p160_out:
	rcall	reduce160
	pop	r27
	pop	r26
	STN	X, S0, FE
	clr	r1
	RESTORE
	ret
	.size	sd_p160_sqr_avr, . - sd_p160_sqr_avr
