package loadtest

import (
	"syscall"
	"time"
)

// pause waits about d. Go timers round sub-millisecond sleeps up to ~1 ms
// on Linux (the netpoller waits in whole milliseconds), which would add up
// to a millisecond of schedule lag to every burst; nanosleep blocks only
// this goroutine's thread and wakes within ~60 µs.
func pause(d time.Duration) {
	if d <= 0 {
		return
	}
	if d >= 2*time.Millisecond {
		time.Sleep(d - time.Millisecond) // coarse part; the caller loops
		return
	}
	ts := syscall.NsecToTimespec(int64(d))
	_ = syscall.Nanosleep(&ts, nil) // EINTR just wakes the caller early
}
