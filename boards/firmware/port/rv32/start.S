/*
 * port/rv32/start.S: reset entry for QEMU's sifive_e. QEMU's mask ROM
 * jumps to 0x20400000, where link.ld puts _start. Sets gp and sp, points
 * mtvec at the trap handler, copies .data, clears .bss, then calls
 * sd_chip_start (chip.c), which runs main.
 */
	.section .sd_reset, "ax"
	.global	_start
_start:
	.option push
	.option norelax
	la	gp, __global_pointer$
	.option pop
	la	sp, __stack_top
	la	t0, trap_entry
	csrw	mtvec, t0

	la	a0, __data_load
	la	a1, __data_start
	la	a2, __data_end
1:	bgeu	a1, a2, 2f
	lw	t0, 0(a0)
	sw	t0, 0(a1)
	addi	a0, a0, 4
	addi	a1, a1, 4
	j	1b
2:	la	a1, __bss_start
	la	a2, __bss_end
3:	bgeu	a1, a2, 4f
	sw	zero, 0(a1)
	addi	a1, a1, 4
	j	3b
4:	call	sd_chip_start
5:	j	5b

	/* mtvec in direct mode needs a 4-byte aligned base (Privileged
	 * Architecture §3.1.7). */
	.balign	4
trap_entry:
	la	sp, __stack_top
	call	sd_chip_trap
6:	j	6b
