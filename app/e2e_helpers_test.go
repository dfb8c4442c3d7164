package app_test

// Shared harness of the end-to-end tests: an exchange started with the real
// wiring (app.Start, embedded NATS on a random port, manual index) and driven
// only over NATS, with the wire types decoding the replies.

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"log/slog"

	"github.com/nats-io/nats.go"
	"github.com/perpx/perpx/app"
	"github.com/perpx/perpx/config"
	"github.com/perpx/perpx/wire"
	"github.com/shopspring/decimal"
)

const (
	tsym = "TEST-PERP"
	// wait bounds every request and every wait for an outcome.
	wait = 10 * time.Second
)

func dec(s string) decimal.Decimal { return decimal.RequireFromString(s) }

// symbolJSON is a tick-1 lot-1 TEST-PERP without fees, with the given
// maintenance tiers ({max_notional, mmr}); funding off unless fundingS > 0
// (then on, every fundingS seconds).
func symbolJSON(maxLeverage string, fundingS int, tiers ...[2]string) string {
	ts := make([]string, len(tiers))
	for i, tr := range tiers {
		ts[i] = fmt.Sprintf(`{"max_notional":%q,"mmr":%q}`, tr[0], tr[1])
	}
	funding := `"funding":false`
	if fundingS > 0 {
		funding = fmt.Sprintf(`"funding":true,"funding_interval_s":%d`, fundingS)
	}
	return fmt.Sprintf(`{"symbol":%q,"quote":"USDT","tick":"1","lot":"1","min_notional":"0","max_leverage":%q,
		"mm_tiers":[%s],"maker_fee":"0","taker_fee":"0","liquidation_fee":"0","price_band":"0.5",%s}`,
		tsym, maxLeverage, strings.Join(ts, ","), funding)
}

// parseConfig parses a config file made of one symbol and extra top-level
// fields (`"users":[...]`), through config.Parse like --config FILE.
func parseConfig(t testing.TB, symbol, extra string) *config.Config {
	t.Helper()
	body := `{"symbols":[` + symbol + `]`
	if extra != "" {
		body += "," + extra
	}
	cfg, err := config.Parse([]byte(body + "}"))
	if err != nil {
		t.Fatal(err)
	}
	return cfg
}

// seedConfig is the symbol of risk's worked examples with the given tiers.
func seedConfig(t testing.TB, tiers ...[2]string) *config.Config {
	return parseConfig(t, symbolJSON("100", 0, tiers...), "")
}

// longTiers make a 1-lot long at 3750 with margin 750 liquidate at 3100
// with bankruptcy price 3000; shortTiers a 1-lot short at 2500 with margin
// 500 liquidate at 2900 with bankruptcy 3000.
func longTiers() [][2]string  { return [][2]string{{"3000", "0.03"}, {"1000000000", "0.10"}} }
func shortTiers() [][2]string { return [][2]string{{"1500", "0.02"}, {"1000000000", "0.05"}} }

// exchange is a running exchange under test and its admin connection. It
// tracks what the test deposited so the audit's sums can be checked against
// it, and records every account, ADL, fund and trade event.
type exchange struct {
	t    testing.TB
	app  *app.App
	subj wire.Subjects
	nc   *nats.Conn // admin (or, without users, unrestricted) connection
	rec  *recorder
	// asset is what the exchange settles in (deposits and the fund).
	asset string

	mu           sync.Mutex
	deposits     decimal.Decimal
	fundDeposits decimal.Decimal
	// byAsset is every asset's deposits, for an exchange with wallets.
	byAsset   map[string]*assetLedger
	closeOnce sync.Once
	closeErr  error
}

// startOpts tweak start: the admin login when the config has users, and a
// manual clock.
type startOpts struct {
	admin []nats.Option
	now   func() int64
	index string // "" = manual
	speed float64
	bots  int
	http  string
	data  string // the journal's directory ("" in memory)
	// snapEvery is app.Options.SnapshotEvery; log the exchange's logger.
	snapEvery int
	log       *slog.Logger
}

// start runs the exchange with cfg, manual index, no bots, no HTTP unless o
// says otherwise.
func start(t testing.TB, cfg *config.Config, o startOpts) *exchange {
	t.Helper()
	if o.index == "" {
		o.index = "manual"
	}
	a, err := app.Start(context.Background(), app.Options{NATSListen: "127.0.0.1:-1", Config: cfg,
		Index: o.index, Speed: o.speed, Bots: o.bots, HTTP: o.http, Now: o.now, Data: o.data, SnapshotEvery: o.snapEvery, Logger: o.log})
	if err != nil {
		t.Fatal(err)
	}
	e := &exchange{t: t, app: a, subj: wire.DefaultSubjects(), asset: "USDT"}
	if cfg != nil && len(cfg.Symbols) > 0 && cfg.Symbols[0].Settle != "" {
		e.asset = cfg.Symbols[0].Settle
	}
	t.Cleanup(func() {
		if err := e.close(); err != nil {
			t.Errorf("close: %v", err)
		}
	})
	e.nc = connect(t, a.URL(), o.admin...)
	e.rec = newRecorder(t, e.nc, e.subj.Events(wire.Any), e.subj.ADLEvents(wire.Any), e.subj.FundEvents(),
		e.subj.Trades(wire.Any), e.subj.Mark(wire.Any), e.subj.Liquidations(wire.Any))
	return e
}

// close shuts the exchange down once (the shutdown test closes it itself).
func (e *exchange) close() error {
	e.closeOnce.Do(func() {
		ctx, cancel := context.WithTimeout(context.Background(), wait)
		defer cancel()
		e.closeErr = e.app.Close(ctx)
	})
	return e.closeErr
}

func connect(t testing.TB, url string, opts ...nats.Option) *nats.Conn {
	t.Helper()
	nc, err := nats.Connect(url, append([]nats.Option{nats.MaxReconnects(0)}, opts...)...)
	if err != nil {
		t.Fatalf("connect: %v", err)
	}
	t.Cleanup(nc.Close)
	return nc
}

// payload is body as sent: raw bytes and strings as they are, anything
// else as JSON.
func payload(t testing.TB, body any) []byte {
	t.Helper()
	switch b := body.(type) {
	case []byte:
		return b
	case string:
		return []byte(b)
	}
	data, err := json.Marshal(body)
	if err != nil {
		t.Fatal(err)
	}
	return data
}

// request sends body on subject and decodes the reply into R.
func request[R any](t testing.TB, nc *nats.Conn, subject string, body any) R {
	t.Helper()
	m, err := nc.Request(subject, payload(t, body), wait)
	if err != nil {
		t.Fatalf("request %s: %v", subject, err)
	}
	var r R
	if err := json.Unmarshal(m.Data, &r); err != nil {
		t.Fatalf("reply to %s: %v: %s", subject, err, m.Data)
	}
	return r
}

func mustOK(t testing.TB, what string, r wire.Reply) {
	t.Helper()
	if !r.OK || r.Error != nil {
		t.Fatalf("%s: %+v", what, r.Error)
	}
}

// sameJSON compares two values by their JSON encoding (decimals by value).
func sameJSON(t testing.TB, a, b any) bool {
	t.Helper()
	return string(payload(t, a)) == string(payload(t, b))
}

// eventually polls cond until it returns nil, failing with its last error
// after wait.
func eventually(t testing.TB, what string, cond func() error) {
	t.Helper()
	eventuallyWithin(t, wait, what, cond)
}

// eventuallyWithin is eventually with its own bound.
func eventuallyWithin(t testing.TB, within time.Duration, what string, cond func() error) {
	t.Helper()
	deadline := time.Now().Add(within)
	for {
		err := cond()
		if err == nil {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s: %v", what, err)
		}
		time.Sleep(2 * time.Millisecond)
	}
}

// ---- admin requests ----

func (e *exchange) deposit(acct, amount string) { e.t.Helper(); e.depositIn(acct, e.asset, amount) }

// depositIn deposits into acct's wallet of asset.
func (e *exchange) depositIn(acct, asset, amount string) {
	e.t.Helper()
	r := request[wire.BalanceReply](e.t, e.nc, e.subj.AdminDeposit(), wire.Deposit{Account: acct, Asset: asset, Amount: dec(amount)})
	mustOK(e.t, "deposit "+acct, r.Reply)
	e.mu.Lock()
	if asset == e.asset {
		e.deposits = e.deposits.Add(dec(amount))
	}
	e.ledger(asset).deposits = e.ledger(asset).deposits.Add(dec(amount))
	e.mu.Unlock()
}

func (e *exchange) fundDeposit(amount string) { e.t.Helper(); e.fundDepositIn(e.asset, amount) }

func (e *exchange) fundDepositIn(asset, amount string) {
	e.t.Helper()
	r := request[wire.BalanceReply](e.t, e.nc, e.subj.AdminFundDeposit(), wire.FundDeposit{Asset: asset, Amount: dec(amount)})
	mustOK(e.t, "fund deposit", r.Reply)
	e.mu.Lock()
	if asset == e.asset {
		e.fundDeposits = e.fundDeposits.Add(dec(amount))
	}
	e.ledger(asset).fund = e.ledger(asset).fund.Add(dec(amount))
	e.mu.Unlock()
}

// assetLedger is what the test deposited in one asset.
type assetLedger struct{ deposits, fund decimal.Decimal }

// ledger is asset's (e.mu held).
func (e *exchange) ledger(asset string) *assetLedger {
	if e.byAsset == nil {
		e.byAsset = map[string]*assetLedger{}
	}
	if e.byAsset[asset] == nil {
		e.byAsset[asset] = &assetLedger{}
	}
	return e.byAsset[asset]
}

// index moves TEST-PERP's index and returns the reply (index and mark).
func (e *exchange) index(price string) wire.IndexReply {
	e.t.Helper()
	r := request[wire.IndexReply](e.t, e.nc, e.subj.AdminIndex(tsym), wire.IndexSet{Price: dec(price)})
	mustOK(e.t, "index "+price, r.Reply)
	return r
}

func (e *exchange) fundState() wire.FundStateReply {
	e.t.Helper()
	r := request[wire.FundStateReply](e.t, e.nc, e.subj.FundState(), "{}")
	mustOK(e.t, "fund state", r.Reply)
	return r
}

func (e *exchange) adlQueue(side wire.PosSide) []wire.ADLQueueEntry {
	e.t.Helper()
	r := request[wire.ADLQueueReply](e.t, e.nc, e.subj.ADLQueue(tsym), wire.ADLQueue{Side: side})
	mustOK(e.t, "adl queue", r.Reply)
	return r.Queue
}

func (e *exchange) depth() wire.DepthReply {
	e.t.Helper()
	r := request[wire.DepthReply](e.t, e.nc, e.subj.Depth(tsym), wire.Depth{Levels: wire.MaxDepthLevels})
	mustOK(e.t, "depth", r.Reply)
	return r
}

func (e *exchange) audit() wire.AuditReply {
	e.t.Helper()
	r := request[wire.AuditReply](e.t, e.nc, e.subj.AdminAudit(), "{}")
	mustOK(e.t, "audit", r.Reply)
	return r
}

// checkAudit reports how r breaks conservation (recomputed from its sums
// and against the test's own deposit ledger), open-interest symmetry or the
// exchange's verdict; nil when it holds.
func (e *exchange) checkAudit(r wire.AuditReply) error {
	e.mu.Lock()
	deps, fundDeps := e.deposits, e.fundDeposits
	byAsset := map[string]assetLedger{}
	for a, l := range e.byAsset {
		byAsset[a] = *l
	}
	e.mu.Unlock()
	var errs []error
	for asset, a := range r.Assets { // each asset balances on its own
		l := byAsset[asset]
		if !a.Deposits.Equal(l.deposits) || !a.FundDeposits.Equal(l.fund) {
			errs = append(errs, fmt.Errorf("%s: deposits %s + fund %s, the test deposited %s + %s", asset, a.Deposits, a.FundDeposits, l.deposits, l.fund))
		}
		if held := a.Balances.Add(a.Unrealized).Add(a.Fund).Add(a.Fees); !held.Equal(a.Deposits.Add(a.FundDeposits)) {
			errs = append(errs, fmt.Errorf("%s: balances %s + unrealized %s + fund %s + fees %s != deposits %s + %s",
				asset, a.Balances, a.Unrealized, a.Fund, a.Fees, a.Deposits, a.FundDeposits))
		}
		if a.Fund.Sign() < 0 || !a.Uncovered.IsZero() {
			errs = append(errs, fmt.Errorf("%s: fund %s, uncovered %s", asset, a.Fund, a.Uncovered))
		}
	}
	if !r.InvariantsOK {
		errs = append(errs, errors.New("invariants_ok false"))
	}
	if !r.Deposits.Equal(deps) || !r.FundDeposits.Equal(fundDeps) {
		errs = append(errs, fmt.Errorf("deposits %s + fund %s, the test deposited %s + %s", r.Deposits, r.FundDeposits, deps, fundDeps))
	}
	held := r.Balances.Add(r.Unrealized).Add(r.Fund).Add(r.Fees)
	if in := r.Deposits.Add(r.FundDeposits); !held.Equal(in) {
		errs = append(errs, fmt.Errorf("balances %s + unrealized %s + fund %s + fees %s = %s != deposits %s",
			r.Balances, r.Unrealized, r.Fund, r.Fees, held, in))
	}
	if r.Fund.Sign() < 0 || len(r.NegativeBalances) != 0 {
		errs = append(errs, fmt.Errorf("fund %s, negative balances %v", r.Fund, r.NegativeBalances))
	}
	if len(r.OpenInterest) == 0 {
		errs = append(errs, errors.New("no open interest reported"))
	}
	for s, oi := range r.OpenInterest {
		if !oi.Long.Equal(oi.Short) {
			errs = append(errs, fmt.Errorf("%s open interest long %s short %s", s, oi.Long, oi.Short))
		}
	}
	return errors.Join(errs...)
}

// settledAudit waits until the asynchronous settlement (maker fills) has
// caught up and the audit holds, and returns it. A liquidation in flight
// holds it too (its leg counts in unrealized, the fund is not paid yet): a
// test that reads the fund waits for the settlement first (settlementEvent).
func (e *exchange) settledAudit() wire.AuditReply {
	e.t.Helper()
	var r wire.AuditReply
	eventually(e.t, "audit", func() error {
		r = e.audit()
		return e.checkAudit(r)
	})
	return r
}

// hash is the exchange's StateHash once two reads in a row agree.
func (e *exchange) hash() uint64 {
	e.t.Helper()
	read := func() uint64 {
		ch := make(chan uint64, 1)
		e.app.Exchange().StateHash(func(h uint64) { ch <- h })
		select {
		case h := <-ch:
			return h
		case <-time.After(wait):
			e.t.Fatal("no state hash")
		}
		return 0
	}
	h := read()
	for {
		time.Sleep(5 * time.Millisecond)
		next := read()
		if next == h {
			return h
		}
		h = next
	}
}

// unchanged fails unless the audit and the state hash are still before and
// h0: what refused requests must leave alone.
func (e *exchange) unchanged(before wire.AuditReply, h0 uint64) {
	e.t.Helper()
	if after := e.audit(); !sameJSON(e.t, after, before) {
		e.t.Fatalf("audit changed:\n%+v\n%+v", before, after)
	}
	if h := e.hash(); h != h0 {
		e.t.Fatalf("state hash %x, was %x", h, h0)
	}
}

// ---- traders ----

// trader speaks for one account over a connection (the admin one on an
// open server, the trader's own login otherwise).
type trader struct {
	t    testing.TB
	e    *exchange
	nc   *nats.Conn
	acct string
}

func (e *exchange) trader(acct string) *trader { return &trader{t: e.t, e: e, nc: e.nc, acct: acct} }

// funded deposits amount for each account and returns their traders.
func (e *exchange) funded(amount string, accts ...string) []*trader {
	out := make([]*trader, len(accts))
	for i, a := range accts {
		e.deposit(a, amount)
		out[i] = e.trader(a)
	}
	return out
}

func (c *trader) place(req wire.PlaceOrder) wire.OrderReply {
	c.t.Helper()
	return request[wire.OrderReply](c.t, c.nc, c.e.subj.OrderPlace(c.acct), req)
}

// limit places a TEST-PERP limit order (GTC unless tif is given) and
// fails on a reject.
func (c *trader) limit(side wire.Side, price, qty string, tif ...wire.TIF) *wire.Order {
	c.t.Helper()
	req := wire.PlaceOrder{Symbol: tsym, Side: side, Type: wire.Limit, Price: dec(price), Qty: dec(qty), TIF: wire.GTC}
	if len(tif) > 0 {
		req.TIF = tif[0]
	}
	r := c.place(req)
	mustOK(c.t, fmt.Sprintf("%s %s %s@%s", c.acct, side, qty, price), r.Reply)
	if r.Order == nil || r.Order.Account != c.acct || r.Order.OrderID == "" {
		c.t.Fatalf("%s: order reply %+v", c.acct, r.Order)
	}
	return r.Order
}

func (c *trader) cancel(req wire.Cancel) wire.OrderReply {
	c.t.Helper()
	return request[wire.OrderReply](c.t, c.nc, c.e.subj.OrderCancel(c.acct), req)
}

func (c *trader) leverage(lev string) {
	c.t.Helper()
	r := request[wire.LeverageReply](c.t, c.nc, c.e.subj.Leverage(c.acct), wire.Leverage{Symbol: tsym, Leverage: dec(lev)})
	mustOK(c.t, c.acct+" leverage "+lev, r.Reply)
	if !r.Leverage.Equal(dec(lev)) {
		c.t.Fatalf("%s leverage reply %s, want %s", c.acct, r.Leverage, lev)
	}
}

func (c *trader) state() *wire.Account {
	c.t.Helper()
	r := request[wire.AccountReply](c.t, c.nc, c.e.subj.State(c.acct), "{}")
	mustOK(c.t, c.acct+" state", r.Reply)
	if r.Account == nil || r.Account.Account != c.acct {
		c.t.Fatalf("%s state: %+v", c.acct, r.Account)
	}
	return r.Account
}

// position is the account's TEST-PERP position, nil when flat.
func (c *trader) position() *wire.Position {
	c.t.Helper()
	for _, p := range c.state().Positions {
		if p.Symbol == tsym {
			return &p
		}
	}
	return nil
}

func (c *trader) balance() decimal.Decimal {
	c.t.Helper()
	return c.state().Balances["USDT"]
}

// openPosition gives c a position of qty at price against maker (who
// rests the opposite order first), after setting both leverages to lev.
func (c *trader) openPosition(maker *trader, side wire.Side, price, qty, lev string) {
	c.t.Helper()
	c.leverage(lev)
	maker.leverage(lev)
	maker.limit(side.Opposite(), price, qty)
	if o := c.limit(side, price, qty, wire.IOC); o.Status != wire.StatusFilled || !o.FilledQty.Equal(dec(qty)) {
		c.t.Fatalf("opening %s %s@%s: %+v", side, qty, price, o)
	}
	// The maker settles its fill in its own actor, after the taker's reply;
	// its state request queues behind the fill, so once it is answered the
	// maker's position is booked and on its way to the ADL ranking (a test
	// that liquidates next would otherwise race it: seen 1 in 300 runs
	// under load, the ranking then lacking the maker).
	maker.state()
}

// ---- streams ----

// recorder keeps every message of its subscriptions, by subject.
type recorder struct {
	t    testing.TB
	mu   sync.Mutex
	msgs map[string][][]byte
}

func newRecorder(t testing.TB, nc *nats.Conn, subjects ...string) *recorder {
	t.Helper()
	r := &recorder{t: t, msgs: map[string][][]byte{}}
	for _, s := range subjects {
		if _, err := nc.Subscribe(s, func(m *nats.Msg) {
			r.mu.Lock()
			r.msgs[m.Subject] = append(r.msgs[m.Subject], m.Data)
			r.mu.Unlock()
		}); err != nil {
			t.Fatal(err)
		}
	}
	if err := nc.Flush(); err != nil {
		t.Fatal(err)
	}
	return r
}

// decoded returns the messages received on subject so far, decoded as T.
func decoded[T any](r *recorder, subject string) []T {
	r.mu.Lock()
	raw := append([][]byte(nil), r.msgs[subject]...)
	r.mu.Unlock()
	out := make([]T, len(raw))
	for i, b := range raw {
		if err := json.Unmarshal(b, &out[i]); err != nil {
			r.t.Fatalf("%s: %v: %s", subject, err, b)
		}
	}
	return out
}

// events returns an account's events of one type.
func (e *exchange) events(acct string, typ wire.EventType) []wire.AccountEvent {
	var out []wire.AccountEvent
	for _, ev := range decoded[wire.AccountEvent](e.rec, e.subj.Events(acct)) {
		if ev.Type == typ {
			out = append(out, ev)
		}
	}
	return out
}

func sameFundEvent(a, b wire.FundEvent) bool {
	return a.Seq == b.Seq && a.TimeMs == b.TimeMs && a.Asset == b.Asset && a.Delta.Equal(b.Delta) &&
		a.Balance.Equal(b.Balance) && a.Reason == b.Reason && a.Account == b.Account && a.Symbol == b.Symbol
}

// settlementEvent waits for the fund's latest event to be a liquidation's
// (not a deposit) and returns it.
func (e *exchange) settlementEvent() wire.FundEvent {
	e.t.Helper()
	var ev wire.FundEvent
	eventually(e.t, "the fund event", func() error {
		evs := e.fundEvents()
		if len(evs) == 0 || evs[len(evs)-1].Reason == wire.ReasonDeposit {
			return fmt.Errorf("fund events %+v", evs)
		}
		ev = evs[len(evs)-1]
		return nil
	})
	return ev
}

func (e *exchange) adlEvents() []wire.ADLEvent {
	return decoded[wire.ADLEvent](e.rec, e.subj.ADLEvents(tsym))
}

func (e *exchange) liquidationNotices() []wire.LiquidationNotice {
	return decoded[wire.LiquidationNotice](e.rec, e.subj.Liquidations(tsym))
}

func (e *exchange) fundEvents() []wire.FundEvent {
	return decoded[wire.FundEvent](e.rec, e.subj.FundEvents())
}

// waitEvents waits until acct has n events of type typ and returns them.
func (e *exchange) waitEvents(acct string, typ wire.EventType, n int) []wire.AccountEvent {
	e.t.Helper()
	var evs []wire.AccountEvent
	eventually(e.t, fmt.Sprintf("%d %s events of %s", n, typ, acct), func() error {
		if evs = e.events(acct, typ); len(evs) > n {
			e.t.Fatalf("%s has %d %s events, want %d: %+v", acct, len(evs), typ, n, evs)
		} else if len(evs) < n {
			return fmt.Errorf("have %d: %+v", len(evs), evs)
		}
		return nil
	})
	return evs
}

// ---- depth reconstruction ----

// openOrder is a resting order the random flow may cancel.
type openOrder struct {
	c  *trader
	id string
}

// flowCounts counts what a random flow did.
type flowCounts struct{ fills, cancels int }

// randomFlow sends n random commands: limit orders around 1000 (some
// crossing, so trades happen), market orders and cancels of open orders.
func (e *exchange) randomFlow(rng *rand.Rand, traders []*trader, open *[]*openOrder, n int) (fc flowCounts) {
	e.t.Helper()
	for range n {
		c := traders[rng.IntN(len(traders))]
		switch k := rng.IntN(10); {
		case k < 3 && len(*open) > 0:
			i := rng.IntN(len(*open))
			o := (*open)[i]
			*open = append((*open)[:i], (*open)[i+1:]...)
			r := o.c.cancel(wire.Cancel{Symbol: tsym, OrderID: o.id})
			if !r.OK && r.Error.Code != wire.CodeUnknownOrder {
				e.t.Fatalf("cancel %s: %+v", o.id, r.Error)
			}
			if r.OK && r.Order.Status == wire.StatusCanceled {
				fc.cancels++
			}
		case k < 4:
			side := []wire.Side{wire.Buy, wire.Sell}[rng.IntN(2)]
			r := c.place(wire.PlaceOrder{Symbol: tsym, Side: side, Type: wire.Market, Qty: dec(fmt.Sprint(1 + rng.IntN(3)))})
			mustOK(e.t, "market order", r.Reply)
			if r.Order.FilledQty.IsPositive() {
				fc.fills++
			}
		default:
			side := wire.Buy
			price := 990 + rng.IntN(14) // bids 990..1003
			if rng.IntN(2) == 0 {
				side, price = wire.Sell, 997+rng.IntN(14) // asks 997..1010
			}
			o := c.limit(side, fmt.Sprint(price), fmt.Sprint(1+rng.IntN(5)))
			if o.Status == wire.StatusNew || o.Status == wire.StatusPartiallyFilled {
				*open = append(*open, &openOrder{c: c, id: o.OrderID})
			}
			if o.FilledQty.IsPositive() {
				fc.fills++
			}
		}
	}
	return fc
}

// rebuilt is a book rebuilt from depth data: price -> qty per side.
type rebuilt struct{ bids, asks map[string]decimal.Decimal }

func newBookOf(d wire.DepthReply) *rebuilt {
	b := &rebuilt{bids: map[string]decimal.Decimal{}, asks: map[string]decimal.Decimal{}}
	b.apply(wire.BookUpdate{Bids: d.Bids, Asks: d.Asks})
	return b
}

func (b *rebuilt) apply(u wire.BookUpdate) {
	set := func(side map[string]decimal.Decimal, ls []wire.Level) {
		for _, l := range ls {
			if l.Qty().IsZero() {
				delete(side, l.Price().String())
			} else {
				side[l.Price().String()] = l.Qty()
			}
		}
	}
	set(b.bids, u.Bids)
	set(b.asks, u.Asks)
}

func (b *rebuilt) equal(o *rebuilt) error {
	for _, s := range []struct {
		name      string
		got, want map[string]decimal.Decimal
	}{{"bids", b.bids, o.bids}, {"asks", b.asks, o.asks}} {
		if len(s.got) != len(s.want) {
			return fmt.Errorf("%s: %d levels, want %d (%v vs %v)", s.name, len(s.got), len(s.want), s.got, s.want)
		}
		for p, q := range s.want {
			if g, ok := s.got[p]; !ok || !g.Equal(q) {
				return fmt.Errorf("%s at %s: %s, want %s", s.name, p, g, q)
			}
		}
	}
	return nil
}

// sortedDepth reports whether a snapshot lists bids descending and asks
// ascending, without crossing.
func sortedDepth(d wire.DepthReply) bool {
	for i := 1; i < len(d.Bids); i++ {
		if !d.Bids[i].Price().LessThan(d.Bids[i-1].Price()) {
			return false
		}
	}
	for i := 1; i < len(d.Asks); i++ {
		if !d.Asks[i].Price().GreaterThan(d.Asks[i-1].Price()) {
			return false
		}
	}
	return len(d.Bids) == 0 || len(d.Asks) == 0 || d.Bids[0].Price().LessThan(d.Asks[0].Price())
}

// ---- security ----

// secUsers are the config users of the security tests.
const secUsers = `"users":[{"user":"alice","password":"s3cret","account":"alice"},
	{"user":"bob","password":"b0b-pw","account":"bob"},
	{"user":"ops","password":"root-pw","admin":true}]`

// startSecurity starts an exchange with secUsers (the admin's login for
// e's own connection), the index at 1000, and alice and bob logged in with
// 10 000 each, their permission violations collected.
func startSecurity(t *testing.T) (e *exchange, alice, bob *trader, av, bv *violations) {
	e = start(t, parseConfig(t, symbolJSON("100", 0, longTiers()...), secUsers),
		startOpts{admin: []nats.Option{nats.UserInfo("ops", "root-pw")}})
	e.index("1000")
	e.deposit("alice", "10000")
	e.deposit("bob", "10000")
	av, bv = &violations{}, &violations{}
	alice = &trader{t: t, e: e, nc: login(t, e, "alice", "s3cret", av), acct: "alice"}
	bob = &trader{t: t, e: e, nc: login(t, e, "bob", "b0b-pw", bv), acct: "bob"}
	return e, alice, bob, av, bv
}

// violations collects a connection's permission violations.
type violations struct {
	mu   sync.Mutex
	seen []string
}

func (v *violations) handler(_ *nats.Conn, _ *nats.Subscription, err error) {
	if errors.Is(err, nats.ErrPermissionViolation) {
		v.mu.Lock()
		v.seen = append(v.seen, err.Error())
		v.mu.Unlock()
	}
}

// expect waits for a violation of op ("Publish", "Subscription") on
// subject, or on any subject under it when it ends with a dot.
func (v *violations) expect(t *testing.T, op, subject string) {
	t.Helper()
	want := op + ` to "` + subject
	if !strings.HasSuffix(subject, ".") {
		want += `"`
	}
	eventually(t, "permission violation "+want, func() error {
		v.mu.Lock()
		defer v.mu.Unlock()
		for _, s := range v.seen {
			if strings.Contains(s, want) {
				return nil
			}
		}
		return fmt.Errorf("saw %q", v.seen)
	})
}

// login connects a config user with its own inbox prefix.
func login(t *testing.T, e *exchange, user, pass string, v *violations) *nats.Conn {
	return connect(t, e.app.URL(), nats.UserInfo(user, pass), nats.CustomInboxPrefix(wire.InboxPrefix(user)),
		nats.ErrorHandler(v.handler))
}

// ---- nats CLI ----

// natsCLI finds the stock nats CLI on PATH or in $(go env GOPATH)/bin.
func natsCLI(t *testing.T) string {
	t.Helper()
	if p, err := exec.LookPath("nats"); err == nil {
		return p
	}
	if out, err := exec.Command("go", "env", "GOPATH").Output(); err == nil {
		for _, dir := range filepath.SplitList(strings.TrimSpace(string(out))) {
			p := filepath.Join(dir, "bin", "nats")
			if _, err := os.Stat(p); err == nil {
				return p
			}
		}
	}
	t.Skip("the nats CLI is not installed (go install github.com/nats-io/natscli/nats@v0.5.0; .ci/run does)")
	return ""
}

// ---- manual clock ----

// clock is a manual unix-ms clock for app.Options.Now.
type clock struct{ ms atomic.Int64 }

func (c *clock) now() int64              { return c.ms.Load() }
func (c *clock) advance(d time.Duration) { c.ms.Add(d.Milliseconds()) }

// at sets the clock to a UTC minute and returns it in Unix milliseconds.
func (c *clock) at(year int, month time.Month, day, hour, minute int) int64 {
	c.ms.Store(time.Date(year, month, day, hour, minute, 0, 0, time.UTC).UnixMilli())
	return c.ms.Load()
}
