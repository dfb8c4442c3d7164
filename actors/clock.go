package actors

import (
	"sync/atomic"
	"time"
)

// wallClock is the default Options.Now: unix milliseconds from the
// monotonic clock since an anchor on the wall clock, one clock read per
// call where time.Now takes two (wall and monotonic); every order's
// created_ms reads it. The anchor is renewed after a second, so a step of
// the wall clock shows within a second, as it would with time.Now.
type wallClock struct{ at atomic.Pointer[clockAnchor] }

type clockAnchor struct {
	t  time.Time // carries the monotonic reading
	ms int64     // t's unix milliseconds
}

func newWallClock() *wallClock {
	c := &wallClock{}
	c.anchor()
	return c
}

func (c *wallClock) anchor() int64 {
	t := time.Now()
	c.at.Store(&clockAnchor{t: t, ms: t.UnixMilli()})
	return t.UnixMilli()
}

func (c *wallClock) now() int64 {
	a := c.at.Load()
	d := time.Since(a.t)
	if d < 0 || d >= time.Second {
		return c.anchor()
	}
	return a.ms + int64(d/time.Millisecond)
}
