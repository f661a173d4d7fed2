package virtual

import (
	"context"
	"crypto/aes"
	"crypto/cipher"
	"crypto/ecdh"
	"crypto/rand"
	"crypto/sha256"
	"errors"
	"math"
	"sync"
	"time"

	"golang.org/x/crypto/chacha20poly1305"
	"golang.org/x/crypto/curve25519"

	"shakedown/handshake"
	"shakedown/handshake/seed"
	bp "shakedown/harness/boardproto"
)

// maxBenchSize bounds the message size of an AEAD or hash benchmark.
const maxBenchSize = 4096

// bench runs a BENCH command: the operation runs for real, and a slow chip
// waits until the profile's cost has passed and reports that cost.
func (b *Board) bench(req bp.BenchRequest) (bp.BenchResult, bp.Status) {
	fn, emulated, st := b.benchOp(req)
	if st != bp.StatusOK {
		return bp.BenchResult{}, st
	}
	res := bp.BenchResult{Unit: bp.UnitNanoseconds, Iterations: req.Iterations, Min: math.MaxUint32}
	for range int(req.Iterations) {
		start := time.Now()
		fn()
		d := time.Since(start)
		if emulated > d {
			if b.spend(context.Background(), emulated-d) != nil {
				return bp.BenchResult{}, bp.StatusInternal
			}
			d = emulated
		}
		ns := uint32(min(d.Nanoseconds(), math.MaxUint32))
		res.Total += uint64(d.Nanoseconds())
		res.Min, res.Max = min(res.Min, ns), max(res.Max, ns)
	}
	return res, bp.StatusOK
}

// benchOp returns the operation of req and the emulated cost of one run.
func (b *Board) benchOp(req bp.BenchRequest) (func(), time.Duration, bp.Status) {
	if req.Op != bp.BenchScalarMult && req.Size > maxBenchSize {
		return nil, 0, bp.StatusTooLarge
	}
	switch req.Op {
	case bp.BenchScalarMult:
		name, ok := curveCost[bp.Curve(req.Param)]
		if !ok {
			return nil, 0, bp.StatusUnsupported
		}
		fn, err := scalarMult(bp.Curve(req.Param))
		if err != nil {
			return nil, 0, bp.StatusInternal
		}
		return fn, b.cfg.Costs[name], bp.StatusOK
	case bp.BenchAEADSeal, bp.BenchAEADOpen:
		aead, err := newAEAD(bp.AEAD(req.Param))
		if err != nil {
			return nil, 0, bp.StatusUnsupported
		}
		nonce := make([]byte, aead.NonceSize())
		msg := make([]byte, req.Size)
		sealed := aead.Seal(nil, nonce, msg, nil)
		out := make([]byte, 0, len(sealed))
		fn := func() { aead.Seal(out[:0], nonce, msg, nil) }
		if req.Op == bp.BenchAEADOpen {
			fn = func() { aead.Open(out[:0], nonce, sealed, nil) }
		}
		return fn, b.aeadCost(int(req.Size)), bp.StatusOK
	case bp.BenchSHA256:
		msg := make([]byte, req.Size)
		return func() { sha256.Sum256(msg) }, perKiB(b.cfg.Costs["sha256_per_kib"], int(req.Size)), bp.StatusOK
	}
	return nil, 0, bp.StatusUnsupported
}

var curveCost = map[bp.Curve]string{bp.CurveX25519: "x25519", bp.CurveP256: "p256", bp.CurveSecp160r1: "secp160r1"}

// scalarMult returns one variable-base scalar multiplication on curve c.
func scalarMult(c bp.Curve) (func(), error) {
	switch c {
	case bp.CurveX25519:
		k, p := make([]byte, 32), make([]byte, 32)
		rand.Read(k)
		pub, err := curve25519.X25519(k, curve25519.Basepoint)
		if err != nil {
			return nil, err
		}
		copy(p, pub)
		return func() { curve25519.X25519(k, p) }, nil
	case bp.CurveP256:
		k, err := ecdh.P256().GenerateKey(rand.Reader)
		if err != nil {
			return nil, err
		}
		peer, err := ecdh.P256().GenerateKey(rand.Reader)
		if err != nil {
			return nil, err
		}
		return func() { k.ECDH(peer.PublicKey()) }, nil
	case bp.CurveSecp160r1:
		priv, _, err := seed.GenerateKey(seed.Secp160r1, rand.Reader)
		if err != nil {
			return nil, err
		}
		_, pub, err := seed.GenerateKey(seed.Secp160r1, rand.Reader)
		if err != nil {
			return nil, err
		}
		return func() { seed.ECDH(seed.Secp160r1, priv, pub) }, nil
	}
	return nil, errUnsupportedCurve
}

var errUnsupportedCurve = errors.New("virtual: unsupported curve or AEAD")

func newAEAD(a bp.AEAD) (cipher.AEAD, error) {
	switch a {
	case bp.AEADChaCha20Poly1305:
		return chacha20poly1305.New(make([]byte, chacha20poly1305.KeySize))
	case bp.AEADAES128GCM, bp.AEADAES256GCM:
		n := 16
		if a == bp.AEADAES256GCM {
			n = 32
		}
		blk, err := aes.NewCipher(make([]byte, n))
		if err != nil {
			return nil, err
		}
		return cipher.NewGCM(blk)
	}
	return nil, errUnsupportedCurve
}

func perKiB(cost time.Duration, n int) time.Duration {
	return time.Duration(int64(cost) * int64(n) / 1024)
}

func (b *Board) aeadCost(n int) time.Duration { return perKiB(b.cfg.Costs["aead_per_kib"], n) }

// spend waits d, as a slow chip computing; it ends early when ctx is done
// or the board closes.
func (b *Board) spend(ctx context.Context, d time.Duration) error {
	if d <= 0 {
		return nil
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	case <-b.closed:
		return errClosed
	}
}

var errClosed = errors.New("virtual: board closed")

func timeSince(t time.Time) time.Duration { return time.Since(t) }

// costPlan is what a handshake costs on this chip: the public-key work
// before the device's first message and after its last read, and their sum.
type costPlan struct {
	before, after, crypto time.Duration
}

// handshakeOps counts the scalar multiplications of each profile's device
// side: before its first message, after the server's reply. noise IK:
// e, es, ss, then ee, se. seed: one ECDH on its curve. tls: the key share,
// then the shared secret and the certificate signature check (counted as
// one P-256 multiplication).
var handshakeOps = map[handshake.Name]struct{ before, after []string }{
	handshake.Noise: {before: []string{"x25519", "x25519", "x25519"}, after: []string{"x25519", "x25519"}},
	handshake.Seed:  {after: []string{"curve"}},
	handshake.PSK:   {},
	handshake.TLS:   {before: []string{"x25519"}, after: []string{"x25519", "p256"}},
}

// plan prices a handshake of profile p: with Costs the profile's figures
// (and the board waits them out); without, a measurement on this host.
func (b *Board) plan(p handshake.Name, curve bp.Curve) costPlan {
	ops := handshakeOps[p]
	price := func(names []string) (emulated, measured time.Duration) {
		for _, n := range names {
			if n == "curve" {
				n = curveCost[curve]
			}
			if c, ok := b.cfg.Costs[n]; ok {
				emulated += c
				measured += c
			} else {
				measured += calibrate(n)
			}
		}
		return emulated, measured
	}
	eb, mb := price(ops.before)
	ea, ma := price(ops.after)
	return costPlan{before: eb, after: ea, crypto: mb + ma}
}

var (
	calibrated   = map[string]time.Duration{}
	calibratedMu sync.Mutex
)

// calibrate measures one scalar multiplication of the named curve on this
// host, once.
func calibrate(name string) time.Duration {
	calibratedMu.Lock()
	defer calibratedMu.Unlock()
	if d, ok := calibrated[name]; ok {
		return d
	}
	var d time.Duration
	for c, n := range curveCost {
		if n != name {
			continue
		}
		if fn, err := scalarMult(c); err == nil {
			start := time.Now()
			fn()
			d = time.Since(start)
		}
	}
	calibrated[name] = d
	return d
}
