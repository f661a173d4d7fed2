package noise

import (
	"crypto/ecdh"
	"crypto/subtle"
	"errors"
	"hash/maphash"
	"io"
	"sync/atomic"

	"github.com/flynn/noise"
)

// dh25519 is the Noise DH function "25519" (Noise §12.1, RFC 7748) on
// crypto/ecdh, costing one scalar multiplication per operation.
//
// flynn/noise's DH25519 calls x/crypto's curve25519.X25519, which builds an
// ecdh.PrivateKey for every call and so derives the public key again: two
// scalar multiplications per DH and per key generation. A handshake reuses
// each private key (the static key in every handshake, the ephemeral key in
// two DHs), so this DH function keeps the ecdh.PrivateKey of recently used
// private keys in a small cache. Same name, same results: the test vectors,
// made with flynn/noise's own DH25519, check that.
type dh25519 struct{}

var curve = ecdh.X25519()

func (dh25519) GenerateKeypair(random io.Reader) (noise.DHKey, error) {
	var k *ecdh.PrivateKey
	var err error
	if random == nil {
		k, err = curve.GenerateKey(nil)
	} else {
		priv := make([]byte, KeyLen)
		if _, err = io.ReadFull(random, priv); err != nil {
			return noise.DHKey{}, err
		}
		k, err = curve.NewPrivateKey(priv)
	}
	if err != nil {
		return noise.DHKey{}, err
	}
	keys.put(k)
	return noise.DHKey{Private: k.Bytes(), Public: k.PublicKey().Bytes()}, nil
}

var errLowOrder = errors.New("noise: X25519 result is zero (low-order public key)")

func (dh25519) DH(priv, pub []byte) ([]byte, error) {
	k, err := keys.get(priv)
	if err != nil {
		return nil, err
	}
	p, err := curve.NewPublicKey(pub)
	if err != nil {
		return nil, err
	}
	out, err := k.ECDH(p)
	if err != nil {
		// crypto/ecdh refuses an all-zero result, as Noise §12.1 allows.
		return nil, errLowOrder
	}
	return out, nil
}

func (dh25519) DHLen() int     { return KeyLen }
func (dh25519) DHName() string { return "25519" }

// keyCache is a direct-mapped cache of ecdh private keys, indexed by a
// process-keyed hash of the private key so the slot says nothing about it.
// A miss only costs the public-key derivation that the cache saves.
type keyCache struct {
	seed  maphash.Seed
	slots [keyCacheSlots]atomic.Pointer[ecdh.PrivateKey]
}

// keyCacheSlots bounds the cache: about 4096 × 200 B.
const keyCacheSlots = 4096

var keys = &keyCache{seed: maphash.MakeSeed()}

func (c *keyCache) slot(priv []byte) *atomic.Pointer[ecdh.PrivateKey] {
	return &c.slots[maphash.Bytes(c.seed, priv)%keyCacheSlots]
}

func (c *keyCache) put(k *ecdh.PrivateKey) { c.slot(k.Bytes()).Store(k) }

func (c *keyCache) get(priv []byte) (*ecdh.PrivateKey, error) {
	s := c.slot(priv)
	if k := s.Load(); k != nil && subtle.ConstantTimeCompare(k.Bytes(), priv) == 1 {
		return k, nil
	}
	k, err := curve.NewPrivateKey(priv)
	if err != nil {
		return nil, err
	}
	s.Store(k)
	return k, nil
}
