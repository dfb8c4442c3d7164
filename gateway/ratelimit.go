package gateway

import (
	"sync"
	"time"

	"github.com/perpx/perpx/config"
)

// minSweep is the bucket count below which idle buckets are never swept.
const minSweep = 1024

// limiter holds one bucket per account. Buckets that have refilled to full
// carry no information, so they are dropped whenever the map doubles: the
// map stays proportional to the accounts active within one refill period,
// however many account names clients make up.
type limiter struct {
	rate  float64 // tokens per second
	burst float64

	mu      sync.Mutex
	buckets map[string]*bucket
	sweepAt int
}

type bucket struct {
	tokens float64
	at     time.Time // when tokens was computed
}

// newLimiter returns nil (no limit) when r is off: config.RateLimit's
// OrdersPerS tokens per second into a bucket of BucketSize.
func newLimiter(r config.RateLimit) *limiter {
	if !r.Enabled() {
		return nil
	}
	return &limiter{rate: r.OrdersPerS, burst: float64(r.BucketSize()), buckets: map[string]*bucket{}, sweepAt: minSweep}
}

// allow takes n tokens from acct's bucket at time now, reporting whether
// there were that many; it takes none when there were not, so a batch is
// refused whole. A nil limiter allows everything.
func (l *limiter) allow(acct string, n int, now time.Time) bool {
	if l == nil {
		return true
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	b := l.buckets[acct]
	if b == nil {
		if len(l.buckets) >= l.sweepAt {
			l.sweep(now)
		}
		b = &bucket{tokens: l.burst, at: now}
		l.buckets[acct] = b
	}
	b.tokens = l.refilled(b, now)
	if now.After(b.at) { // a clock stepping back neither adds nor loses time
		b.at = now
	}
	if b.tokens < float64(n) {
		return false
	}
	b.tokens -= float64(n)
	return true
}

func (l *limiter) refilled(b *bucket, now time.Time) float64 {
	if dt := now.Sub(b.at).Seconds(); dt > 0 {
		return min(l.burst, b.tokens+dt*l.rate)
	}
	return b.tokens
}

// sweep drops full buckets and sets the next sweep at twice what is left.
func (l *limiter) sweep(now time.Time) {
	for acct, b := range l.buckets {
		if l.refilled(b, now) >= l.burst {
			delete(l.buckets, acct)
		}
	}
	l.sweepAt = max(minSweep, 2*len(l.buckets))
}
