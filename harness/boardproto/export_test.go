package boardproto

// Test hooks into unexported code.
var (
	AppendCOBS   = appendCOBS
	AppendUnCOBS = appendUnCOBS
	COBSMaxLen   = cobsMaxLen
)
