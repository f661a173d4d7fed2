package arch

// LongFunctions names the functions outside tests that may run over
// MaxFunctionLines because they read like a specification: a table of
// cases that one reads top to bottom beside the text it implements.
// Each entry is "path/to/file.go:FunctionName" relative to the module root,
// with the reason beside it.
var LongFunctions = map[string]string{}

// MaxFunctionLines is the longest a function outside tests may run, from
// its `func` line to its closing brace.
const MaxFunctionLines = 100
