package app

import (
	"net/http"
	"net/http/pprof"
)

// pprofHandler serves Go's profiling endpoints (net/http/pprof) under
// /debug/pprof/: `serve --pprof ADDR`, off unless given an address. A
// profile shows the server's internals and costs CPU while it runs, so
// ADDR belongs on loopback; one beyond it is logged.
//
//	go tool pprof -seconds 30 http://127.0.0.1:6060/debug/pprof/profile
func pprofHandler() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("/debug/pprof/", pprof.Index)
	mux.HandleFunc("/debug/pprof/cmdline", pprof.Cmdline)
	mux.HandleFunc("/debug/pprof/profile", pprof.Profile)
	mux.HandleFunc("/debug/pprof/symbol", pprof.Symbol)
	mux.HandleFunc("/debug/pprof/trace", pprof.Trace)
	return mux
}
