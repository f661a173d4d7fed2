// Package accept keeps a server's accept loops alive through failures that
// pass, such as running out of file descriptors (EMFILE, ENFILE) or kernel
// buffers (ENOBUFS, ENOMEM).
//
// A plain `for { ln.Accept() }` loop either spins on such an error, burning
// a core and flooding the log while the condition lasts, or gives up and
// leaves the listener dead (mochi-mqtt's listeners return on any error).
// Wrap the listener instead, and keep the loop as it was:
//
//	ln, err := net.Listen("tcp", "127.0.0.1:0")
//	...
//	pl := accept.Wrap(ln, func(err error, wait time.Duration) {
//		log.Warn("accept failed", "err", err, "retry_in", wait)
//	})
//	for {
//		c, err := pl.Accept() // only a closed listener ends the loop
//		if err != nil {
//			return
//		}
//		go serve(c)
//	}
//
// After a failed Accept the wrapper waits, from MinWait doubling up to
// MaxWait, then tries again; one success resets the wait. Close ends a
// wait at once. The conns it returns are the listener's, unchanged.
package accept
