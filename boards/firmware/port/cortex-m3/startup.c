/*
 * port/cortex-m3/startup.c: the vector table, and the reset handler of
 * port/common/cortexm_reset.inc.
 */
#include "port/common/cortexm_reset.inc"

void sd_systick_handler(void);

/* 16 system vectors: stack, reset, NMI, HardFault, MemManage, BusFault,
 * UsageFault, 4 reserved, SVCall, DebugMonitor, reserved, PendSV,
 * SysTick. The AN385's external interrupts stay disabled. */
__attribute__((section(".vectors"), used)) static const vector vectors[16] = {
	(vector)(uintptr_t)__stack_top,
	sd_reset_handler,
	sd_fault_handler,
	sd_fault_handler,
	sd_fault_handler,
	sd_fault_handler,
	sd_fault_handler,
	0,
	0,
	0,
	0,
	sd_fault_handler,
	sd_fault_handler,
	0,
	sd_fault_handler,
	sd_systick_handler,
};
