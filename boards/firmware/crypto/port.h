/*
 * crypto/port.h: the only chip-specific part of crypto/.
 *
 * Constant tables (SHA-256 round constants, curve parameters) are read
 * through these macros. On the AVR, whose flash and RAM are separate
 * address spaces, a plain `const` table would be copied into the 2 KB of
 * SRAM at start-up; SD_ROM keeps it in flash and the readers fetch it with
 * LPM. Everywhere else the macros are plain reads.
 */
#ifndef SD_CRYPTO_PORT_H
#define SD_CRYPTO_PORT_H

/*
 * SD_CRYPTO_SMALL, when the build defines it (the ATmega328P agent image,
 * agent.mk), selects compact forms of two primitives: Poly1305 in radix
 * 2^8 (crypto/poly1305.c) and SHA-256 with one Σ/σ function
 * (crypto/sha256.c). Smaller on an 8-bit core and slower; the same
 * results, checked by the same tests (make test-host builds both forms).
 */

#include <stddef.h>
#include <stdint.h>
#include <string.h>

#if defined(__AVR__)
#include <avr/pgmspace.h>
#define SD_ROM PROGMEM
#define sd_rom_u8(p) ((uint8_t)pgm_read_byte(p))
#define sd_rom_u16(p) ((uint16_t)pgm_read_word(p))
#define sd_rom_u32(p) ((uint32_t)pgm_read_dword(p))
#define sd_rom_copy(dst, src, n) memcpy_P((dst), (src), (n))
#else
#define SD_ROM
#define sd_rom_u8(p) (*(const uint8_t *)(p))
#define sd_rom_u16(p) (*(const uint16_t *)(p))
#define sd_rom_u32(p) (*(const uint32_t *)(p))
#define sd_rom_copy(dst, src, n) memcpy((dst), (src), (n))
#endif

#endif /* SD_CRYPTO_PORT_H */
