// Package lograte bounds the log records that peers can cause at will:
// refused packets, failed handshakes, broken records. Each key (a reason
// code) may log Burst records per Interval; further records of the key in
// that interval are counted instead, and the key's next record says how many
// were suppressed. A flood of one reason neither fills the log nor hides
// the other reasons.
//
//	refusals := lograte.New(log, lograte.DefaultInterval, lograte.DefaultBurst)
//	refusals.Info(string(reason), "publish refused", "reason", reason, "device", id)
package lograte
