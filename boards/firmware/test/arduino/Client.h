/*
 * test/arduino/Client.h: Arduino's Client interface (the core's Client.h,
 * without its Stream base and the IPAddress overload) for the host build
 * of ShakedownNoise: the virtual functions the library calls, with the
 * core's signatures.
 */
#ifndef SD_TEST_CLIENT_H
#define SD_TEST_CLIENT_H

#include "Arduino.h"

class Client {
public:
	virtual ~Client() {}
	virtual int connect(const char *host, uint16_t port) = 0;
	virtual size_t write(const uint8_t *buf, size_t size) = 0;
	virtual int available() = 0;
	virtual int read(uint8_t *buf, size_t size) = 0;
	virtual void stop() = 0;
	virtual uint8_t connected() = 0;
};

#endif /* SD_TEST_CLIENT_H */
