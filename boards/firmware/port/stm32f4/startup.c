/*
 * port/stm32f4/startup.c: the vector table, with the chip's interrupts up
 * to USART2 (RM0090 §12.2, table 61, and RM0368 §10.2, table 38, which
 * agree up to position 38), and the reset handler of
 * port/common/cortexm_reset.inc.
 */
#include "port/common/cortexm_reset.inc"

void sd_usart_handler(void);

#if !SD_STM32_RX_IRQ
#define sd_usart_handler sd_fault_handler /* never enabled */
#endif

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
