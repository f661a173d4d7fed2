package app

import (
	"context"
	"errors"
	"log/slog"
	"time"

	"shakedown/handshake"
	"shakedown/server"
	"shakedown/server/registry"
)

// caches are serve's copies in memory of what never changes in the
// registry: the noise devices by key (server.KeyCache) and every device's
// grants (grantsFunc). Both fill as devices connect; warm fills them ahead.
type caches struct {
	keys   *server.KeyCache
	grants *server.Memo[string, []string]
}

// newCaches returns caches of at most max devices each.
func newCaches(max int) caches {
	return caches{keys: server.NewKeyCache(max), grants: server.NewMemo[string, []string](max)}
}

// errCachesFull ends warm's read of the registry.
var errCachesFull = errors.New("caches full")

// warm reads the registry's active devices, in pages, into c until both
// caches are full or every device is read, so that the first connect of
// each device after a start costs no registry query but its counter's
// commit: a fleet reconnecting to a restarted gateway, or arriving for the
// first time, is spared two queries a device (the lookup by key and the
// grants). It never pushes out a device that connected meanwhile, and a
// device it has not reached yet is looked up as before. Revoked devices are
// not read; one revoked after it read them is refused at the counter commit
// (server.KeyCache). A failed read is logged and leaves the caches to fill
// as devices connect.
func (c caches) warm(ctx context.Context, reg registry.Registry, log *slog.Logger) {
	start := time.Now()
	var read, keys, grants int
	err := reg.ExportDevices(ctx, registry.ListOptions{State: registry.Active, Limit: registry.MaxPageSize}, func(d registry.Device) error {
		read++
		if d.Profile == handshake.Noise && c.keys.Remember(d.Record()) {
			keys++
		}
		if c.grants.Add(d.ID, d.Grants) {
			grants++
		}
		if c.keys.Full() && c.grants.Full() {
			return errCachesFull
		}
		return nil
	})
	switch {
	case err == nil || errors.Is(err, errCachesFull):
		log.Info("registry read ahead", "devices", read, "noise_keys", keys, "grants", grants, "took", time.Since(start).Round(time.Millisecond).String())
	case ctx.Err() == nil:
		log.Warn("reading the registry ahead; devices are looked up as they connect", "devices", read, "err", err)
	}
}
