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
AGENT_AVR_OBJCOPY := avr-objcopy
AGENT_AVR_MCU   := atmega328p
AGENT_AVR_FLAGS := -mmcu=$(AGENT_AVR_MCU) $(AGENT_WARN) -Os \
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

# The host port has a network (port/host/net.c): network mode is built in.
$(AGENT_BUILD)/host-agent: $(AGENT_LIB_SRC) $(AGENT_LIB_HDR) $(AGENT_HOST_SRC) port/host/host.h port/net.h agent.mk | $(AGENT_BUILD)
	$(AGENT_CC) $(AGENT_WARN) $(AGENT_CFLAGS) -DAGENT_NETWORK=1 -I. -o $@ $(AGENT_LIB_SRC) $(AGENT_HOST_SRC)

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

# ---------------------------------------------------------------- the chips
#
# The agent on the emulated chips, one image each, every profile the
# chip can hold (agent.h), port/<chip>/ and port/common/agent_main.c for
# agent/port.h, port/common/rng.c for port_random:
#
#   build/agent-atmega328p.elf  ATmega328P (simavr; an Arduino Uno)
#   build/agent-cortex-m3.elf   Cortex-M3 (QEMU mps2-an385)
#   build/agent-rv32.elf        RV32IMAC (QEMU sifive_e)
#   build/agent-nrf51.elf       nRF51822, Cortex-M0 (QEMU microbit; a BBC micro:bit)
#   build/agent-stm32f4.elf     STM32F405 (QEMU netduinoplus2)
#
# and, built by `make agents` but not run here, build/agent-nucleo-f401re.elf
# for ST's NUCLEO-F401RE (make flash-nucleo-f401re).
#
# Each image has its own random seed (port/common/rng.h), generated into
# build/<chip>/rng_seed.h the first time from the host's random source, or
# set with RNG_SEED=<64 hex digits>; `make clean` makes new ones. The
# serial number INFO reports is AGENT_SERIAL_<chip>, fixed at build time.

AGENT_CHIPS := atmega328p cortex-m3 rv32 nrf51 stm32f4
AGENT_IMAGES := $(foreach c,$(AGENT_CHIPS),build/agent-$(c).elf)
AGENT_PORT_SRC := port/common/agent_main.c port/common/rng.c
AGENT_PORT_HDR := port/chip.h port/common/rng.h port/common/ramchip.inc port/common/cortexm.inc \
	port/common/cortexm_reset.inc
AGENT_SERIAL_atmega328p ?= SIMAVR-ATMEGA328P-0001
AGENT_SERIAL_cortex-m3 ?= QEMU-MPS2-AN385-0001
AGENT_SERIAL_rv32 ?= QEMU-SIFIVE-E-0001
AGENT_SERIAL_nrf51 ?= QEMU-MICROBIT-0001
AGENT_SERIAL_stm32f4 ?= QEMU-NETDUINOPLUS2-0001
AGENT_SERIAL_nucleo-f401re ?= NUCLEO-F401RE-0001
AGENT_BOARD_atmega328p ?= Arduino Uno (simavr)
AGENT_BOARD_cortex-m3 ?= QEMU mps2-an385
AGENT_BOARD_rv32 ?= QEMU sifive_e
AGENT_BOARD_nrf51 ?= QEMU microbit
AGENT_BOARD_stm32f4 ?= QEMU netduinoplus2
AGENT_BOARD_nucleo-f401re ?= ST NUCLEO-F401RE
RNG_SEED ?=

# The ATmega328P image: noise, seed and psk with BENCH and X25519's
# assembly field arithmetic fit 32 KB less the Uno's 512-byte bootloader
# only with link-time optimisation, call prologues, linker relaxation,
# less inlining (which also keeps big locals out of the frames that stay
# on the stack) and the compact Poly1305 and SHA-256 (SD_CRYPTO_SMALL):
# README.md, "The ATmega328P image".
AGENT_AVR_CHIP_FLAGS := -mmcu=$(AGENT_AVR_MCU) $(AGENT_WARN) -Os \
	-flto -mcall-prologues -mrelax -mstrict-X --param max-inline-insns-auto=4 \
	--param large-stack-frame=64 --param large-stack-frame-growth=10 \
	-fno-inline-functions-called-once -fno-tree-loop-im -fno-gcse -fno-move-loop-invariants \
	-ffunction-sections -fdata-sections \
	-DSD_CRYPTO_SMALL -DSD_FE25519_AVR -I. -Iport/avr -Iport/common -Ibuild/atmega328p
AGENT_AVR_CHIP_SRC := port/avr/chip.c port/avr/fe25519.S
AGENT_CM3_CHIP_FLAGS := $(PICOLIBC) -mcpu=cortex-m3 -mthumb -O2 $(CHIP_WARN) \
	-I. -Iport/cortex-m3 -Iport/common -Ibuild/cortex-m3 $(AGENT_WIDE)
AGENT_CM3_CHIP_SRC := port/cortex-m3/chip.c port/cortex-m3/startup.c
AGENT_NRF51_CHIP_FLAGS := $(PICOLIBC) -mcpu=cortex-m0 -mthumb -O2 $(CHIP_WARN) \
	-I. -Iport/nrf51 -Iport/common -Ibuild/nrf51 $(AGENT_WIDE)
# The STM32F4 port (port/stm32f4/chip_port.h) for its two boards: the
# netduinoplus2 under QEMU, and the NUCLEO-F401RE with NV in flash.
AGENT_STM_CHIP_FLAGS = $(PICOLIBC) $(STM_ARCH) -O2 $(CHIP_WARN) \
	-I. -Iport/stm32f4 -Iport/common -Ibuild/$(1) $(AGENT_WIDE)
AGENT_STM_CHIP_SRC := port/stm32f4/chip.c port/stm32f4/startup.c
AGENT_STM_CHIP_DEPS := $(AGENT_STM_CHIP_SRC) port/stm32f4/chip_port.h port/stm32f4/sections.ld
AGENT_RV32_CHIP_FLAGS := $(PICOLIBC) -march=rv32imac_zicsr -mabi=ilp32 -O2 $(CHIP_WARN) \
	-I. -Iport/rv32 -Iport/common -Ibuild/rv32 $(AGENT_WIDE)

agent-strings = -DAGENT_SERIAL='"$(AGENT_SERIAL_$(1))"' -DAGENT_BOARD='"$(AGENT_BOARD_$(1))"'

.PHONY: agents size-agents

# A new seed only when there is none: rebuilding keeps the image's seed
# (precious: make must not delete it as an intermediate file).
.PRECIOUS: build/%/rng_seed.h
build/%/rng_seed.h:
	@mkdir -p $(dir $@)
	@seed='$(RNG_SEED)'; \
	if [ -z "$$seed" ]; then seed=$$(od -An -N32 -tx1 /dev/urandom | tr -d ' \n'); fi; \
	if ! printf '%s' "$$seed" | grep -Eq '^[0-9a-fA-F]{64}$$'; then \
		echo "RNG_SEED must be 64 hex digits" >&2; exit 1; fi; \
	{ echo '/* The random generator seed of this image (port/common/rng.h). Secret: */'; \
	  echo '/* whoever reads it can predict the ephemeral keys. Made by make. */'; \
	  printf '#define RNG_SEED {'; printf '%s' "$$seed" | sed -e 's/../0x&, /g' -e 's/, $$//'; \
	  echo '}'; } >$@.tmp && mv $@.tmp $@

AGENT_CHIP_DEPS := $(AGENT_LIB_SRC) $(AGENT_LIB_HDR) $(AGENT_PORT_SRC) $(AGENT_PORT_HDR) agent.mk

build/agent-atmega328p.elf: $(AGENT_CHIP_DEPS) $(AGENT_AVR_CHIP_SRC) port/avr/fe25519_reduce.inc port/avr/chip_port.h build/atmega328p/rng_seed.h
	$(AGENT_AVR_CC) $(AGENT_AVR_CHIP_FLAGS) $(call agent-strings,atmega328p) -Wl,--gc-sections \
		-o $@ $(AGENT_LIB_SRC) $(AGENT_PORT_SRC) $(AGENT_AVR_CHIP_SRC)

build/agent-cortex-m3.elf: $(AGENT_CHIP_DEPS) $(AGENT_CM3_CHIP_SRC) port/cortex-m3/chip_port.h port/cortex-m3/link.ld build/cortex-m3/rng_seed.h
	$(CM3_CC) $(AGENT_CM3_CHIP_FLAGS) $(call agent-strings,cortex-m3) $(CM3_LINK) \
		-o $@ $(AGENT_LIB_SRC) $(AGENT_PORT_SRC) $(AGENT_CM3_CHIP_SRC)

build/agent-nrf51.elf: $(AGENT_CHIP_DEPS) $(NRF51_PORT) port/nrf51/chip_port.h port/nrf51/link.ld build/nrf51/rng_seed.h
	$(NRF51_CC) $(AGENT_NRF51_CHIP_FLAGS) $(call agent-strings,nrf51) $(NRF51_LINK) \
		-o $@ $(AGENT_LIB_SRC) $(AGENT_PORT_SRC) $(NRF51_PORT)
build/agent-stm32f4.elf: $(AGENT_CHIP_DEPS) $(AGENT_STM_CHIP_DEPS) port/stm32f4/link-netduinoplus2.ld build/stm32f4/rng_seed.h
	$(CM3_CC) $(call AGENT_STM_CHIP_FLAGS,stm32f4) $(call agent-strings,stm32f4) \
		-nostartfiles -T port/stm32f4/link-netduinoplus2.ld -Wl,--gc-sections \
		-o $@ $(AGENT_LIB_SRC) $(AGENT_PORT_SRC) $(AGENT_STM_CHIP_SRC)

build/agent-nucleo-f401re.elf: $(AGENT_CHIP_DEPS) $(AGENT_STM_CHIP_DEPS) port/stm32f4/nv_flash.c port/stm32f4/link-nucleo-f401re.ld build/nucleo-f401re/rng_seed.h
	$(CM3_CC) $(call AGENT_STM_CHIP_FLAGS,nucleo-f401re) -DSD_STM32_NUCLEO_F401RE \
		$(call agent-strings,nucleo-f401re) \
		-nostartfiles -T port/stm32f4/link-nucleo-f401re.ld -Wl,--gc-sections \
		-o $@ $(AGENT_LIB_SRC) $(AGENT_PORT_SRC) $(AGENT_STM_CHIP_SRC) port/stm32f4/nv_flash.c

# RV32 compiles and links in two steps (see RV32_LINK in the Makefile).
build/rv32/agent/%.o: %.c $(AGENT_CHIP_DEPS) port/rv32/chip_port.h build/rv32/rng_seed.h
	@mkdir -p $(dir $@)
	$(RV32_CC) $(AGENT_RV32_CHIP_FLAGS) $(call agent-strings,rv32) -c -o $@ $<

AGENT_RV32_OBJ := $(patsubst %.c,build/rv32/agent/%.o,$(AGENT_LIB_SRC) $(AGENT_PORT_SRC) port/rv32/chip.c)

build/agent-rv32.elf: $(AGENT_RV32_OBJ) build/rv32/start.o port/rv32/link.ld
	$(RV32_CC) $(RV32_LINK) -o $@ $(filter %.o,$^)

# The NUCLEO-F401RE image is built with the others so that it keeps
# compiling; nothing here runs it.
agents: $(AGENT_IMAGES) build/agent-nucleo-f401re.elf build/simavr-run

size-agents: $(AGENT_IMAGES)
	@echo "== the agent images: text + data is flash, data + bss static RAM"
	@$(AGENT_AVR_SIZE) $(AGENT_IMAGES)
	@echo "== ATmega328P: 32,768 B of flash (32,256 under the Uno's Optiboot), 2,048 B of RAM"
	@$(AGENT_AVR_SIZE) -C --mcu=$(AGENT_AVR_MCU) build/agent-atmega328p.elf | grep -E 'Program|Data'

# An Arduino Uno through its Optiboot bootloader (avrdude's "arduino"
# programmer at 115200 baud, flash only: the fuses and the bootloader stay
# as they are). -D: Optiboot erases each page as it writes it.
PORT ?= /dev/ttyACM0
AVRDUDE ?= avrdude

# The NUCLEO-F401RE through its on-board ST-LINK with OpenOCD, which
# writes the image's sections only: sector 1, NV, keeps what the board
# stored (README.md, "Real boards").
OPENOCD ?= openocd

.PHONY: nucleo-f401re flash-nucleo-f401re
nucleo-f401re: build/agent-nucleo-f401re.elf
	$(CM3_SIZE) build/agent-nucleo-f401re.elf

flash-nucleo-f401re: build/agent-nucleo-f401re.elf
	$(OPENOCD) -f board/st_nucleo_f4.cfg -c "program build/agent-nucleo-f401re.elf verify reset exit"

.PHONY: flash-uno
flash-uno: build/agent-atmega328p.elf
	$(AGENT_AVR_OBJCOPY) -O ihex -R .eeprom build/agent-atmega328p.elf build/agent-atmega328p.hex
	$(AVRDUDE) -p atmega328p -c arduino -P $(PORT) -b 115200 -D \
		-U flash:w:build/agent-atmega328p.hex:i
