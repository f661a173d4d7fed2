package reports

import (
	"cmp"
	"encoding/json"
	"io"
	"slices"

	"shakedown/version"
)

// WriteJSON writes the run as indented JSON (format RunFormat): the
// document a later run compares against as its baseline.
func WriteJSON(w io.Writer, run *Run) error {
	r := *run
	r.Format = RunFormat
	if r.ShakedownVersion == "" {
		r.ShakedownVersion = version.String()
	}
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(&r)
}

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.SortFunc(keys, cmp.Compare[string])
	return keys
}
