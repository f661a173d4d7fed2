package handshake_test

import (
	"go/ast"
	"go/parser"
	"go/token"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"

	"shakedown/handshake"
)

// contract is every reason code with the value it has always had: the
// metric label values, log values and report columns that dashboards and
// results files depend on (and, through harness/boardproto, the values
// behind the board protocol's wire codes). A value here changes only with
// a new protocol version.
var contract = map[string]struct {
	got  handshake.Reason
	want string
}{
	"ReasonNone": {handshake.ReasonNone, ""},
	// handshakes and records
	"ReasonIO":              {handshake.ReasonIO, "io"},
	"ReasonTimeout":         {handshake.ReasonTimeout, "timeout"},
	"ReasonShortFrame":      {handshake.ReasonShortFrame, "short_frame"},
	"ReasonOversizeFrame":   {handshake.ReasonOversizeFrame, "oversize_frame"},
	"ReasonMalformed":       {handshake.ReasonMalformed, "malformed"},
	"ReasonDecrypt":         {handshake.ReasonDecrypt, "decrypt_failed"},
	"ReasonUnknownDevice":   {handshake.ReasonUnknownDevice, "unknown_device"},
	"ReasonRevoked":         {handshake.ReasonRevoked, "revoked"},
	"ReasonWrongProfile":    {handshake.ReasonWrongProfile, "wrong_profile"},
	"ReasonCounterReplay":   {handshake.ReasonCounterReplay, "counter_replay"},
	"ReasonBadPoint":        {handshake.ReasonBadPoint, "bad_point"},
	"ReasonUnknownServer":   {handshake.ReasonUnknownServer, "unknown_server"},
	"ReasonCertificate":     {handshake.ReasonCertificate, "cert_rejected"},
	"ReasonRegistry":        {handshake.ReasonRegistry, "registry"},
	"ReasonInternal":        {handshake.ReasonInternal, "internal"},
	"ReasonCounterReserved": {handshake.ReasonCounterReserved, "counter_reserved"},
	"ReasonTimeUnavailable": {handshake.ReasonTimeUnavailable, "time_unavailable"},
	"ReasonTimeRejected":    {handshake.ReasonTimeRejected, "time_rejected"},
	// admission (was package server)
	"ReasonRateLimited":  {handshake.ReasonRateLimited, "rate_limited"},
	"ReasonEvicted":      {handshake.ReasonEvicted, "evicted"},
	"ReasonHalfOpenFull": {handshake.ReasonHalfOpenFull, "half_open_full"},
	// MQTT (was packages server/broker and server/bridge)
	"ReasonClientID":          {handshake.ReasonClientID, "client_id"},
	"ReasonBadUsername":       {handshake.ReasonBadUsername, "bad_username"},
	"ReasonBadPassword":       {handshake.ReasonBadPassword, "bad_password"},
	"ReasonACLPublish":        {handshake.ReasonACLPublish, "acl_publish"},
	"ReasonACLSubscribe":      {handshake.ReasonACLSubscribe, "acl_subscribe"},
	"ReasonACLWill":           {handshake.ReasonACLWill, "acl_will"},
	"ReasonProtocolViolation": {handshake.ReasonProtocolViolation, "protocol_violation"},
	"ReasonOversizePacket":    {handshake.ReasonOversizePacket, "oversize_packet"},
	"ReasonConnectTimeout":    {handshake.ReasonConnectTimeout, "connect_timeout"},
	"ReasonIdleTimeout":       {handshake.ReasonIdleTimeout, "idle_timeout"},
	"ReasonBrokerUnavailable": {handshake.ReasonBrokerUnavailable, "broker_unavailable"},
	// devices (was packages simulator and mitm)
	"ReasonFDLimit":        {handshake.ReasonFDLimit, "fd_limit"},
	"ReasonNoSourcePort":   {handshake.ReasonNoSourcePort, "no_source_port"},
	"ReasonConnRefused":    {handshake.ReasonConnRefused, "conn_refused"},
	"ReasonConnReset":      {handshake.ReasonConnReset, "conn_reset"},
	"ReasonNotAuthorized":  {handshake.ReasonNotAuthorized, "not_authorized"},
	"ReasonBadCredentials": {handshake.ReasonBadCredentials, "bad_credentials"},
	"ReasonConnackRefused": {handshake.ReasonConnackRefused, "connack_refused"},
	"ReasonSubackRefused":  {handshake.ReasonSubackRefused, "suback_refused"},
	"ReasonAckTimeout":     {handshake.ReasonAckTimeout, "ack_timeout"},
	"ReasonNotReceived":    {handshake.ReasonNotReceived, "not_received"},
	// the board link (was package harness/boardproto)
	"ReasonBadChecksum":        {handshake.ReasonBadChecksum, "bad_checksum"},
	"ReasonUnsupportedVersion": {handshake.ReasonUnsupportedVersion, "unsupported_version"},
	"ReasonBoardReset":         {handshake.ReasonBoardReset, "board_reset"},
	"ReasonLinkLost":           {handshake.ReasonLinkLost, "link_lost"},
	"ReasonResetUnavailable":   {handshake.ReasonResetUnavailable, "reset_unavailable"},
	"ReasonNoResponse":         {handshake.ReasonNoResponse, "no_response"},
	// board statuses ("board_" and the status name, docs/board-protocol.md §6.1)
	"ReasonBoardUnknownCommand":     {handshake.ReasonBoardUnknownCommand, "board_unknown_command"},
	"ReasonBoardBadLength":          {handshake.ReasonBoardBadLength, "board_bad_length"},
	"ReasonBoardBadValue":           {handshake.ReasonBoardBadValue, "board_bad_value"},
	"ReasonBoardUnsupported":        {handshake.ReasonBoardUnsupported, "board_unsupported"},
	"ReasonBoardBusy":               {handshake.ReasonBoardBusy, "board_busy"},
	"ReasonBoardNotProvisioned":     {handshake.ReasonBoardNotProvisioned, "board_not_provisioned"},
	"ReasonBoardNoSession":          {handshake.ReasonBoardNoSession, "board_no_session"},
	"ReasonBoardStorage":            {handshake.ReasonBoardStorage, "board_storage"},
	"ReasonBoardUnsupportedVersion": {handshake.ReasonBoardUnsupportedVersion, "board_unsupported_version"},
	"ReasonBoardNoCredit":           {handshake.ReasonBoardNoCredit, "board_no_credit"},
	"ReasonBoardTooLarge":           {handshake.ReasonBoardTooLarge, "board_too_large"},
	"ReasonBoardInternal":           {handshake.ReasonBoardInternal, "board_internal"},
}

// declaredReasons returns the names of the constants of type Reason that
// reasons.go declares.
func declaredReasons() []string {
	f, err := parser.ParseFile(token.NewFileSet(), "reasons.go", nil, parser.SkipObjectResolution)
	Expect(err).NotTo(HaveOccurred())
	var names []string
	for _, decl := range f.Decls {
		gd, ok := decl.(*ast.GenDecl)
		if !ok || gd.Tok != token.CONST {
			continue
		}
		for _, spec := range gd.Specs {
			vs := spec.(*ast.ValueSpec)
			if id, ok := vs.Type.(*ast.Ident); ok && id.Name == "Reason" {
				for _, n := range vs.Names {
					names = append(names, n.Name)
				}
			}
		}
	}
	return names
}

var _ = Describe("the reason codes", func() {
	It("keep the values they have always had", func() {
		for name, c := range contract {
			Expect(string(c.got)).To(Equal(c.want), name)
		}
	})

	It("are all in the contract, each once", func() {
		declared := declaredReasons()
		Expect(declared).To(HaveLen(len(contract)), "reasons.go declares a reason the contract lacks, or the reverse")
		seen := map[handshake.Reason]string{}
		for _, name := range declared {
			c, ok := contract[name]
			Expect(ok).To(BeTrue(), "%s is missing from the contract", name)
			Expect(seen).NotTo(HaveKey(c.got), "%s has the value of %s", name, seen[c.got])
			seen[c.got] = name
		}
	})

	It("leave the unknown board statuses their prefix", func() {
		Expect(handshake.ReasonBoardStatusPrefix).To(Equal("board_status_"))
	})
})
