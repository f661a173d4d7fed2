package boardproto

import "errors"

// Consistent Overhead Byte Stuffing (Cheshire and Baker, "Consistent Overhead
// Byte Stuffing", IEEE/ACM Transactions on Networking 7(2), 1999) removes
// every 0x00 from a frame body so that 0x00 can delimit frames. The body is
// cut at each zero into blocks; each block is written as a code byte
// (1 + the number of non-zero bytes that follow, at most 0xFF) and those
// bytes. A block with code 0xFF is a run of 254 non-zero bytes not followed
// by a zero; any other code stands for its bytes and one zero, except that
// the zero implied by the last block of a body is dropped. A body that ends
// with a full 0xFF block gets no empty block after it (the canonical form;
// decoders accept both).

const cobsMaxRun = 0xFE // non-zero bytes a code byte can cover

// cobsMaxLen is the longest encoding of n bytes.
func cobsMaxLen(n int) int { return n + n/cobsMaxRun + 1 }

var (
	errCOBSZero      = errors.New("boardproto: zero byte inside a COBS block")
	errCOBSTruncated = errors.New("boardproto: COBS block runs past the frame")
)

// appendCOBS appends the COBS encoding of src to dst.
func appendCOBS(dst, src []byte) []byte {
	codeAt := len(dst)
	dst = append(dst, 0)
	code := byte(1)
	for i, b := range src {
		if b == 0 {
			dst[codeAt] = code
			codeAt = len(dst)
			dst = append(dst, 0)
			code = 1
			continue
		}
		dst = append(dst, b)
		code++
		if code == 0xFF {
			dst[codeAt] = code
			if i == len(src)-1 {
				return dst // a full run ends the body: no empty block after it
			}
			codeAt = len(dst)
			dst = append(dst, 0)
			code = 1
		}
	}
	dst[codeAt] = code
	return dst
}

// appendUnCOBS appends the decoding of the COBS block sequence src (without
// delimiters) to dst.
func appendUnCOBS(dst, src []byte) ([]byte, error) {
	for i := 0; i < len(src); {
		code := src[i]
		if code == 0 {
			return nil, errCOBSZero
		}
		i++
		end := i + int(code) - 1
		if end > len(src) {
			return nil, errCOBSTruncated
		}
		for _, b := range src[i:end] {
			if b == 0 {
				return nil, errCOBSZero
			}
		}
		dst = append(dst, src[i:end]...)
		i = end
		if code != 0xFF && i < len(src) {
			dst = append(dst, 0)
		}
	}
	return dst, nil
}
