package handshaketest

import (
	"bytes"
	"encoding/json"
	"fmt"
	"slices"
	"strconv"
)

// JSONNumbers returns where the JSON document doc holds numbers, as paths
// such as "vectors[0].shakedown_counter", in document order for arrays and
// sorted by key for objects.
//
// The test vector files hold none: a 64-bit integer is written as a string
// of decimal digits, because a JSON number above 2^53 loses precision in a
// reader that parses numbers as IEEE 754 doubles, as JavaScript does (RFC
// 8259 §6; docs/protocol.md, "Test vectors").
func JSONNumbers(doc []byte) ([]string, error) {
	dec := json.NewDecoder(bytes.NewReader(doc))
	dec.UseNumber()
	var v any
	if err := dec.Decode(&v); err != nil {
		return nil, fmt.Errorf("handshaketest: decoding a JSON document: %w", err)
	}
	var out []string
	walkNumbers(v, "", &out)
	return out, nil
}

func walkNumbers(v any, path string, out *[]string) {
	switch t := v.(type) {
	case json.Number:
		*out = append(*out, path)
	case []any:
		for i, e := range t {
			walkNumbers(e, path+"["+strconv.Itoa(i)+"]", out)
		}
	case map[string]any:
		keys := make([]string, 0, len(t))
		for k := range t {
			keys = append(keys, k)
		}
		slices.Sort(keys)
		for _, k := range keys {
			p := k
			if path != "" {
				p = path + "." + k
			}
			walkNumbers(t[k], p, out)
		}
	}
}
