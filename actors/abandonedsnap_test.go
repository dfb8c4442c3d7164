package actors

import (
	"errors"
	"maps"
	"strings"
	"testing"
	"time"

	"github.com/perpx/perpx/market"
	"github.com/perpx/perpx/wire"
)

// TestSnapshotKeepsAQuietAbandonedLiquidation: A's bankrupt long (no fund,
// no bid) goes to ADL and A fails while its liquidation waits: for the
// retry timer of a round that found nobody (B, the only short, failed
// first), or for B's close at the bankruptcy price (B paused with it in its
// mailbox). The timer is moot once abandoned: the snapshot is taken with it
// armed, and its firing after changes nothing. Until the close comes the
// abandoned liquidation is not quiet and a snapshot is refused (ErrBusy:
// the app tries again); once it came
// (the close booked on A's frozen leg), the snapshot keeps the machine
// with the failed account, and the exchange restored from it and the
// records after it (and from the whole journal) has the live state hashes
// and audit: money conserved, open interest even, A's leg, held money and
// shortfall as they were. The restored exchange snapshots again. Before,
// no snapshot was ever taken again once an account failed in its
// liquidation.
func TestSnapshotKeepsAQuietAbandonedLiquidation(t *testing.T) {
	for _, c := range []string{"retry timer", "ADL close"} {
		t.Run(c, func(t *testing.T) {
			j := &memJournal{}
			opts := func(o *Options) { o.ADLRetry = time.Second } // slow: quiesce does not wait for it
			e := longAgainstBOn(t, j, opts, "0")
			failed := []string{"A"}
			held := make(chan struct{})
			due := "planned true pending 1"
			if c == "retry timer" {
				e.fail("B", func(*accountActor) {})        // off the ranking: A's round finds nobody
				failed, due = []string{"A", "B"}, "idle 1" // a round that closed nothing: its retry timer armed
			} else {
				e.x.root.Send(e.x.accounts.get(e.x, "B").pid, &pauseMsg{until: held})
			}
			e.index(tsym, "3100")
			e.awaitLiq("A", "waited for "+c, func(a *accountActor) bool { return strings.Contains(a.liq.Describe(), due) })
			e.fail("A", func(*accountActor) {})
			var snap []byte
			if c == "retry timer" {
				// Moot once abandoned (it asks nothing again): the snapshot
				// is taken with the timer armed, which then fires after it
				// and changes nothing.
				var seq uint64
				var err error
				if snap, seq, err = e.x.Snapshot(time.Second); err != nil {
					t.Fatalf("a snapshot with the abandoned liquidation's retry timer armed: %v", err)
				}
				awaitRecord(t, j, seq, recADLRetry)
			} else {
				if _, _, err := e.x.Snapshot(10 * time.Millisecond); !errors.Is(err, ErrBusy) {
					t.Fatalf("a snapshot with the abandoned liquidation's %s due: %v, want ErrBusy", c, err)
				}
				close(held)
				e.awaitAccount("A", "quiet", func(a *accountActor) bool { return a.liq.Quiet() })
				e.failedAudit(failed...)
				var err error
				if snap, _, err = e.x.Snapshot(time.Second); err != nil {
					t.Fatalf("a snapshot once the abandoned liquidation is quiet: %v", err)
				}
			}
			e.deposit("C", "100000") // records after the snapshot
			e.leverage("C", tsym, 5)
			e.mustPlace("C", tsym, wire.Buy, "3000", "1")
			live := e.failedAudit(failed...)
			if c == "ADL close" && (live.Long[0] != 0 || e.position("B", tsym) != nil) {
				t.Fatalf("B's close was not booked on A's leg: %s", live.String())
			}
			e.restartsAlike(j, snap, opts, live, failed, testSymbol(t, tsym, longTiers()...))
		})
	}
}

// awaitRecord waits until j holds a record of kind after seq.
func awaitRecord(t *testing.T, j *memJournal, seq uint64, kind uint16) {
	t.Helper()
	found := errors.New("found")
	for deadline := time.Now().Add(5 * time.Second); ; time.Sleep(time.Millisecond) {
		err := j.readFrom(seq + 1)(func(_ uint64, k uint16, _ uint32, _ []byte) error {
			if k == kind {
				return found
			}
			return nil
		})
		if err == found {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("no record of kind %d after %d", kind, seq)
		}
	}
}

// restartsAlike checks that the exchange restarted from the whole of j, and
// from snapshot snap and the records after it, has e's state hashes and
// audit (live, with the accounts failed), its first failed account (if
// any) still refused, and snapshots again. opts and syms are e's.
func (e *env) restartsAlike(j *memJournal, snap []byte, opts func(*Options), live AuditReport, failed []string, syms ...*market.Symbol) {
	t := e.t
	t.Helper()
	want := e.hashParts()
	for _, from := range []string{"journal", "snapshot"} {
		var s []byte
		if from == "snapshot" {
			s = snap
		}
		r := newEnvOpts(t, j.clone(), s, opts, syms...)
		if got := r.hashParts(); !maps.Equal(got, want) {
			t.Fatalf("from the %s: state differs in %v", from, diffHashes(got, want))
		}
		if a := r.failedAudit(failed...); jsonOf(t, a) != jsonOf(t, live) {
			t.Fatalf("from the %s: audit\n%s\nlive\n%s", from, jsonOf(t, a), jsonOf(t, live))
		}
		if len(failed) > 0 {
			refused(t, r, failed[0])
		}
		if _, _, err := r.x.Snapshot(time.Second); err != nil {
			t.Fatalf("from the %s: a snapshot: %v", from, err)
		}
	}
}
