package boardproto

// CRC-16/CCITT-FALSE (also catalogued as CRC-16/IBM-3740): width 16,
// polynomial 0x1021, initial value 0xFFFF, no reflection of input or output,
// no final XOR. Its check value, the CRC of the ASCII bytes "123456789", is
// 0x29B1.
const (
	crcPoly  = 0x1021
	crcInit  = 0xFFFF
	CRCCheck = 0x29B1 // CRC16([]byte("123456789"))
)

// CRC16 returns the CRC-16/CCITT-FALSE of p. It is written bit by bit, the
// way the firmware computes it without a table.
func CRC16(p []byte) uint16 {
	return crcUpdate(crcInit, p)
}

func crcUpdate(crc uint16, p []byte) uint16 {
	for _, b := range p {
		crc ^= uint16(b) << 8
		for range 8 {
			if crc&0x8000 != 0 {
				crc = crc<<1 ^ crcPoly
			} else {
				crc <<= 1
			}
		}
	}
	return crc
}
