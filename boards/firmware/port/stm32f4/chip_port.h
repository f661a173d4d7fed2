/*
 * port/stm32f4/chip_port.h: what port/chip.h takes from the STM32F4 port,
 * for one of two boards of the family, chosen at build time:
 *
 * - default: the STM32F405 of QEMU's netduinoplus2 machine (QEMU 7.2),
 *   run with -icount shift=0;
 * - SD_STM32_NUCLEO_F401RE: the STM32F401RE of ST's NUCLEO-F401RE, real
 *   silicon (make flash-nucleo-f401re; nothing here runs it in CI).
 *
 * The board table below holds what differs between them: clock tree,
 * USART and its pins, counter, RNG, NV. How port/stm32f4/chip.c provides
 * each service:
 *
 * - sd_chip_init turns the board's peripherals on in RCC, sets the clock
 *   tree (nucleo: HSI through the PLL to 84 MHz; QEMU models no RCC, so
 *   the netduinoplus2 build keeps QEMU's fixed 168 MHz), the USART
 *   (115200 8N1), TIM5 as a 1 MHz time base and the counter; interrupts on.
 * - sd_chip_getc: with SD_STM32_RX_IRQ the USART's receive interrupt fills
 *   a ring (the data register holds one byte, and the agent computes for
 *   milliseconds); a full ring leaves the byte in the register and masks
 *   the interrupt until there is room. Without it (the benchmark and
 *   vector images under QEMU) getc polls: QEMU holds further input back
 *   until the byte is read, and a stray byte of the runner cannot run an
 *   interrupt inside a measured operation.
 * - sd_chip_count: QEMU 7.2 models no DWT (its registers read as zero) but
 *   clocks TIM2-5 at 1 GHz of virtual time, which -icount shift=0 advances
 *   by 1 ns per instruction: TIM2, 32 bits, prescaler 1, counts
 *   instructions exactly (resolution 1). On silicon DWT CYCCNT counts core
 *   cycles. Both wrap at 2^32; no interrupt runs for them, so
 *   sd_chip_cycles is the same count.
 * - sd_chip_millis: TIM5 at 1 MHz; read at least every 71 minutes.
 * - sd_chip_idle returns at once: the agent's main loop polls.
 * - sd_chip_reboot is a system reset (AIRCR.SYSRESETREQ); the reset cause
 *   comes from RCC_CSR where the chip has it (QEMU reads it as zero, and
 *   the port's reboot flag in RAM says SD_CHIP_RESET_SOFTWARE, else
 *   power-on).
 * - NV: RAM that no section covers (port/common/ramchip.inc); on the
 *   nucleo board a copy of flash sector 1, written back on every write.
 * - sd_chip_entropy: the RNG peripheral (STM32F405); the F401 has none.
 * - Markers are for the simavr runner; nothing watches them here.
 */
#ifndef SD_PORT_STM32F4_CHIP_PORT_H
#define SD_PORT_STM32F4_CHIP_PORT_H

#define SD_CHIP_BAUD 115200UL
#define SD_CHIP_NV_BYTES 1024u /* port/common/ramchip.inc */

#ifndef SD_STM32_RX_IRQ
#define SD_STM32_RX_IRQ 1
#endif

#if defined(SD_STM32_NUCLEO_F401RE)
/* STM32F401RE (RM0368): HSI 16 MHz, PLL to 84 MHz (M 16, N 336, P 4,
 * Q 7: 48 MHz), AHB 84, APB1 42 (timers 84), APB2 84; two flash wait
 * states (RM0368 §3.4, table 6, 2.7-3.6 V). USART2 on PA2/PA3, AF7: the
 * ST-LINK/V2-1's virtual COM port (UM1724, "USART communication"). */
#define SD_CHIP_NAME "STM32F401RE (NUCLEO-F401RE)"
#define SD_CHIP_UNIT "cycles" /* DWT CYCCNT */
#define SD_CHIP_COUNTS_CYCLES 1
#define SD_CHIP_HZ 84000000UL
#define SD_STM32_HSI_HZ 16000000UL
#define SD_STM32_PLL 1
#define SD_STM32_PLLM 16u
#define SD_STM32_PLLN 336u
#define SD_STM32_PLLP 4u
#define SD_STM32_PLLQ 7u
#define SD_STM32_FLASH_WS 2u
#define SD_STM32_APB1_DIV 2u
#define SD_STM32_APB2_DIV 1u
#define SD_STM32_USART 2
#define SD_STM32_TX_PIN 2u /* GPIOA */
#define SD_STM32_RX_PIN 3u
#define SD_STM32_DWT 1
#define SD_STM32_RNG 0
#define SD_STM32_NV_FLASH 1
#else
/* STM32F405 (RM0090) as QEMU 7.2's netduinoplus2 machine has it: SYSCLK
 * fixed at 168 MHz by the machine (hw/arm/netduinoplus2.c), RCC, GPIO,
 * flash interface and RNG unimplemented (reads 0, writes ignored:
 * hw/arm/stm32f405_soc.c), TIM2-5 clocked at 1 GHz. serial0 (-serial) is
 * USART1; the pin table names PA9/PA10, AF7, which QEMU ignores. */
#define SD_CHIP_NAME "STM32F405 (QEMU netduinoplus2)"
#define SD_CHIP_UNIT "instructions" /* TIM2 at 1 GHz under -icount shift=0 */
#define SD_CHIP_COUNTS_CYCLES 0
#define SD_CHIP_HZ 168000000UL
#define SD_STM32_PLL 0
#define SD_STM32_SYSCLK_HZ 168000000UL
#define SD_STM32_APB1_HZ 42000000UL
#define SD_STM32_APB2_HZ 84000000UL
#define SD_STM32_TIMER_HZ 1000000000UL /* QEMU's model, not the chip's 84 MHz */
#define SD_STM32_USART 1
#define SD_STM32_TX_PIN 9u /* GPIOA */
#define SD_STM32_RX_PIN 10u
#define SD_STM32_DWT 0
#define SD_STM32_RNG 1
#define SD_STM32_NV_FLASH 0
#endif

#endif /* SD_PORT_STM32F4_CHIP_PORT_H */
