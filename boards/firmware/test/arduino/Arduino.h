/*
 * test/arduino/Arduino.h: the two functions of an Arduino core that
 * ShakedownNoise calls, on Linux, so that the library's own C++ builds with
 * g++ (make arduino-host). Not the Arduino API: only what the library uses.
 */
#ifndef SD_TEST_ARDUINO_H
#define SD_TEST_ARDUINO_H

#include <stddef.h>
#include <stdint.h>
#include <string.h>

/* Milliseconds since the first call (CLOCK_MONOTONIC). */
uint32_t millis(void);
/* Gives the CPU up for a moment, as a core's yield() runs its other tasks. */
void yield(void);

#endif /* SD_TEST_ARDUINO_H */
