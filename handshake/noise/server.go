package noise

import (
	"context"
	"encoding/binary"
	"errors"
	"io"
	"net"

	"github.com/flynn/noise"

	"shakedown/handshake"
)

// ServerConfig configures the server side.
type ServerConfig struct {
	Pattern   Pattern  // IK when empty
	Keys      *KeyRing // the server's static keys (current, next)
	Directory handshake.Directory
	Counters  handshake.CounterStore
	Random    io.Reader // ephemeral keys; crypto/rand when nil
}

// Server is the server side of the noise profile.
type Server struct {
	cfg     ServerConfig
	pattern noise.HandshakePattern
}

// NewServer checks cfg and returns a server.
func NewServer(cfg ServerConfig) (*Server, error) {
	hp, err := cfg.Pattern.handshakePattern()
	if err != nil {
		return nil, err
	}
	if cfg.Pattern == "" {
		cfg.Pattern = IK
	}
	if cfg.Keys == nil || cfg.Directory == nil || cfg.Counters == nil {
		return nil, errors.New("noise: server needs Keys, Directory and Counters")
	}
	return &Server{cfg: cfg, pattern: hp}, nil
}

// Profile returns handshake.Noise.
func (s *Server) Profile() handshake.Name { return handshake.Noise }

// Handshake runs the server side over conn.
func (s *Server) Handshake(ctx context.Context, conn net.Conn) (net.Conn, handshake.Identity, error) {
	release := handshake.Bound(ctx, conn)
	defer release()
	c, id, err := s.handshake(ctx, conn)
	if err != nil {
		if ctx.Err() != nil && err.Reason == handshake.ReasonIO {
			err.Reason = handshake.ReasonTimeout
		}
		return nil, handshake.Identity{}, err
	}
	return c, id, nil
}

// state is one handshake in progress on the server.
type state struct {
	hs      *noise.HandshakeState
	keys    ServerKeys
	rec     handshake.DeviceRecord
	counter uint64
}

func (s *Server) handshake(ctx context.Context, conn net.Conn) (net.Conn, handshake.Identity, *handshake.Error) {
	var st state
	st.keys = s.cfg.Keys.Get()
	prologue := Prologue
	var peerStatic []byte
	if s.cfg.Pattern == KK {
		frame, err := handshake.ReadFrame(conn, nil, 2+MaxDeviceIDLen)
		if err != nil {
			return nil, handshake.Identity{}, fail(handshake.StageHello, handshake.FrameReason(err), err)
		}
		id, err := parseHello(frame)
		if err != nil {
			return nil, handshake.Identity{}, fail(handshake.StageHello, handshake.ReasonMalformed, err)
		}
		if herr := s.lookup(ctx, &st, func() (handshake.DeviceRecord, error) {
			return s.cfg.Directory.DeviceByID(ctx, id)
		}); herr != nil {
			return nil, handshake.Identity{}, herr
		}
		prologue, peerStatic = kkPrologue(id), st.rec.Key
	}

	// Message 1. IK: -> e, es, s, ss    XK: -> e, es    KK: -> e, es, ss
	msg1Len := map[Pattern]int{IK: MsgLenIK1, XK: MsgLenXK1, KK: MsgLenKK1}[s.cfg.Pattern]
	frame, err := handshake.ReadFrame(conn, nil, msg1Len)
	if err != nil {
		return nil, handshake.Identity{}, fail(handshake.StageMsg1, handshake.FrameReason(err), err)
	}
	if len(frame) != msg1Len {
		return nil, handshake.Identity{}, fail(handshake.StageMsg1, handshake.ReasonMalformed, errMsgLen)
	}
	payload, herr := s.readMessage1(&st, prologue, peerStatic, frame)
	if herr != nil {
		return nil, handshake.Identity{}, herr
	}
	if s.cfg.Pattern == IK {
		rs := st.hs.PeerStatic()
		if herr := s.lookup(ctx, &st, func() (handshake.DeviceRecord, error) {
			return s.cfg.Directory.DeviceByKey(ctx, handshake.Noise, rs)
		}); herr != nil {
			return nil, handshake.Identity{}, herr
		}
	}
	if s.cfg.Pattern != XK {
		if herr := s.acceptCounter(ctx, &st, handshake.StageMsg1, payload); herr != nil {
			return nil, handshake.Identity{}, herr
		}
	}

	// Message 2. IK, KK: <- e, ee, se    XK: <- e, ee
	msg, cs1, cs2, err := st.hs.WriteMessage(nil, AppendAnnouncement(nil, st.keys.announcement()))
	if err != nil {
		return nil, handshake.Identity{}, fail(handshake.StageMsg2, handshake.ReasonInternal, err)
	}
	if err := handshake.WriteFrame(conn, msg); err != nil {
		return nil, handshake.Identity{}, fail(handshake.StageMsg2, "", err)
	}

	if s.cfg.Pattern == XK {
		// Message 3. -> s, se
		frame, err := handshake.ReadFrame(conn, nil, MsgLenXK3)
		if err != nil {
			return nil, handshake.Identity{}, fail(handshake.StageMsg3, handshake.FrameReason(err), err)
		}
		if len(frame) != MsgLenXK3 {
			return nil, handshake.Identity{}, fail(handshake.StageMsg3, handshake.ReasonMalformed, errMsgLen)
		}
		payload, cs1, cs2, err = st.hs.ReadMessage(nil, frame)
		if err != nil {
			return nil, handshake.Identity{}, readFailed(handshake.StageMsg3, err)
		}
		rs := st.hs.PeerStatic()
		if herr := s.lookup(ctx, &st, func() (handshake.DeviceRecord, error) {
			return s.cfg.Directory.DeviceByKey(ctx, handshake.Noise, rs)
		}); herr != nil {
			return nil, handshake.Identity{}, herr
		}
		if herr := s.acceptCounter(ctx, &st, handshake.StageMsg3, payload); herr != nil {
			return nil, handshake.Identity{}, herr
		}
	}
	id := handshake.Identity{Profile: handshake.Noise, DeviceID: st.rec.ID, Counter: st.counter}
	// Split(): the first CipherState encrypts initiator to responder.
	return newSession(conn, cs2, cs1), id, nil
}

// readMessage1 tries each server key the device may target, current first.
// A wrong key fails at the first authenticated field, so trying costs one
// DH per extra key.
func (s *Server) readMessage1(st *state, prologue, peerStatic, frame []byte) ([]byte, *handshake.Error) {
	for _, kp := range st.keys.candidates() {
		hs, err := noise.NewHandshakeState(noise.Config{
			CipherSuite:   CipherSuite,
			Random:        s.cfg.Random,
			Pattern:       s.pattern,
			Prologue:      prologue,
			StaticKeypair: kp,
			PeerStatic:    peerStatic,
		})
		if err != nil {
			return nil, fail(handshake.StageMsg1, handshake.ReasonInternal, err)
		}
		payload, _, _, err := hs.ReadMessage(nil, frame)
		if err == nil {
			st.hs = hs
			return payload, nil
		}
		if errors.Is(err, errLowOrder) {
			// es = DH(s, re) is zero for every server key: re is low-order.
			return nil, readFailed(handshake.StageMsg1, err)
		}
	}
	return nil, fail(handshake.StageMsg1, handshake.ReasonDecrypt, errAuth)
}

func (s *Server) lookup(ctx context.Context, st *state, find func() (handshake.DeviceRecord, error)) *handshake.Error {
	rec, err := find()
	switch {
	case errors.Is(err, handshake.ErrUnknownDevice):
		return fail(handshake.StageLookup, handshake.ReasonUnknownDevice, errors.New("no device with this key"))
	case err != nil:
		return fail(handshake.StageLookup, handshake.ReasonRegistry, err)
	}
	if r := handshake.CheckRecord(rec, handshake.Noise); r != "" {
		return fail(handshake.StageLookup, r, errors.New("device refused"))
	}
	st.rec = rec
	return nil
}

func (s *Server) acceptCounter(ctx context.Context, st *state, stage handshake.Stage, payload []byte) *handshake.Error {
	if len(payload) != CounterLen {
		return fail(stage, handshake.ReasonMalformed, errors.New("counter payload is not 8 bytes"))
	}
	c := binary.BigEndian.Uint64(payload)
	if c == CounterReserved {
		// Never stored: a device whose counter storage was erased sends
		// this once it is back, and a stored 2^64-1 would admit no
		// greater counter.
		return fail(stage, handshake.ReasonCounterReserved, errReserved)
	}
	err := s.cfg.Counters.AcceptCounter(ctx, st.rec.ID, c)
	switch {
	case errors.Is(err, handshake.ErrCounterReplay):
		return fail(stage, handshake.ReasonCounterReplay, err)
	case errors.Is(err, handshake.ErrUnknownDevice):
		return fail(stage, handshake.ReasonUnknownDevice, err)
	case handshake.ReasonOf(err) == handshake.ReasonRevoked:
		// Revoked since the lookup: the store commits counters of active
		// devices only, so revocation holds even when the lookup's answer
		// was older (a cached one, or a race with the revocation).
		return fail(stage, handshake.ReasonRevoked, err)
	case err != nil:
		return fail(stage, handshake.ReasonRegistry, err)
	}
	st.counter = c
	return nil
}
