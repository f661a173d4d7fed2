/*
 * port/avr/chip_port.h: what port/chip.h takes from the ATmega328P port
 * (Arduino Uno, simavr), and how port/avr/chip.c provides each service:
 *
 * - sd_chip_init sets up USART0 (115200 8N1, interrupt-driven receive into
 *   a 64-byte ring) and the cycle counter, measures what the counter's own
 *   overflow interrupt costs (sd_chip_cycles), and enables interrupts.
 * - sd_chip_count: cycles from Timer1 at the CPU clock plus its overflow
 *   interrupt (57 cycles under simavr in every 65,536 go to that
 *   interrupt, and are counted). Differences are exact across one wrap (268 s at 16 MHz).
 * - sd_chip_cycles: the same less the cycles the overflow interrupt took.
 *   The interrupt always takes the same number of cycles (measured once by
 *   sd_chip_init), so what it adds to an operation depends only on where
 *   the timer stood when the operation began; without it an operation
 *   costs the same cycles every time it runs on the same input.
 * - sd_chip_millis: from the same timer.
 * - sd_chip_idle sleeps (idle mode) until an interrupt, unless a received
 *   byte waits: the UART or the timer's overflow, at the latest 4.1 ms
 *   later.
 * - sd_chip_reset_cause reads MCUSR; sd_chip_reboot resets through the
 *   watchdog (15 ms), so the next boot reports SD_CHIP_RESET_WATCHDOG.
 * - sd_chip_mark writes id to GPIOR0, which the simavr runner
 *   (emu/simavr-run.c) watches to count cycles exactly. One OUT
 *   instruction; harmless on a real chip.
 * - NV is the EEPROM; writing skips unchanged bytes.
 * - sd_chip_exit takes code modulo 256, reports it to the simavr runner
 *   (GPIOR1, then the exit marker) after the "#exit" line, and stops.
 */
#ifndef SD_PORT_AVR_CHIP_PORT_H
#define SD_PORT_AVR_CHIP_PORT_H

#define SD_CHIP_NAME "ATmega328P"
#define SD_CHIP_UNIT "cycles"
#define SD_CHIP_COUNTS_CYCLES 1
#define SD_CHIP_HZ 16000000UL
#define SD_CHIP_BAUD 115200UL
#define SD_CHIP_NV_BYTES 1024u /* the EEPROM */

#endif /* SD_PORT_AVR_CHIP_PORT_H */
