/*
 * port/avr/fe25519_fast.S: arithmetic in GF(2^255 - 19) for the AVR
 * (ATmega328P), hand-written for crypto/x25519.c: the fast build. The
 * Makefile links it, with -DSD_FE25519_AVR, into the benchmark and vector
 * images; SD_CRYPTO_SMALL builds (the Uno agent, agent.mk) link the
 * compact port/avr/fe25519.S instead, which has only mul and sqr. Every
 * other target keeps the portable C of crypto/x25519.c.
 *
 *   void sd_fe25519_mul_avr(uint8_t r[32], const uint8_t a[32],
 *                           const uint8_t b[32], uint8_t t[144]);
 *   void sd_fe25519_sqr_avr(uint8_t r[32], const uint8_t a[32],
 *                           uint8_t t[144]);
 *   void sd_fe25519_add_avr(uint8_t r[32], const uint8_t a[32],
 *                           const uint8_t b[32]);
 *   void sd_fe25519_sub_avr(uint8_t r[32], const uint8_t a[32],
 *                           const uint8_t b[32]);
 *   void sd_fe25519_mul121665_avr(uint8_t r[32], const uint8_t a[32]);
 *
 * Field elements are 256-bit little-endian numbers: byte 0 is the least
 * significant, the same bytes as crypto/x25519.c's limbs on this
 * little-endian chip. Inputs are any values below 2^256; r is congruent
 * to the result modulo p = 2^255 - 19 and below 2^256, as the C code's
 * fe_* functions promise. r may alias a or b: products are formed in t
 * (the caller's 144-byte scratch, SD_FE25519_AVR_SCRATCH) before r is
 * written, and the linear functions read each byte before writing it.
 *
 * Multiplication. Two levels of subtractive Karatsuba over a product of
 * 8-byte blocks held in registers (Karatsuba and Ofman 1962; the
 * subtractive form and the register-resident small products follow
 * Hutter and Schwabe, "Multiprecision multiplication on AVR revisited",
 * J. Cryptographic Engineering 5(3), 2015, who report 4,797 cycles for a
 * 256-bit product without reduction; this code is written from the
 * method, not from theirs). With a = a0 + 2^(8k) a1 and b likewise,
 *
 *   a b = L + 2^(8k) (L + H - (-1)^s |a0 - a1| |b0 - b1|) + 2^(16k) H,
 *
 * L = a0 b0, H = a1 b1, s the sign of (a0 - a1)(b0 - b1). The sign is a
 * mask (0x00 or 0xFF) from the borrow of the subtraction; absolute values
 * and the signed addition are formed with XOR and add-with-carry of the
 * mask, so nothing branches on it. 256 bits split into three 128-bit
 * products, each into three 64-bit block products: 9 products of 64
 * 8-bit multiplications (576) instead of 1,024. A block product (`kmul')
 * is product scanning (Comba, IBM Systems Journal 29(4), 1990) with both
 * operands in registers and a 3-byte rolling column accumulator.
 *
 * Squaring splits the same way but needs no middle product: a^2 =
 * a0^2 + 2^256 a1^2 + 2^129 a0 a1 at the top (two 128-bit squares and
 * one 128-bit product), and a0^2 + 2^128 a1^2 + 2^65 a0 a1 below it,
 * with a dedicated block square (`ksqr') that forms each column's cross
 * products once and doubles them.
 *
 * Reduction uses 2^256 = 38 (mod p) and is fused with the top level's
 * combination (`fold256'): each byte of r is L_k + 38 H_k plus the
 * middle (or 2 a0 a1) term's byte times 1, 2, 38 or 76, summed in one
 * pass over t with the low 16 bytes of r kept in registers; the byte
 * carried past bit 255 folds back as 38 times itself, and a last carry
 * (possible only when r has become small) as 38 more, which cannot carry
 * again. add, sub and a24 are straight code (no loops).
 *
 * Constant time: no branch depends on data (loops count fixed numbers of
 * bytes), no address depends on data, and MUL, ADD, ADC, SBC, EOR, LD,
 * LDD, ST and STD take fixed numbers of cycles on this core (AVR
 * Instruction Set Manual). test/avr/ctime.c checks whole X25519 calls on
 * the chip. Cycle counts: docs/benchmarks.md.
 *
 * Calling convention (avr-gcc ABI): arguments in r25:r24, r23:r22,
 * r21:r20, r19:r18; r2-r17 and r28-r29 are saved; r1 is zero on return.
 * Registers are named by number in the macros (GNU as accepts an
 * expression there): 2+i is A_i, 10+i is B_i.
 */

#define A0 2   /* the block of a, r2..r9, least significant byte first */
#define B0 10  /* the block of b, r10..r17 */
#define ACC 18 /* the rolling column accumulator, r18..r20 */
#define ZERO r21
#define MASK r22 /* sign and carry masks */
#define MASK2 r23
#define SIGN r24 /* the 256-bit level's sign mask, kept across mul128 */
#define COLS r25

#define FE_BYTES 32
#define FOLD 38 /* 2^256 mod p */
/* Scratch layout of t (144 bytes; see mul256 below). */
#define T_H 32     /* H = a1 b1 */
#define T_M 64     /* M = |a0 - a1| |b0 - b1| */
#define T_DA 112   /* |a0 - a1| */
#define T_DB 128   /* |b0 - b1| */
#define T_BYTES 144

#define FE_FUSED_REDUCE /* fold256 below: no separate reduce */
#include "fe25519_reduce.inc"
#include "entry3.inc"
#include "bytes.inc"
#include "block.inc"

/* r2..r17 = |p[0..16) - p[16..32)|, m the mask of the borrow. */
.macro DIFF16 p, m
	LDDN	A0, \p, 0, 16
	CHAIN	sub, sbc, A0, \p, 16, 16
	sbc	\m, \m
	CNEG	A0, \m, 16
.endm

/* t[48] += m + the carry flag, and the carry on through t[49..64) (Y = t). */
.macro TOP48 m
	ldd	r0, Y+48
	adc	r0, \m
	std	Y+48, r0
	.irp	i, 49, 50, 51, 52, 53, 54, 55, 56, 57, 58, 59, 60, 61, 62, 63
	ldd	r0, Y+\i
	adc	r0, ZERO
	std	Y+\i, r0
	.endr
.endm

	.text

/*
 * kmul: X[0..16) = A * B (8-byte blocks A = r2..r9, B = r10..r17), X
 * advanced by 16. Clobbers r0, r1, r18-r20. 64 multiplications.
 */
kmul:
	BLOCKPRODUCT KCOL, B0, 8

/*
 * ksqr: X[0..16) = A^2, X advanced by 16. Clobbers r0, r1, r10-r12,
 * r18-r20. 36 multiplications.
 */
ksqr:
	BLOCKPRODUCT SCOL, A0, 8

/*
 * combine128: with Y = out, out[0..16) = L, out[16..32) = H and
 * out[32..48) = M, adds the middle term L + H - (-1)^s M at out + 8,
 * given MASK = n = ~s (0xFF when M is subtracted). The middle is below
 * 2^129: its byte 16 is c + n + carry modulo 256, 0 or 1. Clobbers r0,
 * r1, r2-r17, MASK2.
 */
combine128:
	LDDN	A0, Y, 0, 16
	clr	MASK2
	CHAIN	add, adc, A0, Y, 16, 16
	adc	MASK2, ZERO	/* c, the carry of L + H */
	mov	r0, MASK
	lsr	r0		/* carry = n & 1: -M = ~M + 1 - 2^128 */
	.irp	i, 0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15
	ldd	r0, Y+32+\i
	eor	r0, MASK
	adc	A0+\i, r0
	.endr
	adc	MASK2, MASK	/* byte 16 of the middle */
	rjmp	addmid128

/* addmid128: out[8..24) += r2..r17, out[24] += MASK2 and the carry,
 * out[25..32) += the carry, with Y = out. */
addmid128:
	.irp	i, 0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15
	ldd	r0, Y+8+\i
	.if	\i == 0
	add	r0, A0
	.else
	adc	r0, A0+\i
	.endif
	std	Y+8+\i, r0
	.endr
	ldd	r0, Y+24
	adc	r0, MASK2
	std	Y+24, r0
	.irp	i, 25, 26, 27, 28, 29, 30, 31
	ldd	r0, Y+\i
	adc	r0, ZERO
	std	Y+\i, r0
	.endr
	ret

/*
 * mul128: X[0..32) = Y[0..16) * Z[0..16), one level of Karatsuba over
 * kmul; X[32..48) is scratch (M). Keeps X, Y and Z. Clobbers r0, r1,
 * r2-r20, MASK, MASK2.
 */
mul128:
	push	r28
	push	r29
	LDDN	A0, Y, 0, 8
	LDDN	B0, Z, 0, 8
	rcall	kmul		/* L */
	LDDN	A0, Y, 8, 8
	LDDN	B0, Z, 8, 8
	rcall	kmul		/* H */
	DIFFN	A0, Y, MASK, 8	/* |a0 - a1|, with a1 still in A */
	DIFFN	B0, Z, MASK2, 8
	eor	MASK, MASK2	/* s */
	rcall	kmul		/* M */
	sbiw	r26, 48
	movw	r28, r26
	com	MASK		/* n */
	rcall	combine128
	pop	r29
	pop	r28
	ret

/*
 * sqr128: X[0..32) = Y[0..16)^2 = L + 2^128 H + 2^65 P with L = a0^2,
 * H = a1^2 and P = a0 a1; X[32..48) is scratch (P). Keeps X and Y.
 * Clobbers r0, r1, r2-r20, MASK2.
 */
sqr128:
	LDDN	A0, Y, 0, 8
	rcall	ksqr		/* L */
	LDDN	A0, Y, 8, 8
	rcall	ksqr		/* H */
	LDDN	B0, Y, 0, 8
	rcall	kmul		/* P = a1 a0 */
	sbiw	r26, 48
	push	r28
	push	r29
	movw	r28, r26
	/* out[8..25) += 2P: P doubled in registers, its bit 128 in MASK2. */
	LDDN	A0, Y, 32, 16
	clr	MASK2
	lsl	A0
	.irp	i, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15
	rol	A0+\i
	.endr
	rol	MASK2
	rcall	addmid128
	pop	r29
	pop	r28
	ret

/*
 * middle256: with Y = t (L at t[0..32), H at t[32..64)) and Z = t + 64
 * (M), Z[0..32) = the middle L + H - (-1)^s M modulo 2^256, given SIGN =
 * n, as (M ^ n) + (n & 1) + L + H in four 8-byte chunks, each of the two
 * carry chains parked in a register between chunks (LSR takes it out,
 * ROL puts it back). Returns in MASK byte 32 of the middle (c1 + c2 + n
 * modulo 256, 0 or 1). Clobbers r0, r2-r9, MASK2.
 */
.macro MIDCHUNK k
	LDDN	A0, Z, \k, 8
	.irp	i, 0, 1, 2, 3, 4, 5, 6, 7
	eor	A0+\i, SIGN
	.endr
	lsr	MASK
	.irp	i, 0, 1, 2, 3, 4, 5, 6, 7
	ldd	r0, Y+\k+\i
	adc	A0+\i, r0
	.endr
	rol	MASK
	lsr	MASK2
	.irp	i, 0, 1, 2, 3, 4, 5, 6, 7
	ldd	r0, Y+T_H+\k+\i
	adc	A0+\i, r0
	.endr
	rol	MASK2
	.irp	i, 0, 1, 2, 3, 4, 5, 6, 7
	std	Z+\k+\i, A0+\i
	.endr
.endm

middle256:
	mov	MASK, SIGN
	andi	MASK, 1
	clr	MASK2
	MIDCHUNK 0
	MIDCHUNK 8
	MIDCHUNK 16
	MIDCHUNK 24
	add	MASK, MASK2
	add	MASK, SIGN
	ret

/*
 * fold256: the product's combination and its reduction in one pass. With
 * Y = t (L at t[0..32), H at t[32..64)), Z = t + 64 (a third 32-byte
 * term W = W0 + 2^128 W1) and X = r, it writes
 *
 *   r = L + 38 H + K_LO W1 + 2^128 (K_HI W0 + E)   (mod p, below 2^256)
 *
 * byte by byte with a rolling 2-byte column sum, the low 16 bytes kept in
 * r2..r17. Multiplication passes W = L + H - (-1)^s M (the middle, below
 * 2^257: 2^128 W = 2^128 W0 + 2^256 W1 + 2^384 w32 = 2^128 W0 + 38 W1 +
 * 2^128 38 w32), so K_LO = 38, K_HI = 1 and E = 38 w32; squaring passes
 * W = a0 a1 (2^129 W = 2^129 W0 + 76 W1), so K_LO = 76, K_HI = 2, E = 0.
 * A column is at most 255 + 38 * 255 + 76 * 255 + 114 < 2^15, its carry
 * below 115. The carry c out of byte 31 folds back as 38 c into r2..r17,
 * runs through r[16..32), and if that carries out (r then below 38 * 115)
 * 38 more go into r2:r3, which cannot carry; then r2..r17 are stored.
 * Clobbers r0, r1, r2-r20, COLS; X ends at r + 16.
 */
#define K38 r22  /* 38 */
#define K_LO r23
#define K_HI r24
#define E r25

.macro FCOL k, lo, hi
	clr	\hi
	ldd	r20, Y+\k		/* L_k */
	add	\lo, r20
	adc	\hi, ZERO
	ldd	r20, Y+T_H+\k		/* H_k */
	mul	r20, K38
	add	\lo, r0
	adc	\hi, r1
	.if	\k < 16
	ldd	r20, Z+16+\k		/* W1_k */
	mul	r20, K_LO
	.else
	ldd	r20, Z+\k-16		/* W0_(k-16) */
	mul	r20, K_HI
	.endif
	add	\lo, r0
	adc	\hi, r1
	.if	\k == 16
	add	\lo, E
	adc	\hi, ZERO
	.endif
	.if	\k < 16
	mov	A0+\k, \lo
	.else
	st	X+, \lo
	.endif
.endm

fold256:
	ldi	K38, FOLD
	clr	ACC
	adiw	r26, 16		/* the high half goes to memory */
	.irp	k, 0, 2, 4, 6, 8, 10, 12, 14, 16, 18, 20, 22, 24, 26, 28, 30
	FCOL	\k, ACC, ACC+1
	FCOL	\k+1, ACC+1, ACC
	.endr
	sbiw	r26, 16	/* before the carry chain: SBIW sets C */
	mul	ACC, K38	/* c, times 38 */
	add	A0, r0
	adc	A0+1, r1
	.irp	i, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15
	adc	A0+\i, ZERO
	.endr
	RIPPLE	adc, ZERO, COLS, 16, 16
	sbc	r20, r20
	andi	r20, FOLD
	add	A0, r20
	adc	A0+1, ZERO
	sbiw	r26, FE_BYTES
	STN	X, A0, 16
	ret

/*
 * product256: the three 128-bit products of a * b (Y = a, Z = b, X = t)
 * and their middle: t (144 bytes) holds L at t[0..32), H at t[32..64),
 * the middle's low 32 bytes at t[64..96) (M before), the 128-bit
 * products' scratch above each, |a0 - a1| at t[112..128) and |b0 - b1|
 * at t[128..144); the middle's byte 32 in MASK. Ends with Y = t and Z =
 * t + 64, and ZERO cleared. Clobbers r0-r25, X, Y, Z.
 */
product256:
	clr	ZERO
	subi	r26, lo8(-T_DA)
	sbci	r27, hi8(-T_DA)
	DIFF16	Y, SIGN
	STN	X, A0, 16
	DIFF16	Z, COLS
	STN	X, A0, 16
	eor	SIGN, COLS
	com	SIGN		/* n */
	subi	r26, lo8(T_BYTES)
	sbci	r27, hi8(T_BYTES)
	rcall	mul128		/* L = a0 b0 */
	adiw	r26, T_H
	adiw	r28, 16
	adiw	r30, 16
	rcall	mul128		/* H = a1 b1 */
	adiw	r26, T_M - T_H
	movw	r28, r26
	adiw	r28, T_DA - T_M
	movw	r30, r26
	subi	r30, lo8(-(T_DB - T_M))
	sbci	r31, hi8(-(T_DB - T_M))
	rcall	mul128		/* M = |a0 - a1| |b0 - b1| */
	movw	r30, r26	/* Z = t + 64 */
	movw	r28, r26
	subi	r28, T_M	/* Y = t */
	sbci	r29, 0
	rjmp	middle256

/* Entry of a global function name that saves r2-r17 and Y (SAVE), for
 * the whole products below. */
.macro SAVED name
	.global	\name
	.type	\name, @function
\name:
	SAVE
.endm

/*
 * sd_mul256_avr(t, a, b): t[0..64) = a * b, the whole 512-bit product,
 * for the P-256 field of crypto/ecc.c (t: 144 bytes of scratch, as for
 * mul256). The middle is added at t + 16 in one carry chain.
 */
	SAVED	sd_mul256_avr
	movw	r28, r22	/* Y = a */
	movw	r30, r20	/* Z = b */
	movw	r26, r24	/* X = t */
	rcall	product256
	.irp	k, 0, 16	/* t[16..48) += the middle's 32 bytes */
	LDDN	A0, Y, 16+\k, 16
	.if	\k == 0
	CHAIN	add, adc, A0, Z, \k, 16
	.else
	CHAIN	adc, adc, A0, Z, \k, 16
	.endif
	STDN	Y, 16+\k, A0, 16
	.endr
	TOP48	MASK		/* its byte 32, then the carry to the top */
	clr	r1
	RESTORE
	ret
	.size	sd_mul256_avr, . - sd_mul256_avr

/*
 * square256: the parts of a^2 (Y = a, X = t) = L + 2^256 H + 2^129 W:
 * L = a0^2 at t[0..32), H = a1^2 at t[32..64), W = a0 a1 at t[64..96),
 * the 128-bit products' scratch above W. Ends with Y = t, Z = t + 64
 * and ZERO cleared. Clobbers r0-r25, X, Y, Z.
 */
square256:
	clr	ZERO
	rcall	sqr128		/* L = a0^2 */
	adiw	r26, T_H
	adiw	r28, 16
	rcall	sqr128		/* H = a1^2 */
	adiw	r26, T_M - T_H
	movw	r30, r28	/* Z = a1 */
	sbiw	r28, 16		/* Y = a0 */
	rcall	mul128		/* W = a0 a1 */
	movw	r30, r26	/* Z = t + 64 */
	movw	r28, r26
	subi	r28, T_M	/* Y = t */
	sbci	r29, 0
	ret

/*
 * sd_sqr256_avr(t, a): t[0..64) = a^2, the whole 512-bit square, for the
 * P-256 field of crypto/ecc.c (t: 144 bytes of scratch). 2 W is added at
 * t + 16 in two 16-byte chunks, the doubling's and the addition's carries
 * parked in MASK2 and MASK between them.
 */
	SAVED	sd_sqr256_avr
	movw	r28, r22	/* Y = a */
	movw	r26, r24	/* X = t */
	rcall	square256
	clr	MASK
	clr	MASK2
	.irp	k, 0, 16
	LDDN	A0, Z, \k, 16
	lsr	MASK2
	.irp	i, 0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15
	rol	A0+\i
	.endr
	rol	MASK2
	lsr	MASK
	CHAIN	adc, adc, A0, Y, 16+\k, 16
	rol	MASK
	STDN	Y, 16+\k, A0, 16
	.endr
	add	MASK, MASK2	/* bit 256 of 2 W and the carry, at most 2; C = 0 */
	TOP48	MASK
	clr	r1
	RESTORE
	ret
	.size	sd_sqr256_avr, . - sd_sqr256_avr

/* mul256: r = a * b mod p, with product256 and fold256. */
	ENTER	sd_fe25519_mul_avr
	movw	r28, r22	/* Y = a */
	movw	r30, r20	/* Z = b */
	movw	r26, r18	/* X = t */
	rcall	product256
	ldi	r20, FOLD
	mul	MASK, r20
	mov	E, r0		/* 38 w32 */
	ldi	K_LO, FOLD
	ldi	K_HI, 1
	rjmp	fold_out
	.size	sd_fe25519_mul_avr, . - sd_fe25519_mul_avr

/*
 * sqr256: r = a^2 mod p = L + 2^256 H + 2^129 W with L = a0^2, H = a1^2
 * and W = a0 a1; t holds L at t[0..32), H at t[32..64) and W at
 * t[64..96), the 128-bit products' scratch above W (t[96..144) unused).
 */
	ENTER	sd_fe25519_sqr_avr
	movw	r28, r22	/* Y = a */
	movw	r26, r20	/* X = t */
	rcall	square256
	ldi	K_LO, 2 * FOLD
	ldi	K_HI, 2
	clr	E
	/* The tail both share: the combination, the reduction, the return. */
fold_out:
	pop	r27		/* X = r */
	pop	r26
	rcall	fold256
	clr	r1
	RESTORE
	ret
	.size	sd_fe25519_sqr_avr, . - sd_fe25519_sqr_avr

/*
 * LINEAR op: r = a op b for op adc (add) or sbc (sub), with X = r, Z = a,
 * Y = b. For add, a carry out of bit 255 folds back as 38, and the
 * carry of that (r then below 38) as 38 more into byte 0, which cannot
 * carry (r below 76). For sub, a borrow out of bit 255 means 2^256 was
 * added, so 38 is taken away, and once more if that borrows (r was then
 * at least 2^256 - 38, and byte 0 cannot borrow again). r1 is the ABI's
 * zero register.
 */
.macro LINEAR op, op0
	ENTER3
	clc
	.rept	FE_BYTES
	ld	r18, Z+
	ld	r19, Y+
	\op	r18, r19
	st	X+, r18
	.endr
	FOLDBACK \op0
	RIPPLE	\op, r1, COLS, FE_BYTES - 1, FE_BYTES - 1
	FOLDBACK \op0
	LEAVE3
.endm

	.global	sd_fe25519_add_avr
	.type	sd_fe25519_add_avr, @function
sd_fe25519_add_avr:
	LINEAR	adc, add
	.size	sd_fe25519_add_avr, . - sd_fe25519_add_avr

	.global	sd_fe25519_sub_avr
	.type	sd_fe25519_sub_avr, @function
sd_fe25519_sub_avr:
	LINEAR	sbc, sub
	.size	sd_fe25519_sub_avr, . - sd_fe25519_sub_avr

/*
 * mul121665: r = a * 121665 = a * 0x01DB41, RFC 7748's a24. Byte j of
 * the product gathers a_j * 0x41, a_(j-1) * 0xDB and a_(j-2) in a
 * rolling 3-byte column sum (r18..r20, the byte stored is cleared and
 * becomes the top of the next column), a_j in a rolling window of three
 * registers (r21..r23), three columns each time round a loop; the three
 * bytes past byte 31 (below 2^17) then fold back times 38 (below 2^23)
 * and the carry of that as 38 more. Byte j of a is read before byte j of r is written.
 */
#define A24_K41 r24
#define A24_KDB r25
#define A24_ZERO r28
#define A24_COUNT r29
#define A24_ACC 18 /* r18..r20 */
#define A24_WIN 21 /* r21..r23: a_j in r(21 + j % 3) */

/* Column j of a * 121665; only j % 3 matters (a_(-1) = a_(-2) = 0: the
 * window starts cleared). */
.macro A24COL j, lo, mid, hi
	ld	A24_WIN+\j%3, Z+
	mul	A24_WIN+\j%3, A24_K41
	add	\lo, r0
	adc	\mid, r1
	adc	\hi, A24_ZERO
	mul	A24_WIN+(\j+2)%3, A24_KDB	/* a_(j-1) * 0xDB * 2^8 */
	add	\lo, r0
	adc	\mid, r1
	adc	\hi, A24_ZERO
	add	\lo, A24_WIN+(\j+1)%3	/* a_(j-2) * 2^16 */
	adc	\mid, A24_ZERO
	adc	\hi, A24_ZERO
	st	X+, \lo
	clr	\lo
.endm

	.global	sd_fe25519_mul121665_avr
	.type	sd_fe25519_mul121665_avr, @function
sd_fe25519_mul121665_avr:
	push	A24_ZERO
	push	A24_COUNT
	movw	r26, r24	/* X = r */
	movw	r30, r22	/* Z = a */
	ldi	A24_K41, 0x41
	ldi	A24_KDB, 0xDB
	clr	A24_ZERO
	clr	A24_ACC
	clr	A24_ACC+1
	clr	A24_ACC+2
	.irp	i, 0, 1, 2
	clr	A24_WIN+\i
	.endr
	ldi	A24_COUNT, 10	/* columns 0..29, three a time */
1:
	.irp	j, 0, 1, 2
	A24COL	\j, A24_ACC+\j%3, A24_ACC+(\j+1)%3, A24_ACC+(\j+2)%3
	.endr
	dec	A24_COUNT
	brne	1b
	.irp	j, 30, 31
	A24COL	\j, A24_ACC+\j%3, A24_ACC+(\j+1)%3, A24_ACC+(\j+2)%3
	.endr
	/* Bytes 32..34: a_31 * 0xDB * 2^8, a_30 * 2^16 and a_31 * 2^24; the
	 * column sum of byte 32 starts in r20 (32 % 3 = 2). */
	add	r20, A24_WIN+30%3
	adc	r18, A24_WIN+31%3
	adc	r19, A24_ZERO
	mul	A24_WIN+31%3, A24_KDB
	add	r20, r0
	adc	r18, r1
	adc	r19, A24_ZERO
	mov	r0, r20		/* h to r20:r19:r18 */
	mov	r20, r19
	mov	r19, r18
	mov	r18, r0
	clr	r1
	pop	A24_COUNT
	pop	A24_ZERO
	/* h = r20:r19:r18 < 2^17; r += 38 h */
	ldi	r25, FOLD
	sbiw	r26, FE_BYTES
	mul	r18, r25
	movw	r22, r0		/* 38 h in r22:r23:r24 */
	mul	r20, r25
	mov	r24, r0
	mul	r19, r25
	add	r23, r0
	adc	r24, r1
	clr	r1
	ld	r18, X
	add	r18, r22
	st	X+, r18
	ld	r18, X
	adc	r18, r23
	st	X+, r18
	ld	r18, X
	adc	r18, r24
	st	X+, r18
	RIPPLE	adc, r1, r21, FE_BYTES - 3, FE_BYTES - 3
	/* A carry out leaves r below 2^23: 38 more stays in three bytes. */
	FOLDBACK add
	RIPPLE	adc, r1, r21, 2
	ret
	.size	sd_fe25519_mul121665_avr, . - sd_fe25519_mul121665_avr
