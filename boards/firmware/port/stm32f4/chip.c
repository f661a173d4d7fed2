/*
 * port/stm32f4/chip.c: clocks, USART, counters, time base, reset cause,
 * RNG, stack painting, NV, reset and exit for the STM32F4 family: the
 * STM32F405 of QEMU's netduinoplus2 and the STM32F401RE of the
 * NUCLEO-F401RE (chip_port.h holds the board table).
 *
 * Registers from the reference manuals RM0090 (STM32F405/415/407/417/427/
 * 429/437/439) and RM0368 (STM32F401xB/C/D/E), which agree on every
 * register used here: RCC (§7.3 / §6.3: CR, PLLCFGR, CFGR, AHB1ENR,
 * AHB2ENR, APB1ENR, APB2ENR, CSR), FLASH_ACR (§3.9 / §3.8), GPIO (§8.4 /
 * §8.4: MODER, PUPDR, AFRL, AFRH), USART (§30.6 / §19.6: SR, DR, BRR,
 * CR1), TIM2 and TIM5 (§18.4 / §13.4: CR1, EGR, CNT, PSC, ARR), RNG
 * (RM0090 §24.4: CR, SR, DR). DWT and DEMCR (ARMv7-M Architecture
 * Reference Manual §C1.8, §C1.6.5), NVIC ISER and AIRCR (§B3.4, §B3.2.6).
 */
#include "port/chip.h"

#include <string.h>

#define REG(addr) (*(volatile uint32_t *)(addr))

#define RCC 0x40023800u
#define RCC_CR REG(RCC + 0x00u)
#define RCC_PLLCFGR REG(RCC + 0x04u)
#define RCC_CFGR REG(RCC + 0x08u)
#define RCC_AHB1ENR REG(RCC + 0x30u)
#define RCC_AHB2ENR REG(RCC + 0x34u)
#define RCC_APB1ENR REG(RCC + 0x40u)
#define RCC_APB2ENR REG(RCC + 0x44u)
#define RCC_CSR REG(RCC + 0x74u)
#define CR_HSIRDY (1u << 1)
#define CR_PLLON (1u << 24)
#define CR_PLLRDY (1u << 25)
#define CFGR_SW_PLL 2u
#define CFGR_SWS_SHIFT 2
#define CFGR_SWS_MASK (3u << CFGR_SWS_SHIFT)
#define CFGR_PPRE1_SHIFT 10
#define CFGR_PPRE2_SHIFT 13
#define AHB1_GPIOA (1u << 0)
#define AHB2_RNG (1u << 6)
#define APB1_TIM2 (1u << 0)
#define APB1_TIM5 (1u << 3)
#define APB1_USART2 (1u << 17)
#define APB2_USART1 (1u << 4)
#define CSR_RMVF (1u << 24)
#define CSR_BORRSTF (1u << 25)
#define CSR_PINRSTF (1u << 26)
#define CSR_PORRSTF (1u << 27)
#define CSR_SFTRSTF (1u << 28)
#define CSR_IWDGRSTF (1u << 29)
#define CSR_WWDGRSTF (1u << 30)
#define CSR_LPWRRSTF (1u << 31)

#define FLASH_ACR REG(0x40023C00u)
#define ACR_PRFTEN (1u << 8)
#define ACR_ICEN (1u << 9)
#define ACR_DCEN (1u << 10)

#define GPIOA 0x40020000u
#define GPIO_MODER REG(GPIOA + 0x00u)
#define GPIO_PUPDR REG(GPIOA + 0x0Cu)
#define GPIO_AFR(pin) REG(GPIOA + 0x20u + 4u * ((pin) / 8u))
#define MODER_AF 2u
#define PUPDR_UP 1u
#define AF_USART 7u /* USART1 and USART2 on port A */

#if SD_STM32_USART == 1
#define USART 0x40011000u
#define USART_IRQ 37u
#else
#define USART 0x40004400u
#define USART_IRQ 38u
#endif
#define USART_SR REG(USART + 0x00u)
#define USART_DR REG(USART + 0x04u)
#define USART_BRR REG(USART + 0x08u)
#define USART_CR1 REG(USART + 0x0Cu)
#define SR_RXNE (1u << 5)
#define SR_TXE (1u << 7)
#define CR1_RE (1u << 2)
#define CR1_TE (1u << 3)
#define CR1_RXNEIE (1u << 5)
#define CR1_UE (1u << 13)

#define TIM2 0x40000000u
#define TIM5 0x40000C00u
#define TIM_CR1(t) REG((t) + 0x00u)
#define TIM_EGR(t) REG((t) + 0x14u)
#define TIM_CNT(t) REG((t) + 0x24u)
#define TIM_PSC(t) REG((t) + 0x28u)
#define TIM_ARR(t) REG((t) + 0x2Cu)
#define TIM_CEN (1u << 0)
#define TIM_UG (1u << 0)
#define MILLIS_TICK_HZ 1000000u /* TIM5's rate */

#define DEMCR REG(0xE000EDFCu)
#define DEMCR_TRCENA (1u << 24)
#define DWT_CTRL REG(0xE0001000u)
#define DWT_CYCCNT REG(0xE0001004u)
#define DWT_LAR REG(0xE0001FB0u)
#define DWT_LAR_KEY 0xC5ACCE55u
#define DWT_CYCCNTENA (1u << 0)

#define RNG 0x50060800u
#define RNG_CR REG(RNG + 0x00u)
#define RNG_SR REG(RNG + 0x04u)
#define RNG_DR REG(RNG + 0x08u)
#define RNG_RNGEN (1u << 2)
#define RNG_DRDY (1u << 0)
#define RNG_CECS (1u << 1)
#define RNG_SECS (1u << 2)
/* A word every 40 periods of the 48 MHz clock (RM0090 §24.3.1), far
 * fewer polls than this; a chip whose RNG has no clock (or QEMU, which
 * models none) gives up after it. */
#define RNG_POLLS 4096u

#define NVIC_ISER(irq) REG(0xE000E100u + 4u * ((irq) / 32u))


/* How long a clock or flash wait may poll: milliseconds at any clock
 * here, then the port goes on without (a clock that does not start). */
#define READY_POLLS 1000000u

#if SD_STM32_NV_FLASH
/* port/stm32f4/nv_flash.c: the RAM copy goes back to flash sector 1. */
int sd_stm32_nv_load(uint8_t *ram, uint32_t len);
int sd_stm32_nv_commit(const uint8_t *ram, uint32_t len);
#define SD_CHIP_NV_COMMIT() sd_stm32_nv_commit(NV_AT, SD_CHIP_NV_BYTES)
#endif
#include "port/common/ramchip.inc"
#include "port/common/cortexm.inc"

/* The clocks as sd_chip_init set them: the PLL may not have locked. */
static struct {
	uint32_t apb1, apb2, timers;
} clk;
/* TIM5 at its last read (sd_chip_millis). */
static uint32_t timer_last;

#if SD_STM32_RX_IRQ
#define RX_RING 256u /* bytes; a power of two */
static volatile uint8_t rx_buf[RX_RING];
static volatile uint32_t rx_head, rx_tail;

void sd_usart_handler(void);

/* Moves the received byte into the ring; with the ring full it leaves
 * the byte in DR and masks the interrupt until sd_chip_getc makes room. */
void sd_usart_handler(void)
{
	while (USART_SR & SR_RXNE) {
		if (rx_head - rx_tail >= RX_RING) {
			USART_CR1 &= ~CR1_RXNEIE;
			return;
		}
		rx_buf[rx_head % RX_RING] = (uint8_t)USART_DR;
		rx_head++;
	}
}
#endif

#if SD_STM32_PLL
static int poll_set(volatile uint32_t *reg, uint32_t mask, uint32_t want)
{
	uint32_t i;

	for (i = 0; i < READY_POLLS; i++)
		if ((*reg & mask) == want)
			return 0;
	return -1;
}

/* HSI through the PLL to SD_CHIP_HZ; 0, or -1 when a clock did not
 * become ready and the chip still runs on HSI. */
static int pll_start(void)
{
	if ((RCC_CFGR & CFGR_SWS_MASK) == CFGR_SW_PLL << CFGR_SWS_SHIFT)
		return 0; /* a second sd_chip_init: the PLL runs the chip */
	if (poll_set(&RCC_CR, CR_HSIRDY, CR_HSIRDY) != 0)
		return -1;
	RCC_PLLCFGR = SD_STM32_PLLM | SD_STM32_PLLN << 6 | (SD_STM32_PLLP / 2u - 1u) << 16 |
		SD_STM32_PLLQ << 24; /* PLLSRC 0: HSI */
	RCC_CR |= CR_PLLON;
	if (poll_set(&RCC_CR, CR_PLLRDY, CR_PLLRDY) != 0)
		return -1;
	/* Wait states first, then the faster clock (RM0368 §3.4.1). */
	FLASH_ACR = SD_STM32_FLASH_WS | ACR_PRFTEN | ACR_ICEN | ACR_DCEN;
	if (poll_set(&FLASH_ACR, 0xFu, SD_STM32_FLASH_WS) != 0)
		return -1;
	/* APB1 /2 is 4 (100b), /1 is 0; AHB /1. */
	RCC_CFGR = (SD_STM32_APB1_DIV == 2u ? 4u : 0u) << CFGR_PPRE1_SHIFT |
		(SD_STM32_APB2_DIV == 2u ? 4u : 0u) << CFGR_PPRE2_SHIFT | CFGR_SW_PLL;
	if (poll_set(&RCC_CFGR, CFGR_SWS_MASK, CFGR_SW_PLL << CFGR_SWS_SHIFT) != 0) {
		RCC_CFGR = 0; /* back to HSI, no prescalers */
		return -1;
	}
	return 0;
}
#endif

/* The clock tree of the board table. Without a PLL (or when it does not
 * start) the chip stays on what it ran at reset. */
static void clock_init(void)
{
#if SD_STM32_PLL
	if (pll_start() != 0) {
		clk.apb1 = clk.apb2 = clk.timers = SD_STM32_HSI_HZ;
		return;
	}
	clk.apb1 = SD_CHIP_HZ / SD_STM32_APB1_DIV;
	clk.apb2 = SD_CHIP_HZ / SD_STM32_APB2_DIV;
	/* Timers on APB1 run at twice its clock when it is divided. */
	clk.timers = SD_STM32_APB1_DIV == 1u ? clk.apb1 : 2u * clk.apb1;
#else
	clk.apb1 = SD_STM32_APB1_HZ;
	clk.apb2 = SD_STM32_APB2_HZ;
	clk.timers = SD_STM32_TIMER_HZ;
#endif
}

static void pin_af(uint32_t pin)
{
	GPIO_MODER = (GPIO_MODER & ~(3u << 2u * pin)) | MODER_AF << 2u * pin;
	GPIO_AFR(pin) = (GPIO_AFR(pin) & ~(0xFu << 4u * (pin % 8u))) | AF_USART << 4u * (pin % 8u);
}

static void usart_init(void)
{
	uint32_t pclk = SD_STM32_USART == 1 ? clk.apb2 : clk.apb1;

	pin_af(SD_STM32_TX_PIN);
	pin_af(SD_STM32_RX_PIN);
	GPIO_PUPDR = (GPIO_PUPDR & ~(3u << 2u * SD_STM32_RX_PIN)) | PUPDR_UP << 2u * SD_STM32_RX_PIN;
	/* Oversampling by 16: BRR is pclk / baud in sixteenths (§30.3.4). */
	USART_BRR = (pclk + SD_CHIP_BAUD / 2u) / SD_CHIP_BAUD;
	USART_CR1 = CR1_UE | CR1_TE | CR1_RE | (SD_STM32_RX_IRQ ? CR1_RXNEIE : 0u);
#if SD_STM32_RX_IRQ
	rx_head = rx_tail = 0;
	NVIC_ISER(USART_IRQ) = 1u << (USART_IRQ % 32u);
#endif
}

/* A free-running 32-bit timer at hz / (psc + 1). */
static void timer_start(uint32_t tim, uint32_t psc)
{
	TIM_CR1(tim) = 0;
	TIM_PSC(tim) = psc;
	TIM_ARR(tim) = 0xFFFFFFFFu;
	TIM_EGR(tim) = TIM_UG; /* loads the prescaler */
	TIM_CR1(tim) = TIM_CEN;
}

static void counter_init(void)
{
#if SD_STM32_DWT
	DEMCR |= DEMCR_TRCENA;
	DWT_LAR = DWT_LAR_KEY;
	DWT_CYCCNT = 0;
	DWT_CTRL |= DWT_CYCCNTENA;
#else
	timer_start(TIM2, 0);
#endif
}

/* The cause RCC_CSR records, in the order that tells them apart: a
 * power-on sets the pin and brown-out flags too, and every internal
 * reset drives the pin. QEMU reads CSR as zero: the reboot flag decides. */
static void reset_cause_read(void)
{
	uint32_t csr = RCC_CSR;

	if (csr & CSR_PORRSTF)
		reset_cause = SD_CHIP_RESET_POWER_ON;
	else if (csr & (CSR_IWDGRSTF | CSR_WWDGRSTF | CSR_LPWRRSTF))
		reset_cause = SD_CHIP_RESET_WATCHDOG;
	else if (csr & CSR_SFTRSTF)
		reset_cause = SD_CHIP_RESET_SOFTWARE;
	else if (csr & CSR_BORRSTF)
		reset_cause = SD_CHIP_RESET_BROWN_OUT;
	else if (csr & CSR_PINRSTF)
		reset_cause = SD_CHIP_RESET_EXTERNAL;
	RCC_CSR = csr | CSR_RMVF;
	if (reset_cause != SD_CHIP_RESET_UNKNOWN)
		(void)reboot_requested(); /* clears the flag */
}

void sd_chip_init(void)
{
	__asm__ volatile("cpsid i" ::: "memory");
	if (reset_cause == SD_CHIP_RESET_UNKNOWN)
		reset_cause_read();
	reset_cause_latch();
	RCC_AHB1ENR |= AHB1_GPIOA;
	RCC_AHB2ENR |= SD_STM32_RNG ? AHB2_RNG : 0u;
	RCC_APB1ENR |= APB1_TIM2 | APB1_TIM5 | (SD_STM32_USART == 2 ? APB1_USART2 : 0u);
	RCC_APB2ENR |= SD_STM32_USART == 1 ? APB2_USART1 : 0u;
	(void)RCC_APB2ENR; /* the enables take effect before the first access */
	clock_init();
#if SD_STM32_NV_FLASH
	(void)sd_stm32_nv_load(NV_AT, SD_CHIP_NV_BYTES);
#endif
	usart_init();
	counter_init();
	timer_start(TIM5, clk.timers / MILLIS_TICK_HZ - 1u);
	timer_last = 0;
	millis_reset();
	__asm__ volatile("cpsie i" ::: "memory");
}

void sd_chip_putc(uint8_t c)
{
	while (!(USART_SR & SR_TXE))
		;
	USART_DR = c;
}

int sd_chip_getc(void)
{
#if SD_STM32_RX_IRQ
	int c;

	if (rx_head == rx_tail)
		return -1;
	c = rx_buf[rx_tail % RX_RING];
	rx_tail++;
	/* Room again: a byte the handler left in DR comes in now. */
	USART_CR1 |= CR1_RXNEIE;
	return c;
#else
	if (!(USART_SR & SR_RXNE))
		return -1;
	return (int)(USART_DR & 0xFFu);
#endif
}

uint32_t sd_chip_count(void)
{
#if SD_STM32_DWT
	return DWT_CYCCNT;
#else
	return TIM_CNT(TIM2);
#endif
}

uint32_t sd_chip_millis(void)
{
	uint32_t v = TIM_CNT(TIM5);
	uint32_t ticks = v - timer_last;

	timer_last = v;
	return millis_add(ticks, MILLIS_TICK_HZ / 1000u);
}

/* RM0090 §24.3.1: the first word after RNGEN is not used, and each word
 * is compared with the one before; equal words (a stuck source) end the
 * output, as do the seed and clock error flags. */
uint32_t sd_chip_entropy(uint8_t *out, uint32_t len)
{
#if SD_STM32_RNG
	uint32_t n = 0, prev = 0, i;
	int first = 1;

	RNG_CR |= RNG_RNGEN;
	while (n < len) {
		uint32_t w;

		for (i = 0; i < RNG_POLLS && !(RNG_SR & (RNG_DRDY | RNG_CECS | RNG_SECS)); i++)
			;
		if ((RNG_SR & (RNG_DRDY | RNG_CECS | RNG_SECS)) != RNG_DRDY)
			break;
		w = RNG_DR;
		if (!first && w == prev)
			break;
		if (!first)
			for (i = 0; i < 4u && n < len; i++)
				out[n++] = (uint8_t)(w >> 8u * i);
		prev = w;
		first = 0;
	}
	prev = 0;
	RNG_CR &= ~RNG_RNGEN;
	return n;
#else
	(void)out;
	(void)len;
	return 0;
#endif
}

