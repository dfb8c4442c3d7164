package loadtest

import (
	"testing"
	"time"

	"github.com/perpx/perpx/wire"
)

// TestLatencyCountsFromTheScheduledTime replays a 100 ms stall of the
// exchange in a 1000-request run at one request per millisecond. Measured
// from the scheduled send time, the hundred requests due during the stall
// carry its cost (100 ms down to 1 ms); a generator that waited for each
// reply would have sent one request in the stall and seen one slow sample
// (coordinated omission).
func TestLatencyCountsFromTheScheduledTime(t *testing.T) {
	const ms = int64(time.Millisecond)
	var now int64
	p := newPending(func() int64 { return now }, 1024)
	sched := Schedule{Rate: 1000, Stride: 1}
	stallFrom, stallTo := 500*ms, 600*ms
	type inflight struct {
		n     uint64
		reply int64
	}
	var queue []inflight
	for i := range uint64(1000) {
		due := sched.At(i)
		n := p.register(kindPlace, due)
		reply := due + ms/10 // 100 µs service time...
		if due >= stallFrom && due < stallTo {
			reply = stallTo + ms/10 // ...except during the stall
		}
		queue = append(queue, inflight{n, reply})
	}
	for _, q := range queue {
		now = q.reply
		p.complete(q.n, now, outcome{ok: true, status: wire.StatusNew})
	}
	got := summarize(p.t.hist)
	within := func(v, want int64) bool { return v >= want*99/100 && v <= want*101/100 } // HDR keeps 3 digits
	if !within(got.P50, 100) || !within(got.P90, 100) {
		t.Errorf("p50 %d µs, p90 %d µs: want the 100 µs service time", got.P50, got.P90)
	}
	// Above p99 lie the 10 requests due first in the stall (100.1 ms down
	// to 91.1 ms); the 990th value is the next one.
	if !within(got.P99, 90_100) || !within(got.Max, 100_100) {
		t.Errorf("p99 %d µs, max %d µs: want ~90.1 ms and ~100.1 ms", got.P99, got.Max)
	}
	if p.t.replies[kindPlace] != 1000 || p.t.statuses[wire.StatusNew] != 1000 || p.outstanding != 0 {
		t.Errorf("tally %+v, outstanding %d", p.t, p.outstanding)
	}
}

// TestUnansweredRequestsCountAtTheirAge: giving up on a request still
// records it, and a reply arriving afterwards is a stray, not a second
// answer.
func TestUnansweredRequestsCountAtTheirAge(t *testing.T) {
	var now int64
	p := newPending(func() int64 { return now }, 4)
	lost := p.register(kindCancel, 0)
	answered := p.register(kindPlace, 0)
	now = int64(2 * time.Millisecond)
	p.complete(answered, now, outcome{code: string(wire.CodeUnknownOrder)})
	now = int64(3 * time.Second)
	p.giveUpAll()
	p.complete(lost, now, outcome{ok: true})
	if p.t.timeouts != 1 || p.t.strays != 1 || p.t.replies[kindCancel] != 0 || p.t.rejects["UNKNOWN_ORDER"] != 1 {
		t.Fatalf("tally %+v", p.t)
	}
	if max := p.t.hist.Max(); max < 2_990_000 || max > 3_010_000 {
		t.Fatalf("the lost request should count ~3 s, max is %d µs", max)
	}
	// A full ring gives up on its oldest request to make room.
	for range 5 {
		p.register(kindPlace, now)
	}
	if p.t.timeouts != 2 || p.outstanding != 4 {
		t.Fatalf("after overflow: %d timeouts, %d outstanding", p.t.timeouts, p.outstanding)
	}
}
