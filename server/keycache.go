package server

import (
	"context"

	"shakedown/handshake"
)

// DefaultKeyCache is the default of ProfileDeps.KeyCache: enough for every
// device of a gateway's fleet (the 100,000-device run of docs/benchmarks.md)
// at about 150 bytes each.
const DefaultKeyCache = 1 << 17

// keyCache remembers the noise devices found by key, so that a device that
// connects again costs no registry query before its counter is committed.
//
// It is safe only under two rules of the registry (server/registry), which
// is why only `serve` turns it on (ProfileDeps.KeyCache):
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
type keyCache struct {
	handshake.Directory
	recs *Memo[string, handshake.DeviceRecord]
}

func newKeyCache(d handshake.Directory, max int) *keyCache {
	return &keyCache{Directory: d, recs: NewMemo[string, handshake.DeviceRecord](max)}
}

// DeviceByKey answers noise lookups from the cache, and the rest from the
// directory.
func (c *keyCache) DeviceByKey(ctx context.Context, p handshake.Name, key []byte) (handshake.DeviceRecord, error) {
	if p != handshake.Noise {
		return c.Directory.DeviceByKey(ctx, p, key)
	}
	if rec, ok := c.recs.Get(string(key)); ok {
		return rec, nil
	}
	rec, err := c.Directory.DeviceByKey(ctx, p, key)
	if err != nil || handshake.CheckRecord(rec, handshake.Noise) != "" {
		return rec, err
	}
	rec.Key = append([]byte(nil), rec.Key...)
	c.recs.Put(string(rec.Key), rec)
	return rec, nil
}
