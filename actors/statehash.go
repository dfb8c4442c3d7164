package actors

import (
	"fmt"

	"github.com/perpx/perpx/wire"
)

// StateHashAt answers admin.state_hash: the state hash (stateHash: every
// book, account, the fund, the ADL rankings, each symbol's book sequence,
// index and mark) taken at a quiescent point, with the journal position it
// is the state of (0 in memory). Replaying the journal up to that position
// gives the same hash.
//
// It waits for quiescence on a goroutine of its own (quiesce blocks), so
// under traffic that never pauses it waits as long as the traffic lasts. In
// durable mode every state change is journaled when its actor handles it,
// so a hash read while the journal's last sequence stood still is the
// state at that sequence; the hash is taken again otherwise. As every
// read, the reply waits until the journal is durable up to that sequence.
func (x *Exchange) StateHashAt(done func(wire.StateHashReply)) {
	done = durably(x, done)
	stopped := func() bool {
		if x.stopped.Load() {
			done(wire.StateHashReply{Reply: fail(wire.CodeInternal, "the exchange is stopped")})
			return true
		}
		return false
	}
	go func() {
		for !stopped() {
			x.quiesce()
			var seq uint64
			if x.rec != nil {
				seq = x.rec.w.Last()
			}
			ch := make(chan uint64, 1)
			x.stateHash(func(h uint64) { ch <- h })
			h := <-ch
			if x.rec == nil || x.rec.w.Last() == seq {
				done(wire.StateHashReply{Reply: wire.OK(), Hash: fmt.Sprintf("%016x", h), Seq: seq})
				return
			}
		}
	}()
}
