package clock

import (
	"bytes"
	"crypto/ed25519"
	"crypto/rand"
	"fmt"
	"time"
)

// Tuning of the server's answers.
const (
	// ServerRadius is RADI: §5.2.5 asks at least 3 s of a server without
	// leap-second information.
	ServerRadius = 3
	// delegationSpan is how far MINT and MAXT lie from the delegation's
	// making.
	delegationSpan = 48 * time.Hour
)

// RoughtimeServer answers Roughtime requests one at a time (a Merkle tree
// of one leaf: PATH empty, INDX 0) with the time of its clock, signed by an
// online key that its long-term key delegates to (§5.2.6).
type RoughtimeServer struct {
	now     func() time.Time
	anyKey  bool // answer requests whose SRV names another key
	srv     []byte
	online  ed25519.PrivateKey
	cert    []byte
	minTime uint64
	maxTime uint64
}

// NewRoughtimeServer returns the server of long-term key key whose clock is
// now. The delegation covers now() ± 48 h at the time of the call.
func NewRoughtimeServer(key ed25519.PrivateKey, now func() time.Time) (*RoughtimeServer, error) {
	_, online, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		return nil, fmt.Errorf("clock: making the online key: %w", err)
	}
	t := now()
	s := &RoughtimeServer{now: now, online: online, srv: srvHash(key.Public().(ed25519.PublicKey)),
		minTime: uint64(t.Add(-delegationSpan).Unix()), maxTime: uint64(t.Add(delegationSpan).Unix())}
	dele := encodeMessage(rtMessage{tagPUBK: online.Public().(ed25519.PublicKey), tagMINT: u64(s.minTime), tagMAXT: u64(s.maxTime)})
	sig := ed25519.Sign(key, append([]byte(ctxDelegation), dele...))
	s.cert = encodeMessage(rtMessage{tagSIG: sig, tagDELE: dele})
	return s, nil
}

// NewImpostor returns a server that answers every request, whichever key
// its SRV names, with the time of now, signed under its own key: what an
// attacker on the path can do without the pinned key.
func NewImpostor(key ed25519.PrivateKey, now func() time.Time) (*RoughtimeServer, error) {
	s, err := NewRoughtimeServer(key, now)
	if s != nil {
		s.anyKey = true
	}
	return s, err
}

// Handler returns the server as a UDP handler.
func (s *RoughtimeServer) Handler() Handler { return s.Respond }

// Respond answers request packet req, or returns nil when §5.1 and §5.2
// say to ignore it: no VER, NONC or TYPE; TYPE not 0; no version 1; an SRV
// of another key; a message shorter than 1024 bytes (answering it is
// optional, and a response must not be larger than its request).
func (s *RoughtimeServer) Respond(req []byte) []byte {
	m, err := parseFramed(req)
	if err != nil || len(req)-rtHeaderLen < rtMinRequest {
		return nil
	}
	typ, okT := m.getU32(tagTYPE)
	if !okT || typ != rtTypeRequest || len(m[tagNONC]) != rtNonceLen || !offers(m[tagVER], rtVersion) {
		return nil
	}
	if srv, ok := m[tagSRV]; ok && !s.anyKey && !bytes.Equal(srv, s.srv) {
		return nil
	}
	midp := s.now().Unix()
	if midp < 0 || uint64(midp) < s.minTime || uint64(midp) > s.maxTime {
		return nil // the delegation does not cover the clock: no valid answer
	}
	srep := encodeMessage(rtMessage{tagVER: u32(rtVersion), tagRADI: u32(ServerRadius), tagMIDP: u64(uint64(midp)),
		tagVERS: u32(rtVersion), tagROOT: hash([]byte{leafPrefix}, req)})
	sig := ed25519.Sign(s.online, append([]byte(ctxResponse), srep...))
	resp := packet(encodeMessage(rtMessage{tagSIG: sig, tagNONC: m[tagNONC], tagTYPE: u32(rtTypeReply),
		tagPATH: nil, tagSREP: srep, tagCERT: s.cert, tagINDX: u32(0)}))
	if len(resp) > len(req) {
		return nil
	}
	return resp
}

// offers reports whether a request's VER list holds version v (§5.1.1:
// ascending, at most 32).
func offers(ver []byte, v uint32) bool {
	if len(ver) == 0 || len(ver)%4 != 0 || len(ver) > 4*rtMaxVersions {
		return false
	}
	for i := 0; i < len(ver); i += 4 {
		if uint32(ver[i])|uint32(ver[i+1])<<8|uint32(ver[i+2])<<16|uint32(ver[i+3])<<24 == v {
			return true
		}
	}
	return false
}
