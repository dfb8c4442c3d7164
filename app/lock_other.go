//go:build !unix

package app

// lockData is a no-op where flock is missing: run one exchange per
// data directory.
func lockData(string) (func(failed bool), error) { return func(bool) {}, nil }
