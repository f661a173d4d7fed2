/*
 * test/agent/avr/sizes.c: what the agent costs on the ATmega328P, for
 * `make size-agent-avr` (built, never run). The objects below give the
 * sizes of the agent's RAM-holding types (avr-nm -S); main() reaches every
 * command through agent_rx, so that an image linked with --gc-sections
 * holds all the agent's code. The port's functions (agent/port.h) are left
 * unresolved: a chip's port adds them.
 */
#include "agent/agent.h"

agent agent_state;                 /* everything the agent holds */
agent_secrets agent_state_secrets; /* of which the secrets of a run */
uint8_t agent_state_relay[AGENT_RELAY_LEN];
uint8_t agent_state_rx[AGENT_BODY_LEN];
uint8_t agent_state_tx[AGENT_BODY_LEN];
sd_noise_ik agent_state_noise_handshake;
sd_gcm_session agent_state_gcm_session;

/* A byte from nowhere the compiler can see, so nothing folds away. */
static volatile uint8_t uart;

int main(void)
{
	uint8_t b;

	agent_boot(&agent_state, BP_BOOT_POWER_ON);
	for (;;) {
		b = uart;
		if (agent_rx(&agent_state, &b, 1) & AGENT_ACT_REBOOT)
			agent_boot(&agent_state, BP_BOOT_WATCHDOG);
		agent_tick(&agent_state);
	}
}
