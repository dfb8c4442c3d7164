package actors

import (
	"bytes"
	"compress/gzip"
	"crypto/sha256"
	"encoding/binary"
	"errors"
	flagpkg "flag"
	"fmt"
	"io"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/perpx/perpx/market"
	"github.com/perpx/perpx/wire"
)

var updateBehaviour = flagpkg.Bool("update-behaviour", false, "rewrite testdata/behaviour.journal.gz with this Behaviour's journal")

const behaviourFile = "testdata/behaviour.journal.gz"

// behaviourMagic starts the golden journals: then Behaviour and the
// journals, each its name (behaviourRuns), the state hash its replay gives,
// the record count and the records (kind, actor, payload).
const behaviourMagic = "PERPXBEHAVIOUR2\n"

// behaviourRuns are the runs whose journals TestBehaviourVersion keeps: the
// symbols to replay them with, and how they were written.
var behaviourRuns = []struct {
	name  string
	syms  func(t *testing.T) []*market.Symbol
	write func(t *testing.T, j *memJournal) *env
}{
	{"soak", func(*testing.T) []*market.Symbol { return partialDemo() }, func(t *testing.T, j *memJournal) *env {
		return soakRun(t, j, partialDemo(), 20, "1000000", 11).e
	}},
	{"script", scriptSymbols, behaviourScript},
}

// TestBehaviourVersion replays journals written by a soak (orders of every
// kind, amends, cancels, leverage, index moves that liquidate; 34 k
// records) and by a script of what the soak does not reach (a liquidation
// bounded by liquidation_slippage and its ADL, a funding time that cancels
// a resting close past the bound, also with the resting isolated opens'
// reservation out, an isolated open refused for a resting close, a
// user's cancel beating the bound's, a maker fill valued at the trade's
// mark, a leverage raise and a withdrawal beside an amend refused) and compares the states with those they
// gave when written: a change that makes the actors decide differently on
// the same records must bump Behaviour, else recovery would replay an
// older journal into a state nobody acknowledged. It catches what these
// journals exercise, not every change.
func TestBehaviourVersion(t *testing.T) {
	if *updateBehaviour {
		writeBehaviourJournals(t)
	}
	v, runs := readBehaviourJournals(t)
	if v != Behaviour {
		t.Fatalf("%s holds behaviour %d's journals, this is %d: run go test ./actors -run TestBehaviourVersion -update-behaviour", behaviourFile, v, Behaviour)
	}
	const bump = "the actors decide differently: bump actors.Behaviour (DESIGN.md, Durability) and run go test ./actors -run TestBehaviourVersion -update-behaviour"
	if len(runs) != len(behaviourRuns) {
		t.Fatalf("%s holds %d journals, want %d: %s", behaviourFile, len(runs), len(behaviourRuns), bump)
	}
	for i, run := range behaviourRuns {
		r := runs[i]
		if r.name != run.name {
			t.Fatalf("%s: journal %d is %q, want %q", behaviourFile, i, r.name, run.name)
		}
		x, err := Start(Options{Symbols: run.syms(t), Journal: r.j})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(x.Stop)
		if _, err := x.Recover(r.j.read); err != nil {
			t.Fatalf("replaying behaviour %d's %s journal: %v: %s", v, r.name, err, bump)
		}
		if got := (&env{t: t, x: x}).hash(); got != r.hash {
			t.Fatalf("replaying behaviour %d's %s journal gives state %x, it gave %x: %s", v, r.name, got, r.hash, bump)
		}
	}
}

func writeBehaviourJournals(t *testing.T) {
	p := binary.AppendUvarint(nil, Behaviour)
	for _, run := range behaviourRuns {
		j := &memJournal{}
		want := run.write(t, j).hash()
		if got := newEnvWith(t, j.clone(), run.syms(t)...).hash(); got != want {
			t.Fatalf("%s: the journal replays to %x, the run's state is %x", run.name, got, want)
		}
		p = appendStr(p, run.name)
		p = binary.BigEndian.AppendUint64(p, want)
		p = binary.AppendUvarint(p, uint64(len(j.recs)))
		for _, r := range j.recs {
			p = binary.AppendUvarint(p, uint64(r.kind))
			p = binary.AppendUvarint(p, uint64(r.actor))
			p = appendStr(p, string(r.payload))
		}
		t.Logf("%s: %d records", run.name, len(j.recs))
	}
	var b bytes.Buffer
	b.WriteString(behaviourMagic)
	z := gzip.NewWriter(&b)
	if _, err := z.Write(p); err != nil {
		t.Fatal(err)
	}
	if err := z.Close(); err != nil {
		t.Fatal(err)
	}
	if err := os.MkdirAll("testdata", 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(behaviourFile, b.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
	t.Logf("%s: behaviour %d, %d bytes", behaviourFile, Behaviour, b.Len())
}

type behaviourJournal struct {
	name string
	hash uint64
	j    *memJournal
}

func readBehaviourJournals(t *testing.T) (uint64, []behaviourJournal) {
	f, err := os.ReadFile(behaviourFile)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.HasPrefix(f, []byte(behaviourMagic)) {
		t.Fatalf("%s: not a behaviour journal of this format: run go test ./actors -run TestBehaviourVersion -update-behaviour", behaviourFile)
	}
	z, err := gzip.NewReader(bytes.NewReader(f[len(behaviourMagic):]))
	if err != nil {
		t.Fatal(err)
	}
	raw, err := io.ReadAll(z)
	if err != nil {
		t.Fatal(err)
	}
	d := &payload{p: raw}
	v := d.uvarint()
	var runs []behaviourJournal
	for len(d.p) > 0 && d.err == nil {
		r := behaviourJournal{name: d.str(), j: &memJournal{}}
		if len(d.p) < 8 {
			d.fail("hash")
			break
		}
		r.hash, d.p = binary.BigEndian.Uint64(d.p), d.p[8:]
		for n := d.uvarint(); n > 0 && d.err == nil; n-- {
			kind, actor := d.uvarint(), d.uvarint()
			r.j.recs = append(r.j.recs, memRecord{uint16(kind), uint32(actor), []byte(d.str())})
		}
		r.j.durable = uint64(len(r.j.recs))
		runs = append(runs, r)
	}
	if d.err != nil {
		t.Fatalf("%s: damaged (%v)", behaviourFile, d.err)
	}
	return v, runs
}

// scriptSymbols are behaviourScript's: TEST-PERP with funding on,
// OTHER-PERP and the inverse INV-PERP settled in BTC.
func scriptSymbols(t *testing.T) []*market.Symbol {
	cfg := testConfig(tsym, longTiers()...)
	on := true
	cfg.Funding = &on
	inv := testConfig(invSym, [2]string{"10", "0.005"}, [2]string{"1000", "0.01"})
	inv.Contract, inv.Quote, inv.Settle = "inverse", "USD", "BTC"
	inv.Tick, inv.Lot = dec("0.5"), dec("100")
	inv.TakerFee, inv.MakerFee = dec("0.00075"), dec("-0.00025")
	return []*market.Symbol{compileSymbol(t, cfg), testSymbol(t, otherSym, longTiers()...), compileSymbol(t, inv)}
}

const invSym = "INV-PERP"

// behaviourScript writes the decisions the soak does not reach, checking
// that each happened: a funding time cancels a resting close past the
// bound; a liquidation's IOC takes a bid within liquidation_slippage and
// leaves one beyond it, the rest closed by ADL at the bankruptcy price; an
// isolated open refused for a resting close; a funding
// time cancels a close within at the cash but past once a resting
// isolated open fills; a user's cancel that reaches the book before the
// bound's leaves the order canceled, not by the bound; a maker fill after
// the mark moved values the position at the trade's mark; a leverage
// raise refused for a resting isolated buy; a withdrawal refused beside
// an amend on its way; an inverse order's open loss through a partial
// fill.
func behaviourScript(t *testing.T, j *memJournal) *env {
	e := pairEnvWith(t, j, "3750", scriptSymbols(t)...)
	e.openPosition("alice", "bob", wire.Buy, "3750", "2", 2)
	past := e.mustPlace("alice", tsym, wire.Sell, "1875", "1")
	e.mustPlace("alice", tsym, wire.Sell, "1876", "1")
	e.clk.advance(8 * time.Hour)
	e.index(tsym, "3750") // a funding time: alice pays, her bankruptcy price rises to 1876
	e.pastBoundCanceled("alice", past.OrderID)
	e.carolTakes("1876")

	e.deposit("dan", "1500")
	for _, a := range []string{"erin", "fay", "gus"} {
		e.deposit(a, "100000")
		e.leverage(a, tsym, 5)
	}
	e.fundDeposit("1000")
	e.openPosition("dan", "erin", wire.Buy, "3750", "2", 5) // bankrupt at 3000
	e.mustPlace("fay", tsym, wire.Buy, "2960", "1")
	far := e.mustPlace("gus", tsym, wire.Buy, "2840", "1") // beyond the bound (2850)
	e.index(tsym, "3100")
	e.x.quiesce()
	if e.liquidations("dan") != 1 || len(e.rec.events("erin", wire.EventADL)) != 1 || e.position("gus", tsym) != nil {
		t.Fatalf("dan's liquidation: %d, erin's ADL closes %v, gus %+v", e.liquidations("dan"), e.rec.events("erin", wire.EventADL), e.position("gus", tsym))
	}
	e.cancel("gus", far.OrderID)

	e.deposit("hal", "2000")
	e.marginModeIn("hal", otherSym, wire.MarginIsolated)
	for _, a := range []string{"hal", "bob"} {
		e.leverage(a, otherSym, 5)
	}
	e.index(otherSym, "3100")
	e.openPosition("hal", "bob", wire.Buy, "3100", "1", 5) // cross: bankrupt near 1100
	halSell := e.mustPlace("hal", tsym, wire.Sell, "1600", "1")
	e.mustPlace("bob", otherSym, wire.Sell, "3100", "1")
	if r := e.place("hal", otherSym, wire.Buy, "3100", "1", wire.IOC); r.OK {
		t.Fatalf("an isolated open whose margin puts hal's resting sell past its bound: %+v", r.Order)
	}
	if r := e.positionMarginIn("hal", otherSym, "100"); r.OK || r.Error.Code != wire.CodeNoIsolatedPosition {
		t.Fatalf("margin added to a symbol hal holds nothing in: %+v", r.Reply)
	}
	e.cancel("hal", halSell.OrderID)

	// ivy's sell is within at the cash but past once her resting isolated
	// buy fills: the funding time cancels it before it does.
	e.index(tsym, "3750")
	e.deposit("ivy", "2000")
	e.marginModeIn("ivy", otherSym, wire.MarginIsolated)
	e.leverage("ivy", otherSym, 5)
	e.openPosition("ivy", "bob", wire.Buy, "3750", "1", 5)      // bankrupt at 1750
	open := e.mustPlace("ivy", otherSym, wire.Buy, "1900", "1") // 380 reserved: 2130
	sell := e.mustPlace("ivy", tsym, wire.Sell, "2130", "1")
	e.clk.advance(8 * time.Hour)
	e.index(tsym, "3750")
	e.pastBoundCanceled("ivy", sell.OrderID)
	e.orderOpen("ivy", open.OrderID)

	// jay's own cancel reaches the book before the bound's: his order is
	// canceled, not by the bound.
	e.deposit("jay", "2000")
	e.leverage("jay", otherSym, 5)
	e.openPosition("jay", "bob", wire.Buy, "3750", "1", 5)
	sell = e.mustPlace("jay", tsym, wire.Sell, "1875", "1")
	release := e.holdBook(tsym)
	ch := e.cancelAsync("jay", sell.OrderID)
	e.mustPlace("jay", otherSym, wire.Buy, "3100", "1", wire.IOC) // bob's sell: the equity split puts the sell past
	e.boundCancelSent("jay", sell.OrderID)
	release()
	if r := <-ch; !r.OK || r.Order.CanceledByBankruptcy {
		t.Fatalf("jay's cancel: %+v %+v", r.Reply, r.Order)
	}

	// kim's bid fills after the mark fell: her long is valued at the
	// trade's mark, not her placement's.
	e.deposit("kim", "2000")
	e.leverage("kim", tsym, 5)
	e.mustPlace("kim", tsym, wire.Buy, "3500", "1")
	e.index(tsym, "3600")
	e.mustPlace("carol", tsym, wire.Sell, "3500", "1", wire.IOC)
	if p := e.position("kim", tsym); p == nil || !p.MarkPrice.Equal(dec("3600")) {
		t.Fatalf("kim's long %+v", p)
	}

	// nat's isolated buy at the band's top, placed at leverage 1, holds
	// her leverage there (5 would leave it bankrupt as it fills); oli's
	// isolated buy amended down keeps its reservation until the book
	// answers, so the margin it frees is not withdrawn meanwhile.
	for _, a := range []string{"nat", "oli"} {
		e.deposit(a, "5400")
		e.marginModeIn(a, tsym, wire.MarginIsolated)
	}
	e.leverage("nat", tsym, 1)
	nat := e.mustPlace("nat", tsym, wire.Buy, "5400", "1")
	if r := call(t, func(d func(wire.LeverageReply)) {
		e.x.SetLeverage("nat", wire.Leverage{Symbol: tsym, Leverage: dec("5")}, d)
	}); r.OK {
		t.Fatal("nat's leverage raised behind a buy it leaves bankrupt")
	}
	e.cancel("nat", nat.OrderID)
	e.leverage("oli", tsym, 1)
	oli := e.mustPlace("oli", tsym, wire.Buy, "3600", "1")
	release = e.holdBook(tsym)
	am := e.amendAsync("oli", tsym, oli.OrderID, "1800")
	w := e.withdraw("oli", "3600")
	release()
	if r := <-am; !r.OK || w.OK {
		t.Fatalf("oli's amend %+v, withdrawal beside it %+v", r.Reply, w.Reply)
	}
	e.cancel("oli", oli.OrderID)

	// lee's inverse buy above the mark reserves its open loss (rounded
	// up), fills in part and rests the rest.
	for _, a := range []string{"lee", "max"} {
		e.depositIn(a, "BTC", "1")
		e.leverage(a, invSym, 5)
	}
	e.mustPlace("max", invSym, wire.Sell, "3757", "300")
	if o := e.mustPlace("lee", invSym, wire.Buy, "3757", "700"); o.Status != wire.StatusPartiallyFilled {
		t.Fatalf("lee's inverse buy %+v", o)
	}
	if a := e.audit(); !a.OK {
		t.Fatalf("audit %s", a)
	}
	return e
}

// TestBehaviourRefused: records another Behaviour wrote, or one that
// recorded none, are refused, after a snapshot too; a version record with
// nothing of its own after it is not.
func TestBehaviourRefused(t *testing.T) {
	j := &memJournal{}
	syms := []*market.Symbol{testSymbol(t, tsym, longTiers()...)}
	e := newEnvWith(t, j, syms...)
	e.index(tsym, "3750")
	e.deposit("alice", "10000")
	e.deposit("bob", "10000")
	e.openPosition("alice", "bob", wire.Buy, "3750", "1", 5)
	e.x.quiesce()
	snap, at, err := e.x.Snapshot(time.Second)
	if err != nil {
		t.Fatal(err)
	}
	e.mustPlace("alice", tsym, wire.Buy, "3000", "1")
	e.x.quiesce()

	versions := 0
	for _, r := range j.recs {
		if r.kind == recVersion {
			versions++
		}
	}
	if versions != 1 || j.recs[1].kind != recVersion {
		t.Fatalf("%d version records, the second record is kind %d", versions, j.recs[1].kind)
	}
	// recover replays j (from the snapshot when given) on a fresh exchange.
	recover := func(j *memJournal, snap []byte) error {
		x, err := Start(Options{Symbols: syms, Journal: j})
		if err != nil {
			t.Fatal(err)
		}
		defer x.Stop()
		var from uint64
		if snap != nil {
			if from, err = x.LoadSnapshot(snap); err != nil {
				t.Fatal(err)
			}
		}
		_, err = x.Recover(j.readFrom(from + 1))
		return err
	}
	refused := func(err error, by string) {
		t.Helper()
		if !errors.Is(err, ErrRecover) || !errors.Is(err, ErrBehaviour) || !strings.Contains(err.Error(), by) {
			t.Fatalf("recovery: %v, want a refusal naming %q", err, by)
		}
	}
	other := j.clone()
	other.recs[1].payload = binary.AppendUvarint(binary.AppendUvarint(nil, 1), Behaviour+1)
	refused(recover(other, nil), fmt.Sprintf("behaviour version %d", Behaviour+1))

	none := j.clone()
	none.recs = append(none.recs[:1:1], none.recs[2:]...) // a journal of before versions
	refused(recover(none, nil), "did not record")

	// After the snapshot: this version's records replay, another's do not.
	if err := recover(j.clone(), snap); err != nil {
		t.Fatal(err)
	}
	body := append([]byte(nil), snap[:len(snap)-sha256.Size-len(binary.AppendUvarint(nil, Behaviour))]...)
	body = binary.AppendUvarint(body, Behaviour+1)
	sum := sha256.Sum256(body)
	stale := append(body, sum[:]...)
	if _, err := SnapshotSeq(stale); err != nil {
		t.Fatal(err)
	}
	refused(recover(j.clone(), stale), fmt.Sprintf("behaviour version %d", Behaviour+1))
	if j.Last() == at {
		t.Fatal("no record after the snapshot")
	}

	// Another version started and stopped with nothing of its own: this
	// one's records after its own version record replay.
	late := j.clone()
	late.recs = append(late.recs[:2:2], append([]memRecord{{recVersion, 0, other.recs[1].payload}, j.recs[1]}, j.recs[2:]...)...)
	if err := recover(late, nil); err != nil {
		t.Fatal(err)
	}
}
