package server

import (
	"context"

	"shakedown/handshake"
)

// DefaultKeyCache is the size serve gives its KeyCache, and its grants
// cache: enough for every device of a gateway's fleet (the 100,000-device
// run of docs/benchmarks.md), at a few hundred bytes a device.
const DefaultKeyCache = 1 << 17

// KeyCache remembers noise devices by key, so that a device that connects
// again, or one whose record was read ahead (Remember), costs no registry
// query before its counter is committed.
//
// It is safe only under two rules of the registry (server/registry), which
// is why only `serve` uses one (ProfileDeps.KeyCache):
//   - a device's ID, profile and key never change, and no device is ever
//     deleted ("there is no way back: register a new device"), so a key
//     found once names the same device for ever;
//   - a revocation is enforced where every noise handshake goes after the
//     lookup, before message 2: AcceptCounter commits the counter only for
//     an active device (state = 'active' in the same conditional UPDATE) and
//     refuses a revoked one with reason revoked. A revocation therefore takes
//     effect at the device's next handshake, cache or not, on every gateway
//     sharing the database.
//
// Only active noise records are kept; unknown keys are not (a device
// enrolled later is found at once), and other profiles pass through: tls
// looks devices up by key too, and commits no counter.
type KeyCache struct {
	recs *Memo[string, handshake.DeviceRecord]
}

// NewKeyCache returns a KeyCache of at most max devices.
func NewKeyCache(max int) *KeyCache {
	return &KeyCache{recs: NewMemo[string, handshake.DeviceRecord](max)}
}

// Remember keeps rec ahead of its device's first handshake, when it is an
// active noise record and the cache has room; it reports whether it did.
// A full cache is left as it is: reading ahead never pushes out a device
// that connected.
func (c *KeyCache) Remember(rec handshake.DeviceRecord) bool {
	if handshake.CheckRecord(rec, handshake.Noise) != "" {
		return false
	}
	rec.Key = append([]byte(nil), rec.Key...)
	return c.recs.Add(string(rec.Key), rec)
}

// Len returns the number of devices held.
func (c *KeyCache) Len() int { return c.recs.Len() }

// Full reports whether the cache holds as many devices as it may.
func (c *KeyCache) Full() bool { return c.recs.Full() }

// cachedDirectory answers noise lookups from a KeyCache first, and the
// rest from the directory.
type cachedDirectory struct {
	handshake.Directory
	cache *KeyCache
}

// DeviceByKey answers noise lookups from the cache, and the rest from the
// directory; a noise device the directory finds is kept.
func (c cachedDirectory) DeviceByKey(ctx context.Context, p handshake.Name, key []byte) (handshake.DeviceRecord, error) {
	if p != handshake.Noise {
		return c.Directory.DeviceByKey(ctx, p, key)
	}
	if rec, ok := c.cache.recs.Get(string(key)); ok {
		return rec, nil
	}
	rec, err := c.Directory.DeviceByKey(ctx, p, key)
	if err != nil || handshake.CheckRecord(rec, handshake.Noise) != "" {
		return rec, err
	}
	rec.Key = append([]byte(nil), rec.Key...)
	c.cache.recs.Put(string(rec.Key), rec)
	return rec, nil
}
