# boards/firmware/agent.mk: the board agent's targets (agent/, noise/, seed/,
# port/host/ and their tests in test/agent/). The Makefile includes it; it
# also runs on its own:
#
#   make -C boards/firmware -f agent.mk test-agent
#
# Its variables are prefixed AGENT_ so that they do not touch the Makefile's.

AGENT_CC     ?= cc
AGENT_CFLAGS ?= -O2
AGENT_WARN   := -std=c99 -Wall -Wextra -Werror -pedantic
AGENT_SAN    := -O1 -g -fno-omit-frame-pointer -fsanitize=address,undefined -fno-sanitize-recover=all
AGENT_BUILD  := build/agent
AGENT_LIMBS  := 32 16 8
# The second configuration of the tests: the largest frames of the
# protocol (max_payload 255, so COBS blocks of 254 bytes) and a relay buffer
# for long records, as a board with more RAM than an ATmega328P would use.
AGENT_WIDE   := -DAGENT_MAX_PAYLOAD=255 -DAGENT_RELAY_LEN=600

AGENT_LIB_SRC  := $(wildcard crypto/*.c agent/*.c noise/*.c seed/*.c)
AGENT_LIB_HDR  := $(wildcard crypto/*.h agent/*.h noise/*.h seed/*.h)
AGENT_TEST_SRC := $(wildcard test/agent/*.c)
AGENT_TEST_HDR := $(wildcard test/agent/*.h)
AGENT_HOST_SRC := $(wildcard port/host/*.c)
AGENT_TEST_DEPS := $(AGENT_LIB_SRC) $(AGENT_LIB_HDR) $(AGENT_TEST_SRC) $(AGENT_TEST_HDR) agent.mk

AGENT_AVR_CC    := avr-gcc
AGENT_AVR_SIZE  := avr-size
AGENT_AVR_NM    := avr-nm
AGENT_AVR_MCU   := atmega328p
AGENT_AVR_FLAGS := -mmcu=$(AGENT_AVR_MCU) -std=c99 -Wall -Wextra -Werror -pedantic -Os \
	-ffunction-sections -fdata-sections -fstack-usage -I.
AGENT_AVR_OBJ   := $(patsubst %.c,$(AGENT_BUILD)/avr/%.o,$(AGENT_LIB_SRC))

.PHONY: help-agent test-agent host-agent size-agent-avr agent-vectors

help-agent:
	@echo "make test-agent     build the agent's host tests (noise, seed, psk, AES-GCM, the agent"
	@echo "                    over its serial line) for 32-, 16- and 8-bit limbs and with"
	@echo "                    max_payload 255, then under -fsanitize=address,undefined; run them"
	@echo "make host-agent     build $(AGENT_BUILD)/host-agent, the agent as a Linux process on a"
	@echo "                    pseudo-terminal (go test ./boards/firmware/hostagent drives it)"
	@echo "make size-agent-avr compile the agent for the ATmega328P; print avr-size per object,"
	@echo "                    the size of the agent's state and the deepest stack frames"
	@echo "make agent-vectors  regenerate test/agent/vectors.h (needs Go)"

$(AGENT_BUILD) $(AGENT_BUILD)/avr:
	mkdir -p $@

$(AGENT_BUILD)/test-%: $(AGENT_TEST_DEPS) | $(AGENT_BUILD)
	$(AGENT_CC) $(AGENT_WARN) $(AGENT_CFLAGS) -DSD_LIMB_BITS=$* -I. -Itest/agent -o $@ \
		$(AGENT_LIB_SRC) $(AGENT_TEST_SRC)

$(AGENT_BUILD)/test-san-%: $(AGENT_TEST_DEPS) | $(AGENT_BUILD)
	$(AGENT_CC) $(AGENT_WARN) $(AGENT_SAN) -DSD_LIMB_BITS=$* -I. -Itest/agent -o $@ \
		$(AGENT_LIB_SRC) $(AGENT_TEST_SRC)

$(AGENT_BUILD)/test-wide: $(AGENT_TEST_DEPS) | $(AGENT_BUILD)
	$(AGENT_CC) $(AGENT_WARN) $(AGENT_CFLAGS) $(AGENT_WIDE) -I. -Itest/agent -o $@ \
		$(AGENT_LIB_SRC) $(AGENT_TEST_SRC)

$(AGENT_BUILD)/test-san-wide: $(AGENT_TEST_DEPS) | $(AGENT_BUILD)
	$(AGENT_CC) $(AGENT_WARN) $(AGENT_SAN) $(AGENT_WIDE) -I. -Itest/agent -o $@ \
		$(AGENT_LIB_SRC) $(AGENT_TEST_SRC)

AGENT_TESTS := $(foreach l,$(AGENT_LIMBS),test-$(l) test-san-$(l)) test-wide test-san-wide

test-agent: $(addprefix $(AGENT_BUILD)/,$(AGENT_TESTS))
	@set -e; for t in $(AGENT_TESTS); do \
		printf '%-14s ' $$t; ./$(AGENT_BUILD)/$$t; \
	done

host-agent: $(AGENT_BUILD)/host-agent

$(AGENT_BUILD)/host-agent: $(AGENT_LIB_SRC) $(AGENT_LIB_HDR) $(AGENT_HOST_SRC) port/host/host.h agent.mk | $(AGENT_BUILD)
	$(AGENT_CC) $(AGENT_WARN) $(AGENT_CFLAGS) -I. -o $@ $(AGENT_LIB_SRC) $(AGENT_HOST_SRC)

# The ATmega328P: every object of the agent with avr-gcc -Os (the portable
# C field arithmetic; the Makefile's AVR_FE=asm image links its own), then
# the sizes that count against 2 KB of RAM.
$(AGENT_BUILD)/avr/%.o: %.c $(AGENT_LIB_HDR) agent.mk
	@mkdir -p $(dir $@)
	$(AGENT_AVR_CC) $(AGENT_AVR_FLAGS) -c -o $@ $<

$(AGENT_BUILD)/avr/sizes.o: test/agent/avr/sizes.c $(AGENT_LIB_HDR) agent.mk
	@mkdir -p $(dir $@)
	$(AGENT_AVR_CC) $(AGENT_AVR_FLAGS) -c -o $@ $<

# The agent linked, the port's functions left out (a chip's port adds
# them): flash and static RAM of the agent alone, with every profile, with
# noise alone, with seed and psk alone (agent.h), and noise alone without
# BENCH. The images link for the ATmega644P, the ATmega328P's AVR5 core
# with 64 KB of flash, so that one too large for 32 KB is still measured;
# compare text + data with 32,768 (32,256 under the Uno's 512-byte
# bootloader).
AGENT_AVR_BUILDS := all noise seed noise-nobench seed-nobench
AGENT_AVR_DEFS_all   :=
AGENT_AVR_DEFS_noise := -DAGENT_SEED=0 -DAGENT_PSK=0
AGENT_AVR_DEFS_seed  := -DAGENT_NOISE=0
AGENT_AVR_DEFS_noise-nobench := -DAGENT_SEED=0 -DAGENT_PSK=0 -DAGENT_BENCH=0
AGENT_AVR_DEFS_seed-nobench := -DAGENT_NOISE=0 -DAGENT_BENCH=0
AGENT_AVR_LINK_MCU := atmega644p

$(AGENT_BUILD)/avr-%/agent.elf: $(AGENT_LIB_SRC) $(AGENT_LIB_HDR) test/agent/avr/sizes.c agent.mk
	@mkdir -p $(dir $@)
	$(AGENT_AVR_CC) $(filter-out -fstack-usage,$(subst $(AGENT_AVR_MCU),$(AGENT_AVR_LINK_MCU),$(AGENT_AVR_FLAGS))) \
		$(AGENT_AVR_DEFS_$*) -Wl,--gc-sections \
		-Wl,--unresolved-symbols=ignore-all -o $@ test/agent/avr/sizes.c $(AGENT_LIB_SRC)

size-agent-avr: $(AGENT_AVR_OBJ) $(AGENT_BUILD)/avr/sizes.o \
		$(foreach b,$(AGENT_AVR_BUILDS),$(AGENT_BUILD)/avr-$(b)/agent.elf)
	@echo "== the agent linked (-Os, AVR5, no port; the portable C field arithmetic):"
	@echo "   $(AGENT_AVR_BUILDS); the ATmega328P has 32,768 bytes of flash, 2,048 of RAM"
	@$(AGENT_AVR_SIZE) $(foreach b,$(AGENT_AVR_BUILDS),$(AGENT_BUILD)/avr-$(b)/agent.elf)
	@echo "   (bss counts agent_state and the type-size objects of sizes.c once more)"
	@echo "== avr-size per object (text data bss), every profile"
	@$(AGENT_AVR_SIZE) $(AGENT_AVR_OBJ)
	@echo "== RAM the agent holds, bytes (avr-nm -S of test/agent/avr/sizes.c)"
	@$(AGENT_AVR_NM) -S --size-sort $(AGENT_BUILD)/avr/sizes.o | grep ' [BbDdC] ' | \
		while read addr size type name; do printf '%6d  %s\n' "0x$$size" "$$name"; done
	@echo "== the deepest stack frames of agent/, noise/, seed/, AES-GCM (gcc -fstack-usage)"
	@cat $(patsubst %.o,%.su,$(filter $(AGENT_BUILD)/avr/agent/% $(AGENT_BUILD)/avr/noise/% \
		$(AGENT_BUILD)/avr/seed/% $(AGENT_BUILD)/avr/crypto/aes.o $(AGENT_BUILD)/avr/crypto/gcm.o,\
		$(AGENT_AVR_OBJ))) | sort -t'	' -k2 -n -r | head -20

agent-vectors:
	cd ../.. && go run ./boards/firmware/test/agentvec -o boards/firmware/test/agent/vectors.h
