/*
 * port/host/main.c: the agent as a Linux process on a pseudo-terminal.
 *
 *   host-agent [-nv FILE] [-serial SN] [-board NAME]
 *
 * It opens a pseudo-terminal (posix_openpt), puts its slave side in raw
 * mode at once (so nothing the agent writes before the harness opens it is
 * echoed back), boots the agent (BOOT, reason power-on), prints the slave's
 * path on a line of standard output, and then serves the line until it is
 * killed. The agent's storage is FILE (host-agent.nv by default): a new
 * process on the same file is the same board after a power cycle. RESET
 * kind 1 reboots the agent in the process (BOOT, reason watchdog). The
 * process ends with the process that started it, so a test that dies
 * leaves no board behind.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <signal.h>
#include <string.h>
#include <sys/prctl.h>
#include <termios.h>
#include <unistd.h>

#include "agent/agent.h"
#include "host.h"

#define TICK_MS 5 /* agent_tick granularity: deadlines, stalled chunks */

static agent the_agent;

static int usage(const char *argv0)
{
	fprintf(stderr, "usage: %s [-nv FILE] [-serial SN] [-board NAME]\n", argv0);
	return 2;
}

static int open_pty(int *master_out, int *slave_out, const char **path)
{
	struct termios t;
	int m, s;

	m = posix_openpt(O_RDWR | O_NOCTTY | O_CLOEXEC);
	if (m < 0 || grantpt(m) != 0 || unlockpt(m) != 0 || (*path = ptsname(m)) == NULL)
		return -1;
	/* Hold the slave open: without a slave, reads of the master fail with
	 * EIO until the harness opens it, and the line would drop. */
	s = open(*path, O_RDWR | O_NOCTTY | O_CLOEXEC);
	if (s < 0 || tcgetattr(s, &t) != 0)
		return -1;
	cfmakeraw(&t);
	if (tcsetattr(s, TCSANOW, &t) != 0)
		return -1;
	if (fcntl(m, F_SETFL, fcntl(m, F_GETFL) | O_NONBLOCK) != 0)
		return -1;
	*master_out = m;
	*slave_out = s;
	return 0;
}

int main(int argc, char **argv)
{
	const char *nv = "host-agent.nv", *serial = NULL, *board = NULL, *path;
	uint8_t buf[256];
	struct pollfd pfd;
	int master, slave, i;
	ssize_t n;

	/* Linux: SIGTERM when the parent goes; if it already went, go too. */
	if (prctl(PR_SET_PDEATHSIG, SIGTERM) != 0 || getppid() == 1)
		return 1;
	for (i = 1; i < argc; i++) {
		if (i + 1 >= argc)
			return usage(argv[0]);
		if (strcmp(argv[i], "-nv") == 0)
			nv = argv[++i];
		else if (strcmp(argv[i], "-serial") == 0)
			serial = argv[++i];
		else if (strcmp(argv[i], "-board") == 0)
			board = argv[++i];
		else
			return usage(argv[0]);
	}
	if (host_port_open(nv, board, serial) != 0) {
		perror("host-agent: opening the storage file");
		return 1;
	}
	if (open_pty(&master, &slave, &path) != 0) {
		perror("host-agent: opening a pseudo-terminal");
		return 1;
	}
	host_port_set_output(master);
	agent_boot(&the_agent, BP_BOOT_POWER_ON);
	printf("%s\n", path);
	fflush(stdout);

	pfd.fd = master;
	pfd.events = POLLIN;
	for (;;) {
		if (poll(&pfd, 1, TICK_MS) > 0) {
			n = read(master, buf, sizeof buf);
			if (n > 0 && (agent_rx(&the_agent, buf, (size_t)n) & AGENT_ACT_REBOOT))
				agent_boot(&the_agent, BP_BOOT_WATCHDOG);
			if (n < 0 && errno != EAGAIN && errno != EINTR && errno != EIO) {
				perror("host-agent: reading the terminal");
				break;
			}
		}
		agent_tick(&the_agent);
	}
	close(slave);
	close(master);
	return 1;
}
