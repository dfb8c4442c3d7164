//go:build !linux

package loadtest

import "time"

// pause waits about d.
func pause(d time.Duration) {
	if d > 0 {
		time.Sleep(d)
	}
}
