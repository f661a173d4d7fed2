/* test/avr/fe_ref.h: the portable C reference of test/avr/fe_ref.c. All
 * values are 32 little-endian bytes; results of mul, sqr, add, sub and a24 are below
 * 2^256 but not fully reduced; canon reduces completely (below p). */
#ifndef SD_TEST_AVR_FE_REF_H
#define SD_TEST_AVR_FE_REF_H

#include <stdint.h>

void ref_fe_mul(uint8_t r[32], const uint8_t a[32], const uint8_t b[32]);
void ref_fe_sqr(uint8_t r[32], const uint8_t a[32]);
void ref_fe_add(uint8_t r[32], const uint8_t a[32], const uint8_t b[32]);
void ref_fe_sub(uint8_t r[32], const uint8_t a[32], const uint8_t b[32]);
void ref_fe_a24(uint8_t r[32], const uint8_t a[32]);
void ref_fe_canon(uint8_t out[32], const uint8_t a[32]);
int ref_x25519(uint8_t out[32], const uint8_t scalar[32], const uint8_t u[32]);

#endif
