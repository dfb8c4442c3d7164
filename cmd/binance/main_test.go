package main

import "testing"

// TestStrayArgument: the flag package stops at an argument that is no flag,
// so the flags after it would be ignored; the face refuses to start instead
// (here it would otherwise fail later, connecting to a closed port).
func TestStrayArgument(t *testing.T) {
	if code := run([]string{"--nats-url", "nats://127.0.0.1:1", "stray", "--listen", "127.0.0.1:0"}); code != 2 {
		t.Errorf("exit %d, want 2", code)
	}
}
