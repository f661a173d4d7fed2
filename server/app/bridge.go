package app

import (
	"context"
	"log/slog"

	"shakedown/server"
	"shakedown/server/bridge"
)

// newBridge returns the sink that carries device sessions to an external
// broker, enforcing the same identity and topic rules as the embedded one.
func newBridge(cfg server.Config, metrics *server.Metrics, grants func(string) []string, passwords func(context.Context, string, []byte) error, log *slog.Logger) (*bridge.Bridge, error) {
	return bridge.New(bridge.Options{
		Broker:    cfg.Broker,
		Grants:    grants,
		Passwords: passwords,
		Observer:  metrics,
		// The same bound as the embedded broker's wait for CONNECT.
		ConnectTimeout: cfg.ConnectTimeout,
		Logger:         log.With("component", "bridge"),
	})
}
