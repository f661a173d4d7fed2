/*
 * port/stm32f4/startup.c: the vector table and reset handler (ARMv7-M
 * Architecture Reference Manual §B1.5.2-B1.5.3: word 0 is the initial
 * stack pointer, word 1 the reset handler, then the exceptions in order,
 * then the chip's interrupts: RM0090 §12.2, table 61, and RM0368 §10.2,
 * table 38, which agree up to USART2, position 38). The reset handler
 * copies .data from flash, clears .bss, runs the program's main and
 * reports its result through sd_chip_exit.
 */
#include <stdint.h>
#include <string.h>

#include "port/chip.h"

extern uint8_t __data_load[], __data_start[], __data_end[];
extern uint8_t __bss_start[], __bss_end[], __stack_top[];

int main(int argc, char **argv);
void sd_reset_handler(void);
void sd_usart_handler(void);

static char progname[] = "firmware";
static char *argv0[] = {progname, 0};

void sd_reset_handler(void)
{
	memcpy(__data_start, __data_load, (size_t)(__data_end - __data_start));
	memset(__bss_start, 0, (size_t)(__bss_end - __bss_start));
	sd_chip_init();
#if defined(SD_CHIP_WAIT_INPUT)
	/* Programs that print at once (the test suite) wait for a first
	 * byte, so nothing is said before the runner listens. */
	while (sd_chip_getc() < 0)
		;
#endif
	sd_chip_exit(main(1, argv0));
}

/* Any fault or unexpected exception or interrupt: say so and stop. */
static void sd_fault_handler(void)
{
	sd_chip_exit(0x7F);
}

#if !SD_STM32_RX_IRQ
#define sd_usart_handler sd_fault_handler /* never enabled */
#endif

typedef void (*vector)(void);

#define SYSTEM_VECTORS 16
#define IRQ_USART2 38

#define F sd_fault_handler

/* 16 system vectors: stack, reset, NMI, HardFault, MemManage, BusFault,
 * UsageFault, 4 reserved, SVCall, DebugMonitor, reserved, PendSV,
 * SysTick; then the interrupts 0 to 38 (USART2), of which the port
 * enables only its USART's: 37 USART1, 38 USART2. */
__attribute__((section(".vectors"), used)) static const vector vectors[SYSTEM_VECTORS + IRQ_USART2 + 1] = {
	(vector)(uintptr_t)__stack_top, sd_reset_handler, F, F, F, F, F, 0,
	0, 0, 0, F, F, 0, F, F,
	F, F, F, F, F, F, F, F, /* interrupts 0-7 */
	F, F, F, F, F, F, F, F, /* 8-15 */
	F, F, F, F, F, F, F, F, /* 16-23 */
	F, F, F, F, F, F, F, F, /* 24-31 */
	F, F, F, F, F, sd_usart_handler, sd_usart_handler, /* 32-38 */
};
