package loadtest

import "time"

// pause waits about d. Go timers wake in up to ~1 ms steps on Linux, so
// the senders go out in small bursts up to a millisecond late; the latency
// is measured from the scheduled send, so that lag is counted, not hidden.
// (A nanosleep syscall paced finer but held a Go processor for every
// sleep and starved the in-process exchange: 100 k/s answered 40 k/s.)
func pause(d time.Duration) {
	if d > 0 {
		time.Sleep(d)
	}
}
