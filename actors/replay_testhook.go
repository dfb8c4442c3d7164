package actors

import (
	"fmt"
	"sync/atomic"
)

// replayPanic is the client order id whose place PanicOnReplayForTest
// makes panic in replay; nil: none (the only cost, one load a record).
var replayPanic atomic.Pointer[string]

// PanicOnReplayForTest makes the replay of a place with client order id
// cid panic in its account's handler, as a deterministic bug would; ""
// turns it off. The live exchange places it as usual: only an instance
// replaying the journal (a restart, a follower, a takeover) meets the
// panic. For tests of what an instance does then
// (TestClusterStandbyReplayPanic); nothing else may call it.
func PanicOnReplayForTest(cid string) {
	if cid == "" {
		replayPanic.Store(nil)
		return
	}
	replayPanic.Store(&cid)
}

func panicForTest(cid string, m any) {
	if p, ok := m.(*placeReq); ok && p.req.ClientOrderID == cid {
		panic(fmt.Sprintf("test: the replay of place %q panics (PanicOnReplayForTest)", cid))
	}
}
