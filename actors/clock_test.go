package actors

import (
	"testing"
	"time"
)

// TestWallClockFollowsTheWallClock: the default clock reads the wall clock
// to the millisecond, and a stale anchor (here a wrong one, as after a
// step of the wall clock) is replaced within a second.
func TestWallClockFollowsTheWallClock(t *testing.T) {
	c := newWallClock()
	near := func(what string) {
		t.Helper()
		lo := time.Now().UnixMilli()
		got := c.now()
		if hi := time.Now().UnixMilli(); got < lo-1 || got > hi+1 {
			t.Fatalf("%s: %d, wall clock %d..%d", what, got, lo, hi)
		}
	}
	near("fresh anchor")
	time.Sleep(20 * time.Millisecond)
	near("20 ms later")
	c.at.Store(&clockAnchor{t: time.Now().Add(-2 * time.Second), ms: 42})
	near("stale, wrong anchor")
}
