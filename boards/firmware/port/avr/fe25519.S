/*
 * port/avr/fe25519.S: multiplication and squaring in GF(2^255 - 19) for the
 * AVR (ATmega328P), hand-written for crypto/x25519.c. The Makefile selects
 * it for AVR builds with -DSD_FE25519_AVR and links this file; every other
 * target keeps the portable C of crypto/x25519.c.
 *
 *   void sd_fe25519_mul_avr(uint8_t r[32], const uint8_t a[32],
 *                           const uint8_t b[32], uint8_t t[64]);
 *   void sd_fe25519_sqr_avr(uint8_t r[32], const uint8_t a[32],
 *                           uint8_t t[64]);
 *
 * Field elements are 256-bit little-endian numbers: byte 0 is the least
 * significant, the same bytes as crypto/x25519.c's limbs on this
 * little-endian chip. Inputs are any values below 2^256; r is congruent to
 * a * b (or a^2) modulo p = 2^255 - 19 and below 2^256, as the C code's
 * fe_mul and fe_sqr promise. r may alias a or b: the whole product is
 * formed in t (the caller's 64-byte scratch) before r is written.
 *
 * Method. The 512-bit product is built from 8x8-byte block products, each
 * computed by `kernel' below with both 64-bit operands in registers:
 * product scanning (Comba, "Exponentiation cryptosystems on the IBM PC",
 * IBM Systems Journal 29(4), 1990) inside the block, the hybrid of row and
 * column order of Gura et al. (CHES 2004) between blocks. A block product
 * is added to a 16-byte window of t, column by column, through a 3-byte
 * rolling accumulator; a row of four windows, 8 bytes apart, passes the
 * carry out of each window into byte 8 of the next. Squaring computes the
 * six blocks above the diagonal once, doubles t, and adds the four
 * diagonal blocks. The reduction uses 2^256 = 38 (mod p): r = t_lo +
 * 38 * t_hi, then the byte carried past bit 255 folds back as 38 times
 * itself, and a last carry (possible only when r has become smaller than
 * 38 * 39) as 38 more, which cannot carry again.
 *
 * Constant time: there is no branch on data (the loops count fixed
 * numbers of blocks and bytes), no address depends on data, and MUL, ADD,
 * ADC, LD and ST take fixed numbers of cycles on this core (AVR Instruction
 * Set Manual). Cycles on the ATmega328P (simavr, call included):
 * multiplication 8,537, squaring 6,103, the same for every input; X25519
 * with them takes 22,899,333 cycles against 42,618,148 with the portable C.
 *
 * Calling convention (avr-gcc ABI): arguments in r25:r24, r23:r22,
 * r21:r20, r19:r18; r2-r17 and r28-r29 are saved; r1 is zero on return.
 */

/* Register map. r0:r1 receive MUL's product; r0 doubles as a scratch byte
 * between multiplications. */
#define A0 r2 /* the block of a, least significant byte first */
#define A1 r3
#define A2 r4
#define A3 r5
#define A4 r6
#define A5 r7
#define A6 r8
#define A7 r9
#define B0 r10 /* the block of b */
#define B1 r11
#define B2 r12
#define B3 r13
#define B4 r14
#define B5 r15
#define B6 r16
#define B7 r17
#define ACC0 r18 /* the rolling column accumulator, three bytes */
#define ACC1 r19
#define ACC2 r20
#define ZERO r21
#define CIN0 r22 /* carry into byte 0 of a window (diagonal blocks) */
#define CIN8 r23 /* carry into byte 8 of a window; the kernel's carry out */
#define ROWS r24 /* loop counters */
#define COLS r25

#define FE_BYTES 32
#define PRODUCT_BYTES 64
#define BLOCK 8    /* bytes per block operand */
#define WINDOW 16  /* bytes of t a block product is added to */
#define FOLD 38    /* 2^256 mod p */

/* MAC (fe25519_reduce.inc): a product of at most 2^16 - 2^9 + 1; a
 * column of eight of them plus its carry and a byte of t stays below
 * 2^20, so the accumulator never overflows. */
#include "fe25519_reduce.inc"

/* Column 0 of a window: lo:mid:hi = t[0] + CIN0. */
.macro COL0
	ldd	ACC0, Z+0
	clr	ACC1
	clr	ACC2
	add	ACC0, CIN0
	adc	ACC1, ZERO
.endm

/* Column s: the carry of column s - 1 already sits in lo:mid (the
 * accumulator shifted by one register); hi held column s - 1's stored
 * byte. lo:mid:hi = carry + t[s]. The carry is below 2^12, so mid cannot
 * overflow here. */
.macro COL s, lo, mid, hi
	clr	\hi
	ldd	r0, Z+\s
	add	\lo, r0
	adc	\mid, ZERO
.endm

/* Column 8 also takes the carry out of the previous window of the row. */
.macro CARRY8 lo, mid
	add	\lo, CIN8
	adc	\mid, ZERO
.endm

/* Loads a block operand: dst0..dst7 = *ptr++. */
.macro LOAD8 ptr, d0, d1, d2, d3, d4, d5, d6, d7
	ld	\d0, \ptr+
	ld	\d1, \ptr+
	ld	\d2, \ptr+
	ld	\d3, \ptr+
	ld	\d4, \ptr+
	ld	\d5, \ptr+
	ld	\d6, \ptr+
	ld	\d7, \ptr+
.endm

	.text

/*
 * kernel: t[Z..Z+16) += A * B + CIN0 + CIN8 * 2^64, with A = A0..A7 and
 * B = B0..B7 (little-endian) and CIN0, CIN8 in {0, 1}. The sum is below
 * 2^129, so what carries out of the window is one bit; it is returned in
 * CIN8. Clobbers r0, r1, ACC0-ACC2. 64 multiplications, 440 cycles with
 * the call.
 */
kernel:
	COL0
	MAC A0, B0, ACC0, ACC1, ACC2
	std	Z+0, ACC0
	COL 1, ACC1, ACC2, ACC0
	MAC A0, B1, ACC1, ACC2, ACC0
	MAC A1, B0, ACC1, ACC2, ACC0
	std	Z+1, ACC1
	COL 2, ACC2, ACC0, ACC1
	MAC A0, B2, ACC2, ACC0, ACC1
	MAC A1, B1, ACC2, ACC0, ACC1
	MAC A2, B0, ACC2, ACC0, ACC1
	std	Z+2, ACC2
	COL 3, ACC0, ACC1, ACC2
	MAC A0, B3, ACC0, ACC1, ACC2
	MAC A1, B2, ACC0, ACC1, ACC2
	MAC A2, B1, ACC0, ACC1, ACC2
	MAC A3, B0, ACC0, ACC1, ACC2
	std	Z+3, ACC0
	COL 4, ACC1, ACC2, ACC0
	MAC A0, B4, ACC1, ACC2, ACC0
	MAC A1, B3, ACC1, ACC2, ACC0
	MAC A2, B2, ACC1, ACC2, ACC0
	MAC A3, B1, ACC1, ACC2, ACC0
	MAC A4, B0, ACC1, ACC2, ACC0
	std	Z+4, ACC1
	COL 5, ACC2, ACC0, ACC1
	MAC A0, B5, ACC2, ACC0, ACC1
	MAC A1, B4, ACC2, ACC0, ACC1
	MAC A2, B3, ACC2, ACC0, ACC1
	MAC A3, B2, ACC2, ACC0, ACC1
	MAC A4, B1, ACC2, ACC0, ACC1
	MAC A5, B0, ACC2, ACC0, ACC1
	std	Z+5, ACC2
	COL 6, ACC0, ACC1, ACC2
	MAC A0, B6, ACC0, ACC1, ACC2
	MAC A1, B5, ACC0, ACC1, ACC2
	MAC A2, B4, ACC0, ACC1, ACC2
	MAC A3, B3, ACC0, ACC1, ACC2
	MAC A4, B2, ACC0, ACC1, ACC2
	MAC A5, B1, ACC0, ACC1, ACC2
	MAC A6, B0, ACC0, ACC1, ACC2
	std	Z+6, ACC0
	COL 7, ACC1, ACC2, ACC0
	MAC A0, B7, ACC1, ACC2, ACC0
	MAC A1, B6, ACC1, ACC2, ACC0
	MAC A2, B5, ACC1, ACC2, ACC0
	MAC A3, B4, ACC1, ACC2, ACC0
	MAC A4, B3, ACC1, ACC2, ACC0
	MAC A5, B2, ACC1, ACC2, ACC0
	MAC A6, B1, ACC1, ACC2, ACC0
	MAC A7, B0, ACC1, ACC2, ACC0
	std	Z+7, ACC1
	COL 8, ACC2, ACC0, ACC1
	CARRY8 ACC2, ACC0
	MAC A1, B7, ACC2, ACC0, ACC1
	MAC A2, B6, ACC2, ACC0, ACC1
	MAC A3, B5, ACC2, ACC0, ACC1
	MAC A4, B4, ACC2, ACC0, ACC1
	MAC A5, B3, ACC2, ACC0, ACC1
	MAC A6, B2, ACC2, ACC0, ACC1
	MAC A7, B1, ACC2, ACC0, ACC1
	std	Z+8, ACC2
	COL 9, ACC0, ACC1, ACC2
	MAC A2, B7, ACC0, ACC1, ACC2
	MAC A3, B6, ACC0, ACC1, ACC2
	MAC A4, B5, ACC0, ACC1, ACC2
	MAC A5, B4, ACC0, ACC1, ACC2
	MAC A6, B3, ACC0, ACC1, ACC2
	MAC A7, B2, ACC0, ACC1, ACC2
	std	Z+9, ACC0
	COL 10, ACC1, ACC2, ACC0
	MAC A3, B7, ACC1, ACC2, ACC0
	MAC A4, B6, ACC1, ACC2, ACC0
	MAC A5, B5, ACC1, ACC2, ACC0
	MAC A6, B4, ACC1, ACC2, ACC0
	MAC A7, B3, ACC1, ACC2, ACC0
	std	Z+10, ACC1
	COL 11, ACC2, ACC0, ACC1
	MAC A4, B7, ACC2, ACC0, ACC1
	MAC A5, B6, ACC2, ACC0, ACC1
	MAC A6, B5, ACC2, ACC0, ACC1
	MAC A7, B4, ACC2, ACC0, ACC1
	std	Z+11, ACC2
	COL 12, ACC0, ACC1, ACC2
	MAC A5, B7, ACC0, ACC1, ACC2
	MAC A6, B6, ACC0, ACC1, ACC2
	MAC A7, B5, ACC0, ACC1, ACC2
	std	Z+12, ACC0
	COL 13, ACC1, ACC2, ACC0
	MAC A6, B7, ACC1, ACC2, ACC0
	MAC A7, B6, ACC1, ACC2, ACC0
	std	Z+13, ACC1
	COL 14, ACC2, ACC0, ACC1
	MAC A7, B7, ACC2, ACC0, ACC1
	std	Z+14, ACC2
	COL 15, ACC0, ACC1, ACC2
	std	Z+15, ACC0
	mov	CIN8, ACC1	/* column 16's accumulator: the carry out */
	ret

/* t[0..64) = 0, with Z = t; leaves Z = t. */
zero_t:
	ldi	COLS, PRODUCT_BYTES / 4
1:
	st	Z+, ZERO
	st	Z+, ZERO
	st	Z+, ZERO
	st	Z+, ZERO
	dec	COLS
	brne	1b
	sbiw	r30, PRODUCT_BYTES / 2
	sbiw	r30, PRODUCT_BYTES / 2
	ret

/*
 * One row of block products: t[Z + 8j ..] += A_j * B for COLS blocks A_j
 * read from X, with the carries chained through CIN8. Leaves X after the
 * last block, Z 8 * COLS further and the row's carry in CIN8: the caller
 * stores it at Z + 8, the byte above the last window, which no row has
 * touched yet (so it is still zero).
 */
row:
	clr	CIN0
	clr	CIN8
1:
	LOAD8	X, A0, A1, A2, A3, A4, A5, A6, A7
	rcall	kernel
	adiw	r30, BLOCK
	dec	COLS
	brne	1b
	ret

	ENTER	sd_fe25519_mul_avr
	push	r18		/* t */
	push	r19
	movw	r26, r22	/* X = a */
	movw	r28, r20	/* Y = b */
	movw	r30, r18	/* Z = t */
	clr	ZERO
	rcall	zero_t
	/* Row i: t[8i + 8j ..] += a_j * b_i for j = 0..3. */
	ldi	ROWS, FE_BYTES / BLOCK
1:
	LOAD8	Y, B0, B1, B2, B3, B4, B5, B6, B7
	ldi	COLS, FE_BYTES / BLOCK
	rcall	row
	/* The last row's carry is zero (a * b < 2^512) and its place, t[64],
	 * is past the end: the branch depends on the row count only. */
	cpi	ROWS, 1
	breq	2f
	std	Z+BLOCK, CIN8
2:
	sbiw	r26, FE_BYTES		/* X = a again */
	sbiw	r30, FE_BYTES - BLOCK	/* Z = t + 8(i + 1) */
	dec	ROWS
	brne	1b
	pop	r29		/* Y = t */
	pop	r28
	pop	r27		/* X = r */
	pop	r26
	rcall	reduce
	clr	r1
	RESTORE
	ret
	.size	sd_fe25519_mul_avr, . - sd_fe25519_mul_avr

	ENTER	sd_fe25519_sqr_avr
	push	r20		/* t */
	push	r21
	movw	r28, r22	/* Y = a */
	movw	r30, r20	/* Z = t */
	clr	ZERO
	rcall	zero_t
	/* Above the diagonal: t = sum over i < j of a_j * a_i * 2^(64(i+j)),
	 * by rows i = 0, 1, 2 with the blocks j = i+1 .. 3. */
	adiw	r30, BLOCK		/* row 0 starts at window 0 + 1 */
	LOAD8	Y, B0, B1, B2, B3, B4, B5, B6, B7
	movw	r26, r28		/* X = a_1 */
	ldi	COLS, 3
	rcall	row			/* Z = t + 32 */
	std	Z+BLOCK, CIN8
	sbiw	r30, BLOCK		/* row 1 starts at window 1 + 2 */
	LOAD8	Y, B0, B1, B2, B3, B4, B5, B6, B7
	movw	r26, r28		/* X = a_2 */
	ldi	COLS, 2
	rcall	row			/* Z = t + 40 = window 2 + 3 */
	std	Z+BLOCK, CIN8
	LOAD8	Y, B0, B1, B2, B3, B4, B5, B6, B7
	movw	r26, r28		/* X = a_3 */
	ldi	COLS, 1
	rcall	row
	std	Z+BLOCK, CIN8		/* t[56] */
	/* t = 2t (below 2^511 before, so nothing is lost). */
	pop	r31
	pop	r30
	push	r30
	push	r31
	ldi	COLS, PRODUCT_BYTES / 4
	clc
1:
	.rept 4
	ld	r0, Z
	rol	r0
	st	Z+, r0
	.endr
	dec	COLS
	brne	1b
	/* The diagonal: t[16i .. 16i + 16) += a_i^2, the carry out of each
	 * window entering byte 0 of the next. */
	sbiw	r30, PRODUCT_BYTES / 2
	sbiw	r30, PRODUCT_BYTES / 2
	sbiw	r28, 3 * BLOCK		/* Y = a */
	clr	CIN0
	ldi	ROWS, FE_BYTES / BLOCK
2:
	LOAD8	Y, A0, A1, A2, A3, A4, A5, A6, A7
	movw	B0, A0
	movw	B2, A2
	movw	B4, A4
	movw	B6, A6
	clr	CIN8
	rcall	kernel
	mov	CIN0, CIN8	/* zero after the last window: a^2 < 2^512 */
	adiw	r30, WINDOW
	dec	ROWS
	brne	2b
	pop	r29		/* Y = t */
	pop	r28
	pop	r27		/* X = r */
	pop	r26
	rcall	reduce
	clr	r1
	RESTORE
	ret
	.size	sd_fe25519_sqr_avr, . - sd_fe25519_sqr_avr
