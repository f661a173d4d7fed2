# boards/firmware/arduino.mk: the Arduino library arduino/ShakedownNoise,
# built two ways (the Makefile includes it):
#
#   make arduino-uno   the Publish example for an Arduino Uno with Debian's
#                      arduino-core-avr and arduino-mk; prints its flash and
#                      static RAM
#   make arduino-host  the library's C++ on Linux with g++, a POSIX Client
#                      (port/net.h) in place of WiFiClient: the Go specs of
#                      boards/firmware/netclient run it against the server
#
# The repository holds the library's own files only (ShakedownNoise.h and
# .cpp, the manifests, the example); `make arduino-lib` assembles the
# whole library in build/arduino/ShakedownNoise, copying the firmware's
# crypto/, noise/, client/ and port/net.h into its src/ at build time: one
# hand-maintained copy of the code. That folder is what the Arduino IDE
# (Sketch > Include Library > Add .ZIP Library, once zipped) or
# PlatformIO (lib_deps = file://...) installs.

ARDUINO_LIB   := arduino/ShakedownNoise
ARDUINO_STAGE := build/arduino
ARDUINO_BUILT := $(ARDUINO_STAGE)/ShakedownNoise
ARDUINO_DIR   ?= /usr/share/arduino
ARDUINO_MK    ?= $(ARDUINO_DIR)/Arduino.mk
ARDUINO_UNO   := $(abspath build/arduino-uno)
ARDUINO_CORE  := $(wildcard crypto/*.c crypto/*.h noise/*.c noise/*.h client/*.c client/*.h) port/net.h
ARDUINO_SRC   := $(shell find $(ARDUINO_LIB) -type f 2>/dev/null) $(ARDUINO_CORE)

.PHONY: arduino-lib arduino-uno arduino-host arduino-dist

$(ARDUINO_BUILT)/.built: $(ARDUINO_SRC) arduino.mk
	rm -rf $(ARDUINO_BUILT)
	mkdir -p $(ARDUINO_STAGE)
	cp -R $(ARDUINO_LIB) $(ARDUINO_BUILT)
	for f in $(ARDUINO_CORE); do mkdir -p $(ARDUINO_BUILT)/src/$$(dirname $$f) && cp $$f $(ARDUINO_BUILT)/src/$$f; done
	touch $@

arduino-lib: $(ARDUINO_BUILT)/.built

# arduino-mk builds the sketch of the folder it runs in; the library is
# found through USER_LIB_PATH, EEPROM in the core's own libraries. The
# core's WString.cpp (1.8.7) uses DECIMAL_DIG, which the float.h of
# Debian's avr-gcc 5.4 defines for C99 and C11 but not for C++: the C++
# flags give it the compiler's own value.
$(ARDUINO_UNO)/Publish.hex: $(ARDUINO_BUILT)/.built
	$(MAKE) -C $(ARDUINO_BUILT)/examples/Publish -f $(ARDUINO_MK) \
		ARDUINO_DIR=$(ARDUINO_DIR) BOARD_TAG=uno OBJDIR=$(ARDUINO_UNO) \
		USER_LIB_PATH=$(abspath $(ARDUINO_STAGE)) ARDUINO_LIBS="ShakedownNoise EEPROM" \
		TARGET=Publish ARDUINO_QUIET=1 CXXFLAGS_STD="-std=gnu++11 -DDECIMAL_DIG=__DECIMAL_DIG__" >$(ARDUINO_UNO).log 2>&1 || \
		{ cat $(ARDUINO_UNO).log; exit 1; }

arduino-uno: $(ARDUINO_UNO)/Publish.hex
	@echo "== the Publish example for the Arduino Uno (avr-gcc, arduino-mk)"
	@avr-size -C --mcu=atmega328p $(ARDUINO_UNO)/Publish.elf | grep -E 'Program|Data'

# The host build: the library's C sources with cc, its C++ and the test's
# with g++, the ASan and UBSan of the Makefile's tests.
ARDUINO_HOST := build/arduino-host
ARDUINO_HOST_C := $(wildcard crypto/*.c noise/*.c client/*.c) port/host/net.c
ARDUINO_HOST_OBJ := $(patsubst %.c,$(ARDUINO_HOST)/%.o,$(ARDUINO_HOST_C))

$(ARDUINO_HOST)/%.o: %.c $(wildcard crypto/*.h noise/*.h client/*.h) port/net.h arduino.mk
	@mkdir -p $(dir $@)
	$(CC) -std=c99 -Wall -Wextra -Werror -pedantic $(SAN) -I. -c -o $@ $<

$(ARDUINO_HOST)/arduino-host: test/arduino/host.cpp test/arduino/Arduino.h test/arduino/Client.h \
		$(ARDUINO_LIB)/src/ShakedownNoise.cpp $(ARDUINO_LIB)/src/ShakedownNoise.h $(ARDUINO_HOST_OBJ)
	$(CXX) -std=c++11 -Wall -Wextra -Werror -pedantic $(SAN) -Itest/arduino -I$(ARDUINO_LIB)/src -I. -o $@ \
		test/arduino/host.cpp $(ARDUINO_LIB)/src/ShakedownNoise.cpp $(ARDUINO_HOST_OBJ)

arduino-host: $(ARDUINO_HOST)/arduino-host

arduino-dist: arduino-lib
	@echo "$(ARDUINO_BUILT): the whole library, to zip or install"

# The example provisioned and run: UNO_PROVISION names a
# shakedown_provision.h (the Publish example's header comment), copied to
# the include path of a build of its own; the netclient specs run the
# image under simavr with its serial port bridged to a server.
UNO_TEST := $(abspath build/arduino-uno-test)

.PHONY: arduino-uno-test
arduino-uno-test: $(ARDUINO_BUILT)/.built
	@test -f "$(UNO_PROVISION)" || { echo "UNO_PROVISION=<shakedown_provision.h> is needed" >&2; exit 2; }
	mkdir -p $(UNO_TEST)/provision
	cp $(UNO_PROVISION) $(UNO_TEST)/provision/shakedown_provision.h
	$(MAKE) -C $(ARDUINO_BUILT)/examples/Publish -f $(ARDUINO_MK) \
		ARDUINO_DIR=$(ARDUINO_DIR) BOARD_TAG=uno OBJDIR=$(UNO_TEST) \
		USER_LIB_PATH=$(abspath $(ARDUINO_STAGE)) ARDUINO_LIBS="ShakedownNoise EEPROM" \
		TARGET=Publish ARDUINO_QUIET=1 \
		CXXFLAGS_STD="-std=gnu++11 -DDECIMAL_DIG=__DECIMAL_DIG__ -I$(UNO_TEST)/provision" \
		>$(UNO_TEST).log 2>&1 || { cat $(UNO_TEST).log; exit 1; }
	@avr-size -C --mcu=atmega328p $(UNO_TEST)/Publish.elf | grep -E 'Program|Data'
