package app

import (
	"log/slog"
	"net/http"
	"net/http/pprof"
	"sync"
	"time"

	"shakedown/server"
)

// servePprof serves Go's profiling endpoints (net/http/pprof) under
// /debug/pprof/ on addr, in a goroutine of wg until the returned server is
// closed. It is off unless `serve --pprof` gives an address: a profile
// shows the server's internals and costs CPU while it runs. A listener
// beyond loopback is logged at warn.
//
//	go tool pprof -seconds 30 http://127.0.0.1:6060/debug/pprof/profile
func servePprof(addr string, metrics *server.Metrics, log *slog.Logger, wg *sync.WaitGroup) (*http.Server, string, error) {
	ln, err := patientListener(addr, "pprof", metrics, log)
	if err != nil {
		return nil, "", err
	}
	if !onLoopback(ln.Addr().String()) {
		log.Warn("profiling endpoints listen beyond loopback, as asked", "addr", ln.Addr().String())
	}
	mux := http.NewServeMux()
	mux.HandleFunc("/debug/pprof/", pprof.Index)
	mux.HandleFunc("/debug/pprof/cmdline", pprof.Cmdline)
	mux.HandleFunc("/debug/pprof/profile", pprof.Profile)
	mux.HandleFunc("/debug/pprof/symbol", pprof.Symbol)
	mux.HandleFunc("/debug/pprof/trace", pprof.Trace)
	hs := &http.Server{Handler: mux, ReadHeaderTimeout: 5 * time.Second}
	wg.Add(1)
	go func() {
		defer wg.Done()
		hs.Serve(ln)
	}()
	return hs, ln.Addr().String(), nil
}
