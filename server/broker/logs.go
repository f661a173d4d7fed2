package broker

import (
	"context"
	"log/slog"
)

// mochiPacketError is the message of mochi's record for a packet that
// failed (server.go, receivePacket): it carries the whole packet, payload
// included, and a device can cause it at will.
const mochiPacketError = "error processing packet"

// packetKeys are the attribute keys under which mochi logs packets.
var packetKeys = map[string]bool{"pk": true, "packet": true}

// mochiLogs is the handler of mochi's own records. It drops the packets
// they carry, so that no payload reaches the log, and lowers the
// per-packet failure to debug: the hooks log each refusal at info, with
// its reason and rate-limited (lograte).
type mochiLogs struct{ slog.Handler }

func (h mochiLogs) Handle(ctx context.Context, r slog.Record) error {
	if r.Message == mochiPacketError && r.Level > slog.LevelDebug {
		r.Level = slog.LevelDebug
		if !h.Handler.Enabled(ctx, r.Level) {
			return nil
		}
	}
	out := slog.NewRecord(r.Time, r.Level, r.Message, r.PC)
	r.Attrs(func(a slog.Attr) bool {
		if !packetKeys[a.Key] {
			out.AddAttrs(a)
		}
		return true
	})
	return h.Handler.Handle(ctx, out)
}

func (h mochiLogs) WithAttrs(as []slog.Attr) slog.Handler {
	kept := make([]slog.Attr, 0, len(as))
	for _, a := range as {
		if !packetKeys[a.Key] {
			kept = append(kept, a)
		}
	}
	return mochiLogs{h.Handler.WithAttrs(kept)}
}

func (h mochiLogs) WithGroup(name string) slog.Handler { return mochiLogs{h.Handler.WithGroup(name)} }
