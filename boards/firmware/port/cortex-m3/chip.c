/*
 * port/cortex-m3/chip.c: UART, SysTick counter, stack painting, NV stub
 * and exit for QEMU's mps2-an385.
 *
 * UART0 is an APB UART of the Cortex-M System Design Kit at 0x40004000
 * (Application Note AN385, §3.6 memory map; CMSDK Technical Reference
 * Manual ARM DDI 0479, §4.3: DATA, STATE, CTRL, INTSTATUS, BAUDDIV).
 * SysTick is the ARMv7-M system timer (ARMv7-M Architecture Reference
 * Manual, §B3.3: SYST_CSR, SYST_RVR, SYST_CVR).
 */
#include "chip.h"

#include <string.h>

#define REG(addr) (*(volatile uint32_t *)(addr))

#define UART0 0x40004000u
#define UART_DATA REG(UART0 + 0x000u)
#define UART_STATE REG(UART0 + 0x004u)
#define UART_CTRL REG(UART0 + 0x008u)
#define UART_BAUDDIV REG(UART0 + 0x010u)
#define STATE_TX_FULL (1u << 0)
#define STATE_RX_FULL (1u << 1)
#define CTRL_TX_EN (1u << 0)
#define CTRL_RX_EN (1u << 1)

#define SYST_CSR REG(0xE000E010u)
#define SYST_RVR REG(0xE000E014u)
#define SYST_CVR REG(0xE000E018u)
#define CSR_ENABLE (1u << 0)
#define CSR_TICKINT (1u << 1)
#define CSR_CLKSOURCE (1u << 2) /* the processor clock */
#define SYST_MAX 0x00FFFFFFu    /* the 24-bit counter's reload */

static volatile uint32_t wraps; /* SysTick reloads, bits 24-31 of ticks */

void sd_systick_handler(void)
{
	wraps++;
}

void sd_chip_init(void)
{
	UART_BAUDDIV = (uint32_t)(SD_CHIP_HZ / SD_CHIP_BAUD); /* at least 16 */
	UART_CTRL = CTRL_TX_EN | CTRL_RX_EN;

	SYST_RVR = SYST_MAX;
	SYST_CVR = 0;
	SYST_CSR = CSR_ENABLE | CSR_TICKINT | CSR_CLKSOURCE;
	__asm__ volatile("cpsie i" ::: "memory");
}

void sd_chip_putc(uint8_t c)
{
	while (UART_STATE & STATE_TX_FULL)
		;
	UART_DATA = c;
}

int sd_chip_getc(void)
{
	if (!(UART_STATE & STATE_RX_FULL))
		return -1;
	return (int)(UART_DATA & 0xFFu);
}

uint32_t sd_chip_count(void)
{
	uint32_t w, v;

	/* SysTick counts down; read again if it wrapped in between. */
	do {
		w = wraps;
		v = SYST_CVR;
	} while (w != wraps);
	return ((w << 24) | (SYST_MAX - v)) * SD_CHIP_INSNS_PER_TICK;
}

static uintptr_t sp_now(void)
{
	uintptr_t sp;

	__asm__ volatile("mov %0, sp" : "=r"(sp));
	return sp;
}

#include "port/common/ramchip.inc"

void sd_chip_exit(int code)
{
	print_exit(code);
	__asm__ volatile("cpsid i" ::: "memory");
	for (;;)
		__asm__ volatile("wfi");
}
