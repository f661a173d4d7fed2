/*
 * port/stm32f4/nv_flash.c: NV in flash for the boards that keep it there
 * (SD_STM32_NV_FLASH: the NUCLEO-F401RE). The port keeps SD_CHIP_NV_BYTES
 * in RAM (port/common/ramchip.inc), loads them from flash sector 1 at
 * start-up and writes them back after every sd_chip_nv_write: erase the
 * sector, program 32-bit words (RM0368 §3.5: unlock through KEYR, SER and
 * SNB then STRT, PG with PSIZE x32, BSY; errors in SR). A write that
 * changes nothing leaves the flash alone: a sector takes 10,000 erase
 * cycles (the STM32F401xD/E datasheet's flash endurance), and the agent
 * writes a counter block every 16 handshakes.
 *
 * The core stalls on flash fetches while the sector is erased (a 16 KB
 * sector takes some hundreds of milliseconds), so bytes the USART
 * receives then may be lost.
 */
#include "port/chip.h"

#include <string.h>

#define REG(addr) (*(volatile uint32_t *)(addr))

#define FLASH_IF 0x40023C00u
#define FLASH_KEYR REG(FLASH_IF + 0x04u)
#define FLASH_SR REG(FLASH_IF + 0x0Cu)
#define FLASH_CR REG(FLASH_IF + 0x10u)
#define KEY1 0x45670123u
#define KEY2 0xCDEF89ABu
#define SR_ERRORS (1u << 1 | 1u << 4 | 1u << 5 | 1u << 6 | 1u << 7) /* OPERR WRPERR PGAERR PGPERR PGSERR */
#define SR_BSY (1u << 16)
#define CR_PG (1u << 0)
#define CR_SER (1u << 1)
#define CR_SNB_SHIFT 3
#define CR_PSIZE_X32 (2u << 8)
#define CR_STRT (1u << 16)
#define CR_LOCK (1u << 31)
#define FLASH_ACR REG(FLASH_IF + 0x00u)
#define ACR_DCEN (1u << 10)
#define ACR_DCRST (1u << 12)

/* Polls run at tens of MHz: this bound is seconds, past any erase of a
 * 16 KB sector. */
#define BUSY_POLLS 100000000u

extern uint8_t __nv_flash_start[], __nv_flash_sector[]; /* link-nucleo-f401re.ld */

int sd_stm32_nv_load(uint8_t *ram, uint32_t len);
int sd_stm32_nv_commit(const uint8_t *ram, uint32_t len);

int sd_stm32_nv_load(uint8_t *ram, uint32_t len)
{
	memcpy(ram, __nv_flash_start, len);
	return 0;
}

static int wait_idle(void)
{
	uint32_t i;

	for (i = 0; i < BUSY_POLLS; i++)
		if (!(FLASH_SR & SR_BSY))
			return (FLASH_SR & SR_ERRORS) ? -1 : 0;
	return -1;
}

static int erase_and_program(const uint8_t *ram, uint32_t len)
{
	volatile uint32_t *dst = (volatile uint32_t *)(void *)__nv_flash_start;
	uint32_t sector = (uint32_t)(uintptr_t)__nv_flash_sector;
	uint32_t i, w;

	FLASH_CR = CR_SER | sector << CR_SNB_SHIFT | CR_PSIZE_X32;
	FLASH_CR |= CR_STRT;
	if (wait_idle() != 0)
		return -1;
	FLASH_CR = CR_PG | CR_PSIZE_X32;
	for (i = 0; i < len / 4u; i++) {
		memcpy(&w, ram + 4u * i, 4);
		dst[i] = w;
		if (wait_idle() != 0)
			return -1;
	}
	return 0;
}

/* The ART accelerator's data cache may still hold the erased words: it
 * is reset, which it may only be while disabled (RM0368 §3.4.2). */
static void cache_flush(void)
{
	uint32_t acr = FLASH_ACR;

	FLASH_ACR = acr & ~ACR_DCEN;
	FLASH_ACR = (acr & ~ACR_DCEN) | ACR_DCRST;
	FLASH_ACR = acr & ~ACR_DCEN;
	FLASH_ACR = acr;
}

int sd_stm32_nv_commit(const uint8_t *ram, uint32_t len)
{
	int rc;

	if (memcmp(ram, __nv_flash_start, len) == 0)
		return 0;
	if (wait_idle() != 0 && (FLASH_SR & SR_BSY))
		return -1;
	FLASH_SR = SR_ERRORS; /* clears what an earlier operation left */
	if (FLASH_CR & CR_LOCK) {
		FLASH_KEYR = KEY1;
		FLASH_KEYR = KEY2;
	}
	rc = erase_and_program(ram, len);
	FLASH_CR = CR_LOCK;
	cache_flush();
	return rc == 0 && memcmp(ram, __nv_flash_start, len) == 0 ? 0 : -1;
}
