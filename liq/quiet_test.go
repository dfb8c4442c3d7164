package liq

import (
	"testing"

	"github.com/perpx/perpx/book"
	"github.com/perpx/perpx/market"
	"github.com/perpx/perpx/risk"
)

// TestQuiet: an abandoned machine is quiet once no answer it asked for
// can still come (Quiet), and not before: the reservation, a set-aside,
// its IOC's result, an ADL round's plan and closes (not a retry's timer:
// TestAbandonedTimerIsMoot), a
// close adjustment, an escrow round's plan and charges. Each answer after
// Abandon counts down as a live one does; a quiet machine's snapshot
// decodes (check) to a quiet machine. A live machine is never quiet.
// Before, nothing told when an abandoned machine was done, so a failed
// account that had been liquidating blocked every snapshot for ever.
func TestQuiet(t *testing.T) {
	reserved := Reserved{Amount: usdt("10"), Quotes: []Quote{{Need: usdt("40"), Mark: 3100}}}
	unreserved := Reserved{Quotes: []Quote{{Mark: 3100}}} // no fund: the IOC at B, the rest to ADL
	capped := SocialCap{Leg: 0, Amount: usdt("500")}
	paid := SocialCharged{Leg: 0, Paid: usdt("30"), Asked: usdt("30"), Account: 9, Qty: -2}
	sym := compile(t, symSpec{name: "SEED", tiers: longTiers()})
	funding := risk.FundingPayment(sym, 2, onePct, 3100)
	for _, c := range []struct {
		name   string
		soc    bool
		lots   book.Lots
		before []Input // live
		after  []Input // after Abandon, each but the last leaves it not quiet
	}{
		{"reservation asked", false, 1, nil, []Input{reserved}},
		{"IOC in the book", false, 1, []Input{reserved}, []Input{IOCDone{ID: 101}}},
		{"ADL asked", false, 1, []Input{unreserved, IOCDone{ID: 101}},
			[]Input{ADLPlan{Leg: 0, Closes: 1, Covered: 1}, ADLFilled{Leg: 0, Qty: 1, Asked: 1}}},
		{"ADL closes out", false, 2, []Input{unreserved, IOCDone{ID: 101}, ADLPlan{Leg: 0, Closes: 2, Covered: 2}},
			[]Input{ADLFilled{Leg: 0, Qty: 1, Asked: 1}, ADLFilled{Leg: 0, Asked: 1}}},
		{"ADL plan of nothing", false, 1, []Input{unreserved, IOCDone{ID: 101}}, []Input{ADLPlan{Leg: 0}}},
		{"retry timer armed: moot once abandoned", false, 1, []Input{unreserved, IOCDone{ID: 101}, ADLPlan{Leg: 0}}, nil},
		{"funding waits for the round", false, 2, []Input{unreserved, IOCDone{ID: 101}, Funding{Leg: 0, Amount: funding}, ADLPlan{Leg: 0, Closes: 2, Covered: 2}},
			[]Input{ADLFilled{Leg: 0, Qty: 1, Asked: 1, Account: 5}, ADLFilled{Leg: 0, Asked: 1, Account: 6}}},
		{"close adjustments out", false, 2, []Input{unreserved, IOCDone{ID: 101}, Funding{Leg: 0, Amount: funding}, ADLPlan{Leg: 0, Closes: 2, Covered: 2},
			ADLFilled{Leg: 0, Qty: 1, Asked: 1, Account: 5}, ADLFilled{Leg: 0, Qty: 1, Asked: 1, Account: 6}},
			[]Input{CloseAdjusted{Leg: 0, Amount: funding / 2, Asked: funding / 2}, CloseAdjusted{Leg: 0, Asked: funding / 2}}},
		{"set-aside asked", true, 1, []Input{reserved}, []Input{capped}},
		{"escrow asked", true, 1, []Input{reserved, capped}, []Input{SocialPlan{Leg: 0, N: 1}, paid}},
		{"escrow charge out", true, 1, []Input{reserved, capped, SocialPlan{Leg: 0, N: 1}}, []Input{paid}},
		{"escrow paid, IOC in the book", true, 1, []Input{reserved, capped, SocialPlan{Leg: 0, N: 1}, paid}, []Input{IOCDone{ID: 101}}},
	} {
		t.Run(c.name, func(t *testing.T) {
			m, s := seedMachineOf(t, c.soc, c.lots)
			for _, in := range c.before {
				if err := m.Step(in); err != nil {
					t.Fatalf("%T: %v", in, err)
				}
				m.Ready()
				if m.Quiet() {
					t.Fatalf("live after %T: quiet: %s", in, m.Describe())
				}
			}
			m.Abandon()
			for _, in := range c.after {
				if m.Quiet() {
					t.Fatalf("quiet with %T due: %s", in, m.Describe())
				}
				if err := m.Step(in); err != nil {
					t.Fatalf("%T after Abandon: %v", in, err)
				}
				m.Ready()
			}
			if !m.Quiet() {
				t.Fatalf("not quiet with no answer due: %s", m.Describe())
			}
			p := m.AppendSnapshot(nil)
			m2, _, err := DecodeSnapshot(p, symbolsOf([]*market.Symbol{s}), m.cfg)
			if err != nil || !m2.Quiet() || string(m2.AppendSnapshot(nil)) != string(p) {
				t.Fatalf("the quiet machine's copy: %v\n%s", err, m.Describe())
			}
		})
	}
}

// TestAbandonedTimerIsMoot: an abandoned machine asks nothing again, so
// the retry timer armed before its account failed is not waited for, and
// its firing changes nothing: a snapshot taken before it fires is the
// state after it, and a timer never fired (lost to the panic, or to a
// restart from that snapshot) keeps nothing waiting. Before, Quiet waited
// for it, so a lost one refused every later snapshot.
func TestAbandonedTimerIsMoot(t *testing.T) {
	m, _ := seedMachineOf(t, false, 1)
	armed := false
	for _, in := range []Input{Reserved{Quotes: []Quote{{Mark: 3100}}}, IOCDone{ID: 101}, ADLPlan{Leg: 0}} {
		if err := m.Step(in); err != nil {
			t.Fatalf("%T: %v", in, err)
		}
		for _, e := range m.Ready() {
			_, retry := e.(*RetryAfter)
			armed = armed || retry
		}
	}
	if !armed {
		t.Fatalf("no retry timer armed: %s", m.Describe())
	}
	m.Abandon()
	if !m.Quiet() {
		t.Fatalf("abandoned, waiting for its timer: %s", m.Describe())
	}
	before := string(m.AppendSnapshot(nil))
	if err := m.Step(TimerFired{Leg: 0}); err != nil {
		t.Fatal(err)
	}
	if len(m.Ready()) != 0 || string(m.AppendSnapshot(nil)) != before {
		t.Fatalf("the abandoned machine's timer changed it: %s", m.Describe())
	}
}
