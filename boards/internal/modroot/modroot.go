package modroot

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
)

// ErrNotFound: no folder from the start up to the file system's root holds
// a go.mod.
var ErrNotFound = errors.New("modroot: no go.mod above the working directory")

// Dir returns the nearest folder at or above the working directory that
// holds a go.mod.
func Dir() (string, error) {
	wd, err := os.Getwd()
	if err != nil {
		return "", fmt.Errorf("modroot: getting the working directory: %w", err)
	}
	return From(wd)
}

// From returns the nearest folder at or above dir that holds a go.mod. The
// walk ends at the file system's root: each step removes one element of
// the path.
func From(dir string) (string, error) {
	dir = filepath.Clean(dir)
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			return dir, nil
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return "", ErrNotFound
		}
		dir = parent
	}
}
