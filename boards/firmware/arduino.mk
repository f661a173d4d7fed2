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
# The library's src/crypto, src/noise, src/client and src/port/net.h are
# symbolic links to the firmware's folders: one copy of the code.
# `make arduino-dist` copies the library with the links resolved, for an
# archive the Arduino IDE or PlatformIO installs.

ARDUINO_LIB   := arduino/ShakedownNoise
ARDUINO_DIR   ?= /usr/share/arduino
ARDUINO_MK    ?= $(ARDUINO_DIR)/Arduino.mk
ARDUINO_UNO   := $(abspath build/arduino-uno)
ARDUINO_SRC   := $(shell find -L $(ARDUINO_LIB) -type f 2>/dev/null)

.PHONY: arduino-uno arduino-host arduino-dist

# arduino-mk builds the sketch of the folder it runs in; the library is
# found through USER_LIB_PATH, EEPROM in the core's own libraries. The
# core's WString.cpp (1.8.7) uses DECIMAL_DIG, which the float.h of
# Debian's avr-gcc 5.4 defines for C99 and C11 but not for C++: the C++
# flags give it the compiler's own value.
$(ARDUINO_UNO)/Publish.hex: $(ARDUINO_SRC) arduino.mk
	$(MAKE) -C $(ARDUINO_LIB)/examples/Publish -f $(ARDUINO_MK) \
		ARDUINO_DIR=$(ARDUINO_DIR) BOARD_TAG=uno OBJDIR=$(ARDUINO_UNO) \
		USER_LIB_PATH=$(abspath arduino) ARDUINO_LIBS="ShakedownNoise EEPROM" \
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
	$(CXX) -std=c++11 -Wall -Wextra -Werror -pedantic $(SAN) -Itest/arduino -I$(ARDUINO_LIB)/src -o $@ \
		test/arduino/host.cpp $(ARDUINO_LIB)/src/ShakedownNoise.cpp $(ARDUINO_HOST_OBJ)

arduino-host: $(ARDUINO_HOST)/arduino-host

arduino-dist:
	rm -rf build/dist/ShakedownNoise && mkdir -p build/dist
	cp -RL $(ARDUINO_LIB) build/dist/ShakedownNoise
	@echo "build/dist/ShakedownNoise: the library with its links resolved"

# The example provisioned and run: UNO_PROVISION names a
# shakedown_provision.h (the Publish example's header comment), copied to
# the include path of a build of its own; the netclient specs run the
# image under simavr with its serial port bridged to a server.
UNO_TEST := $(abspath build/arduino-uno-test)

.PHONY: arduino-uno-test
arduino-uno-test:
	@test -f "$(UNO_PROVISION)" || { echo "UNO_PROVISION=<shakedown_provision.h> is needed" >&2; exit 2; }
	mkdir -p $(UNO_TEST)/provision
	cp $(UNO_PROVISION) $(UNO_TEST)/provision/shakedown_provision.h
	$(MAKE) -C $(ARDUINO_LIB)/examples/Publish -f $(ARDUINO_MK) \
		ARDUINO_DIR=$(ARDUINO_DIR) BOARD_TAG=uno OBJDIR=$(UNO_TEST) \
		USER_LIB_PATH=$(abspath arduino) ARDUINO_LIBS="ShakedownNoise EEPROM" \
		TARGET=Publish ARDUINO_QUIET=1 \
		CXXFLAGS_STD="-std=gnu++11 -DDECIMAL_DIG=__DECIMAL_DIG__ -I$(UNO_TEST)/provision" \
		>$(UNO_TEST).log 2>&1 || { cat $(UNO_TEST).log; exit 1; }
	@avr-size -C --mcu=atmega328p $(UNO_TEST)/Publish.elf | grep -E 'Program|Data'
