package handshaketest

import (
	"bytes"
	"context"
	"fmt"
	"sync"

	"shakedown/handshake"
)

// Directory is an in-memory handshake.Directory and handshake.CounterStore.
type Directory struct {
	mu       sync.Mutex
	devices  map[string]handshake.DeviceRecord
	counters map[string]uint64
}

// NewDirectory returns a Directory holding recs.
func NewDirectory(recs ...handshake.DeviceRecord) *Directory {
	d := &Directory{devices: map[string]handshake.DeviceRecord{}, counters: map[string]uint64{}}
	for _, r := range recs {
		d.Put(r)
	}
	return d
}

// Put adds or replaces a record.
func (d *Directory) Put(rec handshake.DeviceRecord) {
	d.mu.Lock()
	defer d.mu.Unlock()
	d.devices[rec.ID] = rec
}

// Revoke marks a device revoked.
func (d *Directory) Revoke(id string) {
	d.mu.Lock()
	defer d.mu.Unlock()
	rec := d.devices[id]
	rec.Revoked = true
	d.devices[id] = rec
}

func (d *Directory) DeviceByID(_ context.Context, id string) (handshake.DeviceRecord, error) {
	d.mu.Lock()
	defer d.mu.Unlock()
	rec, ok := d.devices[id]
	if !ok {
		return handshake.DeviceRecord{}, fmt.Errorf("handshaketest: %w", handshake.ErrUnknownDevice)
	}
	return rec, nil
}

func (d *Directory) DeviceByKey(_ context.Context, p handshake.Name, key []byte) (handshake.DeviceRecord, error) {
	d.mu.Lock()
	defer d.mu.Unlock()
	for _, rec := range d.devices {
		if rec.Profile == p && bytes.Equal(rec.Key, key) {
			return rec, nil
		}
	}
	return handshake.DeviceRecord{}, fmt.Errorf("handshaketest: %w", handshake.ErrUnknownDevice)
}

func (d *Directory) AcceptCounter(_ context.Context, id string, c uint64) error {
	d.mu.Lock()
	defer d.mu.Unlock()
	if last, ok := d.counters[id]; ok && c <= last {
		return fmt.Errorf("handshaketest: %w", handshake.ErrCounterReplay)
	}
	d.counters[id] = c
	return nil
}

// Counter returns the last accepted counter of a device.
func (d *Directory) Counter(id string) uint64 {
	d.mu.Lock()
	defer d.mu.Unlock()
	return d.counters[id]
}
