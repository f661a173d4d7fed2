/*
 * agent/proto.h: the wire constants of the board protocol, version 1
 * (docs/board-protocol.md). Spec constants only; the agent's own sizes
 * (its payload limit, its buffers) are in agent.h.
 */
#ifndef SD_AGENT_PROTO_H
#define SD_AGENT_PROTO_H

#define BP_VERSION 1
#define BP_DELIMITER 0x00

/* §3.1 frame body:
 *   1B ver | 1B type | 1B seq | 1B len L | LB payload | 2B crc (big-endian)
 * crc = CRC-16/CCITT-FALSE of ver..payload. */
#define BP_OFF_VER 0
#define BP_OFF_TYPE 1
#define BP_OFF_SEQ 2
#define BP_OFF_LEN 3
#define BP_HEADER_LEN 4
#define BP_CRC_LEN 2
#define BP_MIN_BODY_LEN (BP_HEADER_LEN + BP_CRC_LEN)
#define BP_MAX_PAYLOAD 255
#define BP_MIN_PAYLOAD_LIMIT 64 /* the smallest max_payload a board announces */

/* §3.1 CRC-16/CCITT-FALSE: poly 0x1021, init 0xFFFF, no reflection, no
 * final XOR; check value 0x29B1 for "123456789". */
#define BP_CRC_POLY 0x1021u
#define BP_CRC_INIT 0xFFFFu

/* §3.2 COBS: a code byte of 0xFF stands for 254 non-zero bytes and no zero. */
#define BP_COBS_MAX_RUN 254
#define BP_COBS_FULL_CODE 0xFF

/* §4.1 message types. */
#define BP_CMD_HELLO 0x01
#define BP_CMD_INFO 0x02
#define BP_CMD_PROVISION 0x03
#define BP_CMD_BENCH 0x04
#define BP_CMD_HANDSHAKE 0x05
#define BP_CMD_RELAY_DATA 0x06
#define BP_CMD_RELAY_CLOSE 0x07
#define BP_CMD_SEND 0x08
#define BP_CMD_READ_COUNTERS 0x09
#define BP_CMD_READ_LOG 0x0A
#define BP_CMD_RESET 0x0B
#define BP_CMD_CLOSE 0x0C
#define BP_CMD_FIRST 0x01
#define BP_CMD_LAST 0x3F
#define BP_RESPONSE_BIT 0x80

#define BP_EVT_BOOT 0x40
#define BP_EVT_RELAY_DATA 0x41
#define BP_EVT_RELAY_CREDIT 0x42
#define BP_EVT_CLOSED 0x43
#define BP_EVT_HANDSHAKE_DONE 0x44
#define BP_EVT_MESSAGE 0x45

/* §6.1 status, the first byte of every response. */
#define BP_OK 0x00
#define BP_UNKNOWN_COMMAND 0x01
#define BP_BAD_LENGTH 0x02
#define BP_BAD_VALUE 0x03
#define BP_UNSUPPORTED 0x04
#define BP_BUSY 0x05
#define BP_NOT_PROVISIONED 0x06
#define BP_NO_SESSION 0x07
#define BP_STORAGE 0x08
#define BP_UNSUPPORTED_VERSION 0x09
#define BP_NO_CREDIT 0x0A
#define BP_TOO_LARGE 0x0B
#define BP_INTERNAL 0x0C

/* §6.2 reasons (HANDSHAKE_DONE result, CLOSED and RELAY_CLOSE reason). */
#define BP_R_NONE 0
#define BP_R_IO 1
#define BP_R_TIMEOUT 2
#define BP_R_SHORT_FRAME 3
#define BP_R_OVERSIZE_FRAME 4
#define BP_R_MALFORMED 5
#define BP_R_DECRYPT_FAILED 6
#define BP_R_BAD_POINT 7
#define BP_R_UNKNOWN_SERVER 8
#define BP_R_CERT_REJECTED 9
#define BP_R_INTERNAL 10
#define BP_R_BOARD_RESET 11
#define BP_R_LAST BP_R_BOARD_RESET

/* §6.3 stages. */
#define BP_STAGE_NONE 0
#define BP_STAGE_DIAL 1
#define BP_STAGE_HELLO 2
#define BP_STAGE_MSG1 3
#define BP_STAGE_MSG2 4
#define BP_STAGE_MSG3 5
#define BP_STAGE_TRANSPORT 6

/* §6.4 profiles, curves, AEADs; bit n-1 of a bitmap stands for code n. */
#define BP_PROFILE_NOISE 1
#define BP_PROFILE_SEED 2
#define BP_PROFILE_PSK 3
#define BP_PROFILE_TLS 4
#define BP_CURVE_X25519 1
#define BP_CURVE_P256 2
#define BP_CURVE_SECP160R1 3
#define BP_AEAD_CHACHAPOLY 1
#define BP_AEAD_AES128GCM 2
#define BP_AEAD_AES256GCM 3
#define BP_BIT(code) (1u << ((code) - 1))

/* §6.5 units. */
#define BP_UNIT_CYCLES 1
#define BP_UNIT_INSTRUCTIONS 2
#define BP_UNIT_NANOSECONDS 3
#define BP_UNIT_MICROSECONDS 4

/* §5.1 HELLO state. */
#define BP_STATE_IDLE 0
#define BP_STATE_HANDSHAKE 1
#define BP_STATE_SESSION 2

/* §5.2 INFO caps. */
#define BP_CAP_RELAY 0x01
#define BP_CAP_NETWORK 0x02
#define BP_CAP_STORAGE 0x04
#define BP_CAP_ENTROPY 0x08 /* the chip's entropy source fed the generator at this boot */
#define BP_CAP_SEEDED 0x10  /* the generator holds a device seed from provisioning */
#define BP_INFO_STRING_MAX 32

/* §5.3 PROVISION tags: 1B tag | 1B length | value. */
#define BP_TLV_HEADER_LEN 2
#define BP_TAG_PROFILE 0x01
#define BP_TAG_DEVICE_ID 0x02
#define BP_TAG_DEVICE_KEY 0x03
#define BP_TAG_SERVER_KEY 0x04
#define BP_TAG_SERVER_KEY_NEXT 0x05
#define BP_TAG_COUNTER 0x06
#define BP_TAG_CURVE 0x07
#define BP_TAG_TLS_VERIFY 0x08
#define BP_TAG_TLS_PIN 0x09
#define BP_TAG_SERVER_NAME 0x0A
#define BP_TAG_NOISE_PATTERN 0x0B
#define BP_TAG_RNG_SEED 0x0C
#define BP_TAG_ERASE 0x7F
#define BP_NOISE_IK 1
#define BP_NOISE_KK 3
#define BP_TLS_VERIFY_FIRST 1
#define BP_TLS_VERIFY_LAST 5
#define BP_TLS_PIN_SHA1_LEN 20
#define BP_TLS_PIN_SHA256_LEN 32
#define BP_SERVER_NAME_MAX 64
#define BP_RNG_SEED_LEN 32

/* §5.4 BENCH: 1B op | 1B param | 2B size | 1B iterations.
 * Response: 1B unit | 1B iterations | 8B total | 4B min | 4B max. */
#define BP_BENCH_REQ_LEN 5
#define BP_BENCH_RSP_LEN 18
#define BP_BENCH_SCALAR_MULT 1
#define BP_BENCH_AEAD_SEAL 2
#define BP_BENCH_AEAD_OPEN 3
#define BP_BENCH_SHA256 4

/* §5.5 HANDSHAKE: 1B mode | 1B profile | 2B timeout_ms [network: 2B port |
 * 1B+N host]. HANDSHAKE_DONE: 1B result | 1B stage | 1B profile | 1B unit |
 * 8B counter | 8B total | 8B crypto | 2B sent | 2B received. */
#define BP_HANDSHAKE_REQ_LEN 4
#define BP_MODE_RELAY 1
#define BP_MODE_NETWORK 2
#define BP_HOST_MAX 64 /* network mode: the host name, 1-64 bytes */
#define BP_HANDSHAKE_DONE_LEN 32

/* §5.6 RELAY_CREDIT: 2B credit. §5.7 CLOSED, RELAY_CLOSE: 1B reason. */
#define BP_CREDIT_LEN 2
#define BP_REASON_LEN 1

/* §5.8 READ_COUNTERS entries: 1B id | 8B value. READ_LOG: 4B cursor;
 * response 4B first | 4B next | text. */
#define BP_COUNTER_ENTRY_LEN 9
#define BP_C_BOOTS 1
#define BP_C_FRAMES_RX 2
#define BP_C_FRAMES_TX 3
#define BP_C_BAD_FRAMES 4
#define BP_C_HANDSHAKES 5
#define BP_C_HANDSHAKES_OK 6
#define BP_C_HANDSHAKES_FAILED 7
#define BP_C_MESSAGE_COUNTER 8
#define BP_C_MESSAGES_SENT 9
#define BP_C_MESSAGES_RECEIVED 10
#define BP_C_RELAY_BYTES_RX 11
#define BP_C_RELAY_BYTES_TX 12
#define BP_C_LAST_FAILURE_REASON 13
#define BP_C_STACK_FREE 14
#define BP_C_UPTIME_MS 15
#define BP_LOG_REQ_LEN 4
#define BP_LOG_RSP_FIXED_LEN 8

/* §5.9 RESET kinds and BOOT: 1B reason | 1B version | 1B max_payload |
 * 4B boot_count. */
#define BP_RESET_SOFT 0
#define BP_RESET_REBOOT 1
#define BP_BOOT_LEN 7
#define BP_BOOT_UNKNOWN 0
#define BP_BOOT_POWER_ON 1
#define BP_BOOT_EXTERNAL 2
#define BP_BOOT_WATCHDOG 3
#define BP_BOOT_SOFT 4
#define BP_BOOT_BROWN_OUT 5
#define BP_BOOT_PANIC 6

/* §5.2 INFO fixed part before the four strings. */
#define BP_INFO_FIXED_LEN 11
#define BP_HELLO_REQ_LEN 2
#define BP_HELLO_RSP_LEN 7

#endif /* SD_AGENT_PROTO_H */
