# boards/firmware/cores.mk: the crypto and agent core built for the Wi-Fi
# chips, compiled and linked but never run (no emulator here models them):
#
#   ESP8266   Tensilica Xtensa LX106 (Debian's gcc-xtensa-lx106 and
#             picolibc-xtensa-lx106-elf)
#   ESP32-C3  RV32IMC (the RISC-V toolchain of the rv32 chip)
#
# The Makefile includes it; `make cores` builds, `make size-cores` prints
# text, data and bss per part (crypto/, noise/, seed/, agent/, client/)
# and of the linked images. An image is linked with --gc-sections and the
# port's functions (agent/port.h, port/net.h) left unresolved: an ESP-IDF
# or Arduino port adds them (README.md, "The Wi-Fi chips").
#
# Variables are prefixed CORE_ so that they do not touch the Makefile's.

CORE_CHIPS := esp8266 esp32c3
CORE_PARTS := crypto noise seed agent client
CORE_WARN  := -std=c99 -Wall -Wextra -Werror -pedantic -ffunction-sections -fdata-sections
# The agent as a Wi-Fi chip would carry it: network mode through
# port/net.h, and the QEMU chips' frames and relay buffer (max_payload
# 255, 600 relay bytes), which their RAM holds easily.
CORE_AGENT := -DAGENT_NETWORK=1 -DAGENT_MAX_PAYLOAD=255 -DAGENT_RELAY_LEN=600
# -O2 as the other 32-bit chips' images; CORE_OPT=-Os for the size option
# the ESP Arduino cores build with.
CORE_OPT   ?= -O2

# Xtensa LX106: literals beside the code and calls that reach any address,
# as the ESP8266 SDKs compile. Debian's picolibc-xtensa-lx106-elf puts its
# specs file where this gcc does not search, so it is named in full.
XTENSA_PICOLIBC    ?= /usr/lib/xtensa-lx106-elf/picolibc.specs
CORE_CC_esp8266    := xtensa-lx106-elf-gcc
CORE_SIZE_esp8266  := xtensa-lx106-elf-size
CORE_FLAGS_esp8266 := --specs=$(XTENSA_PICOLIBC) -mlongcalls -mtext-section-literals
CORE_LINK_esp8266  := -nostartfiles -T test/cores/esp8266.ld
# RV32IMC: the toolchain's multilib table has no rv32imc, so the link step
# takes rv32im's libgcc and picolibc (no compressed code, no atomics: both
# run on an RV32IMC core).
CORE_CC_esp32c3    := riscv64-unknown-elf-gcc
CORE_SIZE_esp32c3  := riscv64-unknown-elf-size
CORE_FLAGS_esp32c3 := --specs=picolibc.specs -march=rv32imc -mabi=ilp32
CORE_LINK_esp32c3  := -march=rv32im -mabi=ilp32 -nostartfiles -T test/cores/esp32c3.ld

CORE_SRC_crypto := $(wildcard crypto/*.c)
CORE_SRC_noise  := $(wildcard noise/*.c)
CORE_SRC_seed   := $(wildcard seed/*.c)
CORE_SRC_agent  := $(wildcard agent/*.c)
CORE_SRC_client := $(wildcard client/*.c)
CORE_SRC := $(foreach p,$(CORE_PARTS),$(CORE_SRC_$(p)))
CORE_HDR := $(wildcard crypto/*.h noise/*.h seed/*.h agent/*.h client/*.h) port/net.h \
	port/common/net_stream.h
CORE_DIR := build/core

# The objects of one chip and one part.
core-obj = $(patsubst %.c,$(CORE_DIR)/$(1)/%.o,$(CORE_SRC_$(2)))

define CORE_CHIP_RULES
$(CORE_DIR)/$(1)/%.o: %.c $(CORE_HDR) cores.mk
	@mkdir -p $$(dir $$@)
	$(CORE_CC_$(1)) $(CORE_FLAGS_$(1)) $(CORE_OPT) $(CORE_WARN) $(CORE_AGENT) -I. -c -o $$@ $$<

# The board agent: test/agent/avr/sizes.c reaches every command.
$(CORE_DIR)/$(1)/agent.elf: test/agent/avr/sizes.c test/cores/$(1).ld $(foreach p,crypto noise seed agent,$(call core-obj,$(1),$(p)))
	$(CORE_CC_$(1)) $(CORE_LINK_$(1)) $(CORE_FLAGS_$(1)) $(CORE_OPT) $(CORE_WARN) $(CORE_AGENT) -I. \
		-Wl,--gc-sections -Wl,--unresolved-symbols=ignore-all -o $$@ $$(filter-out %.ld,$$^)

# A network device without the board agent: the noise profile and MQTT
# over port/net.h, as the Arduino library carries it.
$(CORE_DIR)/$(1)/client.elf: test/client/sizes.c test/cores/$(1).ld $(CORE_DIR)/$(1)/port/common/net_stream.o \
		$(foreach p,crypto noise client,$(call core-obj,$(1),$(p)))
	$(CORE_CC_$(1)) $(CORE_LINK_$(1)) $(CORE_FLAGS_$(1)) $(CORE_OPT) $(CORE_WARN) -I. \
		-Wl,--gc-sections -Wl,--unresolved-symbols=ignore-all -o $$@ $$(filter-out %.ld,$$^)
endef
$(foreach c,$(CORE_CHIPS),$(eval $(call CORE_CHIP_RULES,$(c))))

CORE_IMAGES := $(foreach c,$(CORE_CHIPS),$(CORE_DIR)/$(c)/agent.elf $(CORE_DIR)/$(c)/client.elf)

.PHONY: cores size-cores
cores: $(CORE_IMAGES)

size-cores: cores
	@echo "== text data bss per part, objects before --gc-sections ($(CORE_OPT))"
	@$(foreach c,$(CORE_CHIPS),$(foreach p,$(CORE_PARTS),\
		$(CORE_SIZE_$(c)) -t $(call core-obj,$(c),$(p)) | \
		awk '/TOTALS/ { printf "  %-8s %-7s %7d %5d %5d\n", "$(c)", "$(p)", $$1, $$2, $$3 }';))
	@echo "== linked with --gc-sections: the board agent, the network client"
	@$(foreach c,$(CORE_CHIPS),$(CORE_SIZE_$(c)) $(CORE_DIR)/$(c)/agent.elf $(CORE_DIR)/$(c)/client.elf;)
	@echo "== of which .rodata (text above): in DRAM on the ESP8266, in flash on the ESP32-C3"
	@$(foreach c,$(CORE_CHIPS),$(foreach i,agent client,\
		$(CORE_SIZE_$(c)) -A $(CORE_DIR)/$(c)/$(i).elf | awk '/^\.rodata/ { printf "  %-8s %-7s %7d\n", "$(c)", "$(i)", $$2 }';))

# ---------------------------------------------------------------- the host
#
# The network client on Linux: port/host/net.c (port/net.h over POSIX
# sockets) under test/client/publish.c; the Go specs of package
# boards/firmware/netclient run it against the reference server.
CLIENT_HOST_SRC := $(CORE_SRC_crypto) $(CORE_SRC_noise) $(CORE_SRC_client) \
	port/common/net_stream.c port/host/net.c
CLIENT_HOST_WARN := -std=c99 -Wall -Wextra -Werror -pedantic

build/client/client-publish: test/client/publish.c $(CLIENT_HOST_SRC) $(CORE_HDR) cores.mk
	@mkdir -p $(dir $@)
	$(CC) $(CLIENT_HOST_WARN) $(SAN) -I. -o $@ $< $(CLIENT_HOST_SRC)

.PHONY: client-host
client-host: build/client/client-publish
