package registry

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"sync"
	"time"

	"shakedown/handshake"
	"shakedown/handshake/noise"
	"shakedown/server/credential"
)

// Statements shared by both backends. Every statement uses $N placeholders.
const (
	deviceColumns = deviceColumnsV1 + `, counter_reset_us`
	recordColumns = `id, profile, curve, key_material, state`

	recordByIDSQL  = `SELECT ` + recordColumns + ` FROM devices WHERE id = $1`
	recordByKeySQL = `SELECT ` + recordColumns + ` FROM devices WHERE profile = $1 AND key_material = $2`
	deviceByIDSQL  = `SELECT ` + deviceColumns + ` FROM devices WHERE id = $1`
	insertDevice   = `INSERT INTO devices (` + deviceColumns + `) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)`
	existsSQL      = `SELECT COUNT(*) FROM devices WHERE id = $1 OR (profile = $2 AND key_material = $3)`
	listSQL        = `SELECT ` + deviceColumns + ` FROM devices
		WHERE ($1 = '' OR profile = $1) AND ($2 = '' OR state = $2) AND id > $3
		ORDER BY id LIMIT $4`
	revokeSQL = `UPDATE devices SET state = 'revoked' WHERE id = $1`

	// acceptCounterSQL accepts counter $2 for device $1 at time $3, in one
	// conditional UPDATE. The column holds the uint64 counter's bits as a
	// signed integer, so "stored < $2" is an unsigned comparison: when the
	// signs agree, the signed order is the unsigned order; when they differ,
	// the non-negative value is the smaller unsigned one.
	// The casts fix the parameters' type, which PostgreSQL would otherwise
	// infer from the literal 0 as a 32-bit integer.
	acceptCounterSQL = `UPDATE devices
		SET counter = CAST($2 AS BIGINT),
		    last_seen_us = CASE WHEN last_seen_us < CAST($3 AS BIGINT) THEN CAST($3 AS BIGINT) ELSE last_seen_us END
		WHERE id = $1 AND state = 'active'
		  AND CASE WHEN (counter < 0) = (CAST($2 AS BIGINT) < 0) THEN counter < CAST($2 AS BIGINT) ELSE counter >= 0 END`
	// counterStateSQL tells why acceptCounterSQL changed no row.
	counterStateSQL = `SELECT profile, state FROM devices WHERE id = $1`

	touchSQL = `UPDATE devices SET last_seen_us = $2 WHERE id = $1 AND last_seen_us < $2`

	// ResetCounter's statements, in one transaction. The first UPDATE takes
	// the row (PostgreSQL's row lock; SQLite's writer holds the file), so
	// no AcceptCounter lands between reading and zeroing the counter.
	markResetSQL      = `UPDATE devices SET counter_reset_us = $2 WHERE id = $1`
	counterSQL        = `SELECT counter FROM devices WHERE id = $1`
	zeroCounterSQL    = `UPDATE devices SET counter = 0 WHERE id = $1`
	auditResetSQL     = `INSERT INTO counter_resets (device_id, previous, reset_us) VALUES ($1, $2, $3)`
	storedPasswordSQL = `SELECT ` + recordColumns + `, password_hash FROM devices WHERE id = $1`

	passwordKeySQL = `SELECT secret FROM server_secrets WHERE name = 'mqtt_password'`
	// insertPasswordKeySQL makes the key unless another process just did.
	insertPasswordKeySQL = `INSERT INTO server_secrets (name, secret, since_us) VALUES ('mqtt_password', $1, $2)
		ON CONFLICT (name) DO NOTHING`

	serverKeysSQL = `SELECT role, private, public, since_us FROM server_keys`
	insertKeySQL  = `INSERT INTO server_keys (role, private, public, since_us) VALUES ($1, $2, $3, $4)`
	deleteKeySQL  = `DELETE FROM server_keys WHERE role = $1`
	moveKeySQL    = `UPDATE server_keys SET role = $2, since_us = $3 WHERE role = $1`
)

// Tuning.
const (
	// importChunk is how many devices one round of ImportDevices sends;
	// all rounds share one transaction.
	importChunk = 1000
	// maxLookupKeyLen bounds a key looked up by DeviceByKey; no registered
	// key is longer (P256PointLen is the longest).
	maxLookupKeyLen = P256PointLen
	// backgroundTimeout bounds one commit of the background writers.
	backgroundTimeout = 30 * time.Second
)

// Errors of the handshake path: fixed texts, never the ID or key looked up.
var (
	errUnknown  = fmt.Errorf("registry: %w", handshake.ErrUnknownDevice)
	errReplay   = fmt.Errorf("registry: %w", handshake.ErrCounterReplay)
	errReserved = errors.New("registry: message-1 counter 2^64-1 is reserved")
)

// store implements Registry over a backend.
type store struct {
	b      backend
	commit *committer
	seen   *seenBatcher

	keyMu       sync.Mutex
	passwordKey []byte // read or made once: it never changes

	closeOnce sync.Once
	closeErr  error
}

func newStore(b backend) *store {
	return &store{b: b, commit: startCommitter(b), seen: startSeenBatcher(b)}
}

// lookupError builds the error of a failed lookup.
func lookupError(p handshake.Name, reason handshake.Reason, err error) error {
	return &handshake.Error{Profile: p, Stage: handshake.StageLookup, Reason: reason, Err: err}
}

func (s *store) DeviceByID(ctx context.Context, id string) (handshake.DeviceRecord, error) {
	if !validID(id) {
		// No such ID can be registered; do not send it to the database,
		// whose errors might quote it.
		return handshake.DeviceRecord{}, lookupError("", handshake.ReasonUnknownDevice, errUnknown)
	}
	rec, err := scanRecord(s.b.queryRow(ctx, recordByIDSQL, id))
	if err != nil {
		return rec, s.lookupFailed("", err)
	}
	return rec, nil
}

func (s *store) DeviceByKey(ctx context.Context, p handshake.Name, key []byte) (handshake.DeviceRecord, error) {
	if len(key) == 0 || len(key) > maxLookupKeyLen {
		return handshake.DeviceRecord{}, lookupError(p, handshake.ReasonUnknownDevice, errUnknown)
	}
	rec, err := scanRecord(s.b.queryRow(ctx, recordByKeySQL, string(p), key))
	if err != nil {
		return rec, s.lookupFailed(p, err)
	}
	return rec, nil
}

func (s *store) lookupFailed(p handshake.Name, err error) error {
	if errors.Is(err, sql.ErrNoRows) {
		return lookupError(p, handshake.ReasonUnknownDevice, errUnknown)
	}
	return lookupError(p, handshake.ReasonRegistry, fmt.Errorf("registry: looking up device: %w", err))
}

func (s *store) AcceptCounter(ctx context.Context, id string, counter uint64) error {
	if !validID(id) {
		return counterError("", handshake.ReasonUnknownDevice, errUnknown)
	}
	if counter == noise.CounterReserved {
		return counterError("", handshake.ReasonCounterReserved, errReserved)
	}
	affected, err := s.commit.accept(ctx, []any{id, encodeCounter(counter), time.Now().UnixMicro()})
	if err != nil {
		return counterError("", handshake.ReasonRegistry, fmt.Errorf("registry: accepting counter: %w", err))
	}
	if affected == 1 {
		return nil
	}
	// No row changed: tell unknown, revoked and replayed apart.
	var profile, state string
	err = s.b.queryRow(ctx, counterStateSQL, id).Scan(&profile, &state)
	switch {
	case errors.Is(err, sql.ErrNoRows):
		return counterError("", handshake.ReasonUnknownDevice, errUnknown)
	case err != nil:
		return counterError("", handshake.ReasonRegistry, fmt.Errorf("registry: accepting counter: %w", err))
	case State(state) == Revoked:
		return counterError(handshake.Name(profile), handshake.ReasonRevoked, fmt.Errorf("registry: %w", ErrRevoked))
	}
	return counterError(handshake.Name(profile), handshake.ReasonCounterReplay, errReplay)
}

// counterError builds the error of a refused message-1 counter.
func counterError(p handshake.Name, reason handshake.Reason, err error) error {
	return &handshake.Error{Profile: p, Stage: handshake.StageMsg1, Reason: reason, Err: err}
}

func (s *store) Device(ctx context.Context, id string) (Device, error) {
	if !validID(id) {
		return Device{}, fmt.Errorf("registry: reading device: %w", handshake.ErrUnknownDevice)
	}
	d, err := scanDevice(s.b.queryRow(ctx, deviceByIDSQL, id))
	switch {
	case errors.Is(err, sql.ErrNoRows):
		return Device{}, fmt.Errorf("registry: reading device %q: %w", id, handshake.ErrUnknownDevice)
	case err != nil:
		return Device{}, fmt.Errorf("registry: reading device %q: %w", id, err)
	}
	return d, nil
}

func (s *store) AddDevice(ctx context.Context, d Device) error {
	if err := d.normalize(time.Now()); err != nil {
		return fmt.Errorf("registry: adding device: %w", err)
	}
	if err := s.checkPasswordKey(ctx, d); err != nil {
		return fmt.Errorf("registry: adding device %q: %w", d.ID, err)
	}
	_, err := s.b.exec(ctx, insertDevice, deviceArgs(&d)...)
	switch {
	case s.b.isConflict(err):
		return fmt.Errorf("registry: adding device %q: ID or key registered: %w", d.ID, ErrExists)
	case err != nil:
		return fmt.Errorf("registry: adding device %q: %w", d.ID, err)
	}
	return nil
}

func (s *store) ImportDevices(ctx context.Context, ds []Device) error {
	now := time.Now()
	args := make([][]any, len(ds))
	ids := make(map[string]int, len(ds))
	keys := make(map[string]int, len(ds))
	for i := range ds {
		d := ds[i]
		if err := d.normalize(now); err != nil {
			return fmt.Errorf("registry: importing devices: device %d: %w", i, err)
		}
		if j, dup := ids[d.ID]; dup {
			return fmt.Errorf("registry: importing devices: devices %d and %d have the same ID: %w", j, i, ErrExists)
		}
		ids[d.ID] = i
		if len(d.Key) > 0 {
			k := string(d.Profile) + "\x00" + string(d.Key)
			if j, dup := keys[k]; dup {
				return fmt.Errorf("registry: importing devices: devices %d and %d have the same key: %w", j, i, ErrExists)
			}
			keys[k] = i
		}
		if err := s.checkPasswordKey(ctx, d); err != nil {
			return fmt.Errorf("registry: importing devices: device %d (%q): %w", i, d.ID, err)
		}
		args[i] = deviceArgs(&d)
	}
	err := s.b.inTx(ctx, func(tx querier) error {
		for start := 0; start < len(args); start += importChunk {
			if err := s.insertChunk(ctx, tx, args[start:min(start+importChunk, len(args))]); err != nil {
				return err
			}
		}
		return nil
	})
	switch {
	case s.b.isConflict(err):
		return s.importConflict(ctx, ds)
	case err != nil:
		return fmt.Errorf("registry: importing devices: %w", err)
	}
	return nil
}

// insertChunk inserts devices with one multi-row INSERT.
func (s *store) insertChunk(ctx context.Context, tx querier, rows [][]any) error {
	var q strings.Builder
	q.WriteString(`INSERT INTO devices (` + deviceColumns + `) VALUES `)
	flat := make([]any, 0, len(rows)*len(rows[0]))
	for i, r := range rows {
		if i > 0 {
			q.WriteString(", ")
		}
		q.WriteByte('(')
		for j, a := range r {
			if j > 0 {
				q.WriteString(", ")
			}
			flat = append(flat, a)
			q.WriteString(s.b.placeholder(len(flat)))
		}
		q.WriteByte(')')
	}
	_, err := tx.exec(ctx, q.String(), flat...)
	return err
}

// importConflict names the first device of a refused import that is
// already registered. The import was rolled back, so the database holds
// only what was there before.
func (s *store) importConflict(ctx context.Context, ds []Device) error {
	for i, d := range ds {
		var n int
		err := s.b.queryRow(ctx, existsSQL, d.ID, string(d.Profile), keyArg(d.Key)).Scan(&n)
		if err != nil {
			break
		}
		if n > 0 {
			return fmt.Errorf("registry: importing devices: device %d (%q): ID or key registered: %w", i, d.ID, ErrExists)
		}
	}
	return fmt.Errorf("registry: importing devices: an ID or key is registered: %w", ErrExists)
}

func (s *store) ListDevices(ctx context.Context, opt ListOptions) (Page, error) {
	limit, err := opt.check()
	if err != nil {
		return Page{}, err
	}
	rows, err := s.b.query(ctx, listSQL, string(opt.Profile), string(opt.State), opt.After, limit+1)
	if err != nil {
		return Page{}, fmt.Errorf("registry: listing devices: %w", err)
	}
	defer rows.Close()
	var p Page
	for rows.Next() {
		d, err := scanDevice(rows)
		if err != nil {
			return Page{}, fmt.Errorf("registry: listing devices: %w", err)
		}
		p.Devices = append(p.Devices, d)
	}
	if err := rows.Err(); err != nil {
		return Page{}, fmt.Errorf("registry: listing devices: %w", err)
	}
	if len(p.Devices) > limit {
		p.Devices = p.Devices[:limit]
		p.Next = p.Devices[limit-1].ID
	}
	return p, nil
}

func (s *store) ExportDevices(ctx context.Context, opt ListOptions, fn func(Device) error) error {
	for {
		p, err := s.ListDevices(ctx, opt)
		if err != nil {
			return err
		}
		for _, d := range p.Devices {
			if err := fn(d); err != nil {
				return err
			}
		}
		if p.Next == "" {
			return nil
		}
		opt.After = p.Next
	}
}

func (s *store) Revoke(ctx context.Context, id string) error {
	if !validID(id) {
		return fmt.Errorf("registry: revoking device: %w", handshake.ErrUnknownDevice)
	}
	n, err := s.b.exec(ctx, revokeSQL, id)
	switch {
	case err != nil:
		return fmt.Errorf("registry: revoking device %q: %w", id, err)
	case n == 0:
		return fmt.Errorf("registry: revoking device %q: %w", id, handshake.ErrUnknownDevice)
	}
	return nil
}

func (s *store) ResetCounter(ctx context.Context, id string) (uint64, error) {
	if !validID(id) {
		return 0, fmt.Errorf("registry: resetting counter: %w", handshake.ErrUnknownDevice)
	}
	var previous int64
	now := time.Now().UnixMicro()
	err := s.b.inTx(ctx, func(tx querier) error {
		n, err := tx.exec(ctx, markResetSQL, id, now)
		switch {
		case err != nil:
			return err
		case n == 0:
			return handshake.ErrUnknownDevice
		}
		if err := tx.queryRow(ctx, counterSQL, id).Scan(&previous); err != nil {
			return err
		}
		if _, err := tx.exec(ctx, zeroCounterSQL, id); err != nil {
			return err
		}
		_, err = tx.exec(ctx, auditResetSQL, id, previous, now)
		return err
	})
	if err != nil {
		return 0, fmt.Errorf("registry: resetting the counter of %q: %w", id, err)
	}
	return decodeCounter(previous), nil
}

func (s *store) TouchLastSeen(id string, t time.Time) {
	if validID(id) {
		s.seen.note(id, t.UnixMicro())
	}
}

func (s *store) StoredPassword(ctx context.Context, id string) (handshake.DeviceRecord, string, error) {
	if !validID(id) {
		return handshake.DeviceRecord{}, "", lookupError("", handshake.ReasonUnknownDevice, errUnknown)
	}
	var rec handshake.DeviceRecord
	var profile, state, hash string
	err := s.b.queryRow(ctx, storedPasswordSQL, id).Scan(&rec.ID, &profile, &rec.Curve, &rec.Key, &state, &hash)
	if err != nil {
		return handshake.DeviceRecord{}, "", s.lookupFailed("", err)
	}
	rec.Profile = handshake.Name(profile)
	rec.Revoked = State(state) == Revoked
	return rec, hash, nil
}

func (s *store) PasswordKey(ctx context.Context) ([]byte, error) {
	s.keyMu.Lock()
	defer s.keyMu.Unlock()
	if s.passwordKey != nil {
		return s.passwordKey, nil
	}
	var k []byte
	err := s.b.queryRow(ctx, passwordKeySQL).Scan(&k)
	if errors.Is(err, sql.ErrNoRows) {
		fresh, kerr := credential.NewKey()
		if kerr != nil {
			return nil, fmt.Errorf("registry: making the password key: %w", kerr)
		}
		if _, err := s.b.exec(ctx, insertPasswordKeySQL, fresh, time.Now().UnixMicro()); err != nil {
			return nil, fmt.Errorf("registry: storing the password key: %w", err)
		}
		// Read back what won: another gateway may have stored its key first.
		err = s.b.queryRow(ctx, passwordKeySQL).Scan(&k)
	}
	if err != nil {
		return nil, fmt.Errorf("registry: reading the password key: %w", err)
	}
	if len(k) != credential.KeyLen {
		return nil, fmt.Errorf("registry: the stored password key is not %d bytes: %w", credential.KeyLen, ErrInvalid)
	}
	s.passwordKey = k
	return k, nil
}

// checkPasswordKey refuses a machine password hash made under another
// registry's key: it could never match.
func (s *store) checkPasswordKey(ctx context.Context, d Device) error {
	if d.PasswordHash == "" {
		return nil
	}
	h, err := credential.Parse(d.PasswordHash)
	if err != nil || h.Scheme() != credential.SchemeHMAC {
		return nil // validate judged the format
	}
	k, err := s.PasswordKey(ctx)
	if err != nil {
		return err
	}
	if mine := credential.KeyID(k); h.KeyID() != mine {
		return fmt.Errorf("password_hash: made under password key %s, this registry's is %s; register the device's password again (devices add --password-file): %w",
			h.KeyID(), mine, ErrInvalid)
	}
	return nil
}

func (s *store) ServerKeys(ctx context.Context) (ServerKeys, error) {
	keys, err := readServerKeys(ctx, s.b)
	if err != nil {
		return ServerKeys{}, fmt.Errorf("registry: reading server keys: %w", err)
	}
	if keys.Current == nil {
		return keys, fmt.Errorf("registry: reading server keys: none promoted: %w", ErrNoServerKey)
	}
	return keys, nil
}

func (s *store) AnnounceNextKey(ctx context.Context, kp Keypair) error {
	if err := kp.check(); err != nil {
		return err
	}
	err := s.b.inTx(ctx, func(tx querier) error {
		if err := s.b.lock(ctx, tx); err != nil {
			return err
		}
		keys, err := readServerKeys(ctx, tx)
		if err != nil {
			return err
		}
		switch {
		case keys.Next != nil && keys.Next.sameAs(kp):
			return nil
		case keys.Next != nil:
			return fmt.Errorf("another next key is announced: %w", ErrExists)
		case keys.Current != nil && keys.Current.sameAs(kp):
			return fmt.Errorf("the key is current: %w", ErrExists)
		case keys.Previous != nil && keys.Previous.sameAs(kp):
			return fmt.Errorf("the key was retired: %w", ErrExists)
		}
		_, err = tx.exec(ctx, insertKeySQL, roleNext, kp.Private, kp.Public, time.Now().UnixMicro())
		return err
	})
	if err != nil {
		return fmt.Errorf("registry: announcing next server key: %w", err)
	}
	return nil
}

func (s *store) PromoteNextKey(ctx context.Context) error {
	err := s.b.inTx(ctx, func(tx querier) error {
		if err := s.b.lock(ctx, tx); err != nil {
			return err
		}
		keys, err := readServerKeys(ctx, tx)
		if err != nil {
			return err
		}
		if keys.Next == nil {
			return fmt.Errorf("none announced: %w", ErrNoServerKey)
		}
		now := time.Now().UnixMicro()
		if _, err := tx.exec(ctx, deleteKeySQL, rolePrevious); err != nil {
			return err
		}
		if _, err := tx.exec(ctx, moveKeySQL, roleCurrent, rolePrevious, now); err != nil {
			return err
		}
		_, err = tx.exec(ctx, moveKeySQL, roleNext, roleCurrent, now)
		return err
	})
	if err != nil {
		return fmt.Errorf("registry: promoting next server key: %w", err)
	}
	return nil
}

func (s *store) Close() error {
	s.closeOnce.Do(func() {
		s.closeErr = s.seen.close()
		s.commit.close()
		s.b.close()
	})
	return s.closeErr
}

// readServerKeys reads the server_keys table.
func readServerKeys(ctx context.Context, q querier) (ServerKeys, error) {
	rows, err := q.query(ctx, serverKeysSQL)
	if err != nil {
		return ServerKeys{}, err
	}
	defer rows.Close()
	var keys ServerKeys
	for rows.Next() {
		var role string
		var since int64
		k := new(ServerKey)
		if err := rows.Scan(&role, &k.Private, &k.Public, &since); err != nil {
			return ServerKeys{}, err
		}
		k.Since = time.UnixMicro(since).UTC()
		switch role {
		case roleCurrent:
			keys.Current = k
		case roleNext:
			keys.Next = k
		case rolePrevious:
			keys.Previous = k
		}
	}
	return keys, rows.Err()
}

func (k *ServerKey) sameAs(kp Keypair) bool {
	return string(k.Public) == string(kp.Public) && string(k.Private) == string(kp.Private)
}

// deviceArgs returns the values of deviceColumns for d.
func deviceArgs(d *Device) []any {
	grants := "[]"
	if len(d.Grants) > 0 {
		b, _ := json.Marshal(d.Grants) // []string always marshals
		grants = string(b)
	}
	var seen int64
	if !d.LastSeen.IsZero() {
		seen = d.LastSeen.UnixMicro()
	}
	var reset int64
	if !d.CounterReset.IsZero() {
		reset = d.CounterReset.UnixMicro()
	}
	return []any{d.ID, string(d.Profile), d.Curve, keyArg(d.Key), string(d.State),
		encodeCounter(d.Counter), d.PasswordHash, grants, d.Created.UnixMicro(), seen, reset}
}

// keyArg stores an empty key as NULL, so that keyless devices never collide
// in the unique index on (profile, key_material).
func keyArg(k []byte) any {
	if len(k) == 0 {
		return nil
	}
	return k
}

// scanRecord reads recordColumns.
func scanRecord(row scanner) (handshake.DeviceRecord, error) {
	var rec handshake.DeviceRecord
	var profile, state string
	if err := row.Scan(&rec.ID, &profile, &rec.Curve, &rec.Key, &state); err != nil {
		return handshake.DeviceRecord{}, err
	}
	rec.Profile = handshake.Name(profile)
	rec.Revoked = State(state) == Revoked
	return rec, nil
}

// scanDevice reads deviceColumns.
func scanDevice(row scanner) (Device, error) {
	var d Device
	var profile, state, grants string
	var counter, created, seen, reset int64
	err := row.Scan(&d.ID, &profile, &d.Curve, &d.Key, &state, &counter, &d.PasswordHash, &grants, &created, &seen, &reset)
	if err != nil {
		return Device{}, err
	}
	d.Profile, d.State, d.Counter = handshake.Name(profile), State(state), decodeCounter(counter)
	d.Created = time.UnixMicro(created).UTC()
	if seen != 0 {
		d.LastSeen = time.UnixMicro(seen).UTC()
	}
	if reset != 0 {
		d.CounterReset = time.UnixMicro(reset).UTC()
	}
	if err := json.Unmarshal([]byte(grants), &d.Grants); err != nil {
		return Device{}, fmt.Errorf("decoding grants: %w", err)
	}
	if len(d.Grants) == 0 {
		d.Grants = nil
	}
	return d, nil
}

// encodeCounter stores a uint64 counter's bits in a signed 64-bit column;
// acceptCounterSQL compares stored values as unsigned.
func encodeCounter(c uint64) int64 { return int64(c) }

func decodeCounter(v int64) uint64 { return uint64(v) }
