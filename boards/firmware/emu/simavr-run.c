/*
 * emu/simavr-run.c: runs an AVR image under simavr (libsimavr) as an
 * emulated board.
 *
 *   simavr-run [-m MCU] [-f HZ] [-t SECONDS] [-c CYCLES] IMAGE.elf
 *
 * USART0 is bridged to a pseudo-terminal (simavr's uart_pty part), which
 * the harness opens like a real board's serial port. The firmware marks
 * operations by writing GPIOR0 (port/avr/chip_port.h, sd_chip_mark): an id
 * 0x00-0x7E starts operation id, id | 0x80 ends it, 0xFF ends the run with
 * the exit code in GPIOR1. simavr is cycle-accurate, so the cycles between
 * two markers are exactly the chip's.
 *
 * Lines on standard output, each flushed at once (simavr's own messages
 * may come in between):
 *
 *   pid <process id>            first: stop the board with kill(pid)
 *   pty <slave path>            the serial port to open
 *   mark <id> <cycles>          an operation ended
 *   exit <code> <cycles>        the firmware ended (exit status: code)
 *   timeout <cycles>            -t or -c ran out (exit status 124)
 *   crashed <cycles>            the simulated core stopped (exit status 3)
 *
 * Exit status 2 for bad usage or an unreadable image; SIGTERM and SIGINT
 * stop the run with status 143. -t 0 and -c 0 (the defaults) mean no
 * limit.
 */
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "sim_avr.h"
#include "sim_elf.h"
#include "uart_pty.h"

/* ATmega328P datasheet §7.4.9-7.4.11 and §36 (register summary): GPIOR0 is
 * I/O 0x1E, data address 0x3E; GPIOR1 is I/O 0x2A, data address 0x4A. */
#define GPIOR0_ADDR 0x3E
#define GPIOR1_ADDR 0x4A
#define MARK_END 0x80u
#define MARK_EXIT 0xFFu
#define MAX_OPS 0x7F

#define EXIT_USAGE 2
#define EXIT_CRASHED 3
#define EXIT_TIMEOUT 124
#define EXIT_SIGNAL 143
#define CHECK_EVERY 4096 /* avr_run steps between looks at the clock */

static const struct timespec flush_wait = {0, 200 * 1000 * 1000};

static avr_cycle_count_t started[MAX_OPS];
static volatile sig_atomic_t stop_signal;
static int exited = -1;
static uint8_t exit_code;

/* While the firmware sleeps (SLEEP until an interrupt) simavr skips the
 * simulated time to the next timer event and its default callback sleeps
 * the wall-clock time that stands for. After a long computation, which
 * runs simulated seconds in a fraction of the wall time, that callback was
 * seen to stall the board for about the difference (15 s after a P-256
 * scalar multiplication), with bytes from the host waiting. Each sleep
 * here lasts at most SLEEP_MAX_US: the simulated clock runs ahead of the
 * wall clock while the firmware idles, and an idle board costs a few per
 * cent of a core instead of a whole one. */
#define SLEEP_MAX_US 500u

static void sleep_short(avr_t *avr, avr_cycle_count_t how_long)
{
	uint32_t usec = avr_pending_sleep_usec(avr, how_long);

	if (usec > SLEEP_MAX_US)
		usec = SLEEP_MAX_US;
	if (usec > 0)
		usleep(usec);
}

static void on_signal(int sig)
{
	stop_signal = sig;
}

static void on_gpior0(avr_t *avr, avr_io_addr_t addr, uint8_t v, void *param)
{
	(void)param;
	avr->data[addr] = v;
	if (v == MARK_EXIT) {
		exited = 1;
		exit_code = avr->data[GPIOR1_ADDR];
	} else if (v & MARK_END) {
		printf("mark %u %llu\n", v & ~MARK_END & 0xFFu,
		       (unsigned long long)(avr->cycle - started[v & ~MARK_END]));
		fflush(stdout);
	} else {
		started[v] = avr->cycle;
	}
}

static void usage(const char *argv0)
{
	fprintf(stderr,
		"usage: %s [-m MCU] [-f HZ] [-t SECONDS] [-c CYCLES] IMAGE.elf\n",
		argv0);
	exit(EXIT_USAGE);
}

int main(int argc, char **argv)
{
	const char *mcu = "atmega328p";
	unsigned long hz = 16000000UL;
	unsigned long long max_cycles = 0;
	double max_seconds = 0;
	elf_firmware_t fw;
	uart_pty_t pty;
	avr_t *avr;
	struct timespec t0, now;
	unsigned steps = 0;
	int opt, state, status;

	while ((opt = getopt(argc, argv, "m:f:t:c:")) != -1) {
		switch (opt) {
		case 'm': mcu = optarg; break;
		case 'f': hz = strtoul(optarg, NULL, 10); break;
		case 't': max_seconds = strtod(optarg, NULL); break;
		case 'c': max_cycles = strtoull(optarg, NULL, 10); break;
		default: usage(argv[0]);
		}
	}
	if (optind != argc - 1 || hz == 0)
		usage(argv[0]);

	memset(&fw, 0, sizeof fw);
	if (elf_read_firmware(argv[optind], &fw) != 0) {
		fprintf(stderr, "simavr-run: cannot read %s\n", argv[optind]);
		return EXIT_USAGE;
	}
	avr = avr_make_mcu_by_name(mcu);
	if (avr == NULL) {
		fprintf(stderr, "simavr-run: unknown MCU %s\n", mcu);
		return EXIT_USAGE;
	}
	avr_init(avr);
	avr->frequency = (uint32_t)hz;
	avr_load_firmware(avr, &fw);
	avr->sleep = sleep_short;
	avr_register_io_write(avr, GPIOR0_ADDR, on_gpior0, NULL);

	signal(SIGTERM, on_signal);
	signal(SIGINT, on_signal);
	printf("pid %ld\n", (long)getpid());
	fflush(stdout);
	memset(&pty, 0, sizeof pty);
	uart_pty_init(avr, &pty);
	uart_pty_connect(&pty, '0');
	printf("pty %s\n", pty.port[0].slavename);
	fflush(stdout);

	clock_gettime(CLOCK_MONOTONIC, &t0);
	for (;;) {
		state = avr_run(avr);
		if (exited >= 0) {
			printf("exit %u %llu\n", exit_code,
			       (unsigned long long)avr->cycle);
			status = exit_code;
			break;
		}
		if (state == cpu_Done || state == cpu_Crashed) {
			/* cpu_Done: the core slept with interrupts off before
			 * reporting an exit code. */
			printf("crashed %llu\n", (unsigned long long)avr->cycle);
			status = EXIT_CRASHED;
			break;
		}
		if (stop_signal) {
			status = EXIT_SIGNAL;
			break;
		}
		if (max_cycles != 0 && avr->cycle >= max_cycles) {
			printf("timeout %llu\n", (unsigned long long)avr->cycle);
			status = EXIT_TIMEOUT;
			break;
		}
		if (max_seconds > 0 && ++steps % CHECK_EVERY == 0) {
			clock_gettime(CLOCK_MONOTONIC, &now);
			if ((double)(now.tv_sec - t0.tv_sec) +
				    (double)(now.tv_nsec - t0.tv_nsec) / 1e9 >
			    max_seconds) {
				printf("timeout %llu\n",
				       (unsigned long long)avr->cycle);
				status = EXIT_TIMEOUT;
				break;
			}
		}
	}
	fflush(stdout);
	/* Give the pty thread a moment to pass on the last bytes, then end
	 * the process with it (joining it can block on a pty nobody reads). */
	nanosleep(&flush_wait, NULL);
	_exit(status);
}
