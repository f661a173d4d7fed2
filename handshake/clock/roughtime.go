package clock

import (
	"bytes"
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"crypto/sha512"
	"fmt"
	"net"
	"time"
)

// Roughtime is a device's clock from one Roughtime server whose long-term
// Ed25519 key the device pins (draft-ietf-ntp-roughtime-19 §3.1, single
// server mode).
type Roughtime struct {
	addr string
	key  ed25519.PublicKey
}

// NewRoughtime returns the clock of a device that asks the server at addr
// and pins its long-term key.
func NewRoughtime(addr string, key ed25519.PublicKey) *Roughtime {
	return &Roughtime{addr: addr, key: append(ed25519.PublicKey(nil), key...)}
}

// Protocol returns "roughtime".
func (r *Roughtime) Protocol() string { return "roughtime" }

// Time sends a request with a fresh nonce and returns MIDP of the one
// valid response (§5.4). The first answer decides: a forged one fails the
// query, it is not skipped for a later one.
func (r *Roughtime) Time(ctx context.Context) (time.Time, error) {
	nonce := make([]byte, rtNonceLen)
	if _, err := rand.Read(nonce); err != nil {
		return time.Time{}, fmt.Errorf("clock: drawing a nonce: %w", err)
	}
	req := Request(nonce, r.key)
	resp, err := exchange(ctx, r.addr, req)
	if err != nil {
		return time.Time{}, err
	}
	mid, _, err := VerifyResponse(req, resp, r.key)
	if err != nil {
		return time.Time{}, reject(err)
	}
	return mid, nil
}

// Request builds a request packet (§5.1): VER, SRV, NONC, TYPE 0, and ZZZZ
// to a message of 1024 bytes.
func Request(nonce []byte, key ed25519.PublicKey) []byte {
	m := rtMessage{tagVER: u32(rtVersion), tagNONC: nonce, tagTYPE: u32(rtTypeRequest), tagSRV: srvHash(key)}
	m[tagZZZZ] = nil
	pad := rtMinRequest - len(encodeMessage(m))
	m[tagZZZZ] = make([]byte, pad)
	return packet(encodeMessage(m))
}

// srvHash is SRV's value (§5.1.4): H(0xff || public_key).
func srvHash(key ed25519.PublicKey) []byte { return hash(append([]byte{srvPrefix}, key...)) }

// hash is H of §5.3: the first 32 bytes of SHA-512.
func hash(b ...[]byte) []byte {
	h := sha512.New()
	for _, x := range b {
		h.Write(x)
	}
	return h.Sum(nil)[:rtHashLen]
}

// exchange sends req to addr over UDP and returns the first datagram back.
func exchange(ctx context.Context, addr string, req []byte) ([]byte, error) {
	var d net.Dialer
	c, err := d.DialContext(ctx, "udp", addr)
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrUnavailable, err)
	}
	defer c.Close()
	c.SetDeadline(time.Now().Add(timeout(ctx)))
	if _, err := c.Write(req); err != nil {
		return nil, fmt.Errorf("%w: %w", ErrUnavailable, err)
	}
	buf := make([]byte, maxDatagram)
	n, err := c.Read(buf)
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrUnavailable, err)
	}
	return buf[:n], nil
}

// VerifyResponse checks response packet resp to request packet req under
// the long-term key (§5.4) and returns MIDP and RADI.
func VerifyResponse(req, resp []byte, key ed25519.PublicKey) (mid time.Time, radius time.Duration, err error) {
	rq, err := parseFramed(req)
	if err != nil {
		return time.Time{}, 0, ErrMalformed
	}
	m, err := parseFramed(resp)
	if err != nil {
		return time.Time{}, 0, ErrMalformed
	}
	if typ, ok := m.getU32(tagTYPE); !ok || typ != rtTypeReply {
		return time.Time{}, 0, ErrMalformed
	}
	if !bytes.Equal(m[tagNONC], rq[tagNONC]) {
		return time.Time{}, 0, ErrNonce
	}
	pubk, mint, maxt, err := delegation(m, key)
	if err != nil {
		return time.Time{}, 0, err
	}
	srep, srepRaw, err := m.sub(tagSREP)
	if err != nil {
		return time.Time{}, 0, ErrMalformed
	}
	if !ed25519.Verify(pubk, append([]byte(ctxResponse), srepRaw...), m[tagSIG]) {
		return time.Time{}, 0, ErrSignature
	}
	return checkSREP(srep, rq, m, req, mint, maxt)
}

// delegation checks CERT (§5.2.6) under the long-term key and returns DELE's
// key and validity.
func delegation(m rtMessage, key ed25519.PublicKey) (ed25519.PublicKey, uint64, uint64, error) {
	cert, _, err := m.sub(tagCERT)
	if err != nil {
		return nil, 0, 0, ErrMalformed
	}
	dele, deleRaw, err := cert.sub(tagDELE)
	if err != nil {
		return nil, 0, 0, ErrMalformed
	}
	if len(key) != ed25519.PublicKeySize || !ed25519.Verify(key, append([]byte(ctxDelegation), deleRaw...), cert[tagSIG]) {
		return nil, 0, 0, ErrDelegation
	}
	pubk := dele[tagPUBK]
	mint, ok1 := dele.getU64(tagMINT)
	maxt, ok2 := dele.getU64(tagMAXT)
	if len(pubk) != ed25519.PublicKeySize || !ok1 || !ok2 {
		return nil, 0, 0, ErrMalformed
	}
	return ed25519.PublicKey(pubk), mint, maxt, nil
}

// checkSREP checks the signed response's fields (§5.2.5), its time against
// the delegation and the Merkle path (§5.3.1).
func checkSREP(srep, rq, m rtMessage, req []byte, mint, maxt uint64) (time.Time, time.Duration, error) {
	ver, okV := srep.getU32(tagVER)
	radi, okR := srep.getU32(tagRADI)
	midp, okM := srep.getU64(tagMIDP)
	root := srep[tagROOT]
	if !okV || !okR || !okM || radi == 0 || len(root) != rtHashLen {
		return time.Time{}, 0, ErrMalformed
	}
	if !bytes.Equal(rq[tagVER], u32(ver)) || !offers(srep[tagVERS], ver) {
		return time.Time{}, 0, ErrVersion
	}
	if midp < mint || midp > maxt || midp > uint64(1)<<62 {
		return time.Time{}, 0, ErrValidity
	}
	indx, ok := m.getU32(tagINDX)
	path, okP := m[tagPATH]
	if !ok || !okP || len(path)%rtHashLen != 0 || len(path) > rtMaxPath*rtHashLen {
		return time.Time{}, 0, ErrMalformed
	}
	if !merkleRoot(req, indx, path, root) {
		return time.Time{}, 0, ErrMerkle
	}
	return time.Unix(int64(midp), 0).UTC(), time.Duration(radi) * time.Second, nil
}

// merkleRoot is §5.3.1: from the leaf H(0x00 || request packet) up PATH,
// the bits of INDX from least significant choosing the side.
func merkleRoot(req []byte, indx uint32, path, root []byte) bool {
	h := hash([]byte{leafPrefix}, req)
	for i := 0; i < len(path); i += rtHashLen {
		node := path[i : i+rtHashLen]
		if indx&1 == 0 {
			h = hash([]byte{nodePrefix}, h, node)
		} else {
			h = hash([]byte{nodePrefix}, node, h)
		}
		indx >>= 1
	}
	return indx == 0 && bytes.Equal(h, root)
}
