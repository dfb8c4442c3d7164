package loadtest

import (
	"encoding/json"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/nats-io/nats-server/v2/server"
	"github.com/nats-io/nats.go"
	"github.com/perpx/perpx/wire"
	"github.com/shopspring/decimal"
)

// startNATS runs an embedded server on a random loopback port for one test.
func startNATS(t *testing.T) string {
	t.Helper()
	ns, err := server.NewServer(&server.Options{Host: "127.0.0.1", Port: -1, NoLog: true, NoSigs: true})
	if err != nil {
		t.Fatal(err)
	}
	ns.Start()
	if !ns.ReadyForConnections(5 * time.Second) {
		t.Fatal("nats server not ready")
	}
	t.Cleanup(ns.Shutdown)
	return ns.ClientURL()
}

// fakeExchange answers the API.md subjects with fixed, countable rules, so
// a test can compare what the load test reports with what was replied:
//   - order.place: strict wire decoding; every 4th order of a levered
//     account is INSUFFICIENT_MARGIN; market orders fill; every 10th limit
//     order fills at once, the others rest;
//   - order.cancel: cancels a resting order, else UNKNOWN_ORDER;
//   - order.cancel_all: cancels the account's resting orders in the symbol;
//   - order.cancel_all_after: records the timeout, never fires;
//   - order.batch: each item as the single request would be, except that
//     every 5th batch of a taker account is RATE_LIMITED as a whole;
//   - state: the deposits as balance and equity, the resting orders, no
//     position;
//   - admin.index: a fall below the previous index is a shock: one
//     liquidation event per levered account and one ADL event per symbol;
//   - admin.audit: invariants as auditOK says, except that the first
//     failAudits audits fail.
type fakeExchange struct {
	t    *testing.T
	nc   *nats.Conn
	subj wire.Subjects

	mu       sync.Mutex
	requests int         // order.place and order.cancel, batch items included
	batches  map[int]int // items -> order.batch requests of that size
	perBatch map[string]int
	rejects  map[string]int64
	statuses map[wire.Status]int64
	deposits map[string]decimal.Decimal
	leverage map[string]string // account -> symbol:leverage
	index    map[string]decimal.Decimal
	resting  map[string]map[string]wire.Order // account -> client order id -> order
	perAcct  map[string]int
	liqSent  int
	adlSent  int
	// cancelAlls counts order.cancel_all requests answered; deadman holds
	// each account's order.cancel_all_after timeouts, in order.
	cancelAlls int
	amends     int
	deadman    map[string][]int
	auditOK    bool
	failAudits int // the first failAudits audits answer invariants_ok false
	audits     int
	// delay > 0 answers order.place and order.cancel that much later,
	// counting the requests held meanwhile (inflight, its peak maxHeld);
	// dropEvery > 0 never answers every dropEvery-th of them (dropped).
	delay             time.Duration
	inflight, maxHeld int
	dropEvery         int
	dropped           int
}

func newFakeExchange(t *testing.T, url string) *fakeExchange {
	nc, err := nats.Connect(url, nats.Name("fake-exchange"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(nc.Close)
	f := &fakeExchange{t: t, nc: nc, subj: wire.DefaultSubjects(), rejects: map[string]int64{},
		statuses: map[wire.Status]int64{}, deposits: map[string]decimal.Decimal{}, leverage: map[string]string{},
		index: map[string]decimal.Decimal{}, resting: map[string]map[string]wire.Order{}, perAcct: map[string]int{}, auditOK: true,
		batches: map[int]int{}, perBatch: map[string]int{}, deadman: map[string][]int{}}
	sub, err := nc.Subscribe(f.subj.Prefix()+".>", f.handle)
	if err != nil {
		t.Fatal(err)
	}
	_ = sub.SetPendingLimits(-1, -1)
	if err := nc.Flush(); err != nil {
		t.Fatal(err)
	}
	return f
}

func (f *fakeExchange) handle(m *nats.Msg) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if m.Subject == AuditSubject(f.subj) {
		oi := `{"BTC-PERP":{"long":"1.5","short":"1.5"}}`
		f.audits++
		f.respond(m, map[string]any{"ok": true, "deposits": "10", "balances": "7", "unrealized": "1", "fund": "1", "fees": "1",
			"open_interest": json.RawMessage(oi), "invariants_ok": f.auditOK && f.audits > f.failAudits})
		return
	}
	r, perr := f.subj.Parse(m.Subject)
	if perr != nil || !r.Endpoint.IsRequest() {
		return // our own streams
	}
	switch r.Endpoint {
	case wire.EpOrderPlace:
		f.requests++
		p, err := wire.DecodePlace(m.Data)
		f.answer(m, f.place(r.Account, p, err))
	case wire.EpOrderCancel:
		f.requests++
		c, err := wire.DecodeCancel(m.Data)
		f.answer(m, f.cancel(r.Account, c, err))
	case wire.EpOrderAmend:
		f.requests++
		a, err := wire.DecodeAmend(m.Data)
		f.answer(m, f.amend(r.Account, a, err))
	case wire.EpOrderCancelAll:
		f.requests++
		c, err := wire.DecodeCancelAll(m.Data)
		f.answer(m, f.cancelAll(r.Account, c, err))
	case wire.EpOrderCancelAllAfter:
		c, err := wire.DecodeCancelAllAfter(m.Data)
		if f.fail(m, err) {
			return
		}
		f.deadman[r.Account] = append(f.deadman[r.Account], c.TimeoutMs)
		f.respond(m, wire.CancelAllAfterReply{Reply: wire.OK(), TimeoutMs: c.TimeoutMs})
	case wire.EpOrderBatch:
		f.batch(m, r.Account)
	case wire.EpAdminDeposit:
		d, err := wire.DecodeDeposit(m.Data)
		if f.fail(m, err) {
			return
		}
		f.deposits[d.Account] = f.deposits[d.Account].Add(d.Amount)
		f.respond(m, wire.BalanceReply{Reply: wire.OK(), Balance: f.deposits[d.Account]})
	case wire.EpLeverage:
		l, err := wire.DecodeLeverage(m.Data)
		if f.fail(m, err) {
			return
		}
		f.leverage[r.Account] = l.Symbol + ":" + l.Leverage.String()
		f.respond(m, wire.LeverageReply{Reply: wire.OK(), Leverage: l.Leverage})
	case wire.EpAdminIndex:
		x, err := wire.DecodeIndexSet(m.Data)
		if f.fail(m, err) {
			return
		}
		f.moveIndex(r.Symbol, x.Price)
		f.respond(m, wire.IndexReply{Reply: wire.OK(), Index: x.Price, Mark: x.Price})
	case wire.EpState:
		// No open orders here: the load test's bots read them on order.open,
		// which a place sent before cannot overtake (a bot reading these
		// would forget every quote and place it again).
		acct := &wire.Account{Account: r.Account, Balances: map[string]decimal.Decimal{"USDT": f.deposits[r.Account]}, Equity: f.deposits[r.Account]}
		f.respond(m, wire.AccountReply{Reply: wire.OK(), Account: acct})
	case wire.EpOrderOpen:
		open := []wire.Order{}
		for _, o := range f.resting[r.Account] {
			open = append(open, o)
		}
		f.respond(m, wire.OrdersReply{Reply: wire.OK(), Orders: open})
	case wire.EpDepth:
		f.respond(m, wire.DepthReply{Reply: wire.OK(), Bids: []wire.Level{}, Asks: []wire.Level{}})
	case wire.EpFundState:
		f.respond(m, wire.FundStateReply{Reply: wire.OK(), Balances: map[string]decimal.Decimal{"USDT": decimal.NewFromInt(123)}, History: []wire.FundEvent{}})
	default:
		f.fail(m, wire.Errorf(wire.CodeBadRequest, "not faked"))
	}
}

func (f *fakeExchange) place(account string, p wire.PlaceOrder, err *wire.Error) []byte {
	if err != nil {
		return f.failReply(err)
	}
	f.perAcct[account]++
	if strings.Contains(account, "-"+KindLevered) && f.perAcct[account]%4 == 0 {
		return f.failReply(wire.Errorf(wire.CodeInsufficientMargin, "fake margin call"))
	}
	o := wire.Order{OrderID: "o1", ClientOrderID: p.ClientOrderID, Account: account, Symbol: p.Symbol, Side: p.Side,
		Type: p.Type, Price: p.Price, Qty: p.Qty, TIF: p.TIF, PostOnly: p.PostOnly, Status: wire.StatusNew}
	if p.Type == wire.Market || f.perAcct[account]%10 == 0 {
		o.Status, o.FilledQty = wire.StatusFilled, p.Qty
	} else {
		if f.resting[account] == nil {
			f.resting[account] = map[string]wire.Order{}
		}
		f.resting[account][p.ClientOrderID] = o
	}
	f.statuses[o.Status]++
	return wire.AppendOrderReply(nil, &o)
}

func (f *fakeExchange) cancel(account string, c wire.Cancel, err *wire.Error) []byte {
	if err != nil {
		return f.failReply(err)
	}
	o, ok := f.resting[account][c.ClientOrderID]
	if !ok {
		return f.failReply(wire.Errorf(wire.CodeUnknownOrder, "no such order"))
	}
	delete(f.resting[account], c.ClientOrderID)
	o.Status = wire.StatusCanceled
	f.statuses[o.Status]++
	return wire.AppendOrderReply(nil, &o)
}

// amend moves a resting order to a new price.
func (f *fakeExchange) amend(account string, a wire.Amend, err *wire.Error) []byte {
	if err != nil {
		return f.failReply(err)
	}
	o, ok := f.resting[account][a.ClientOrderID]
	if !ok {
		return f.failReply(wire.Errorf(wire.CodeUnknownOrder, "no such order"))
	}
	o.Price = a.Price
	f.resting[account][a.ClientOrderID] = o
	f.amends++
	f.statuses[o.Status]++
	return wire.AppendOrderReply(nil, &o)
}

// cancelAll cancels the account's resting orders (in c.Symbol if set);
// its status is counted once, as the load test reads a reply's first one.
func (f *fakeExchange) cancelAll(account string, c wire.CancelAll, err *wire.Error) []byte {
	if err != nil {
		return f.failReply(err)
	}
	f.cancelAlls++
	out := []wire.Order{}
	for coid, o := range f.resting[account] {
		if c.Symbol == "" || o.Symbol == c.Symbol {
			delete(f.resting[account], coid)
			o.Status = wire.StatusCanceled
			out = append(out, o)
		}
	}
	if len(out) > 0 {
		f.statuses[wire.StatusCanceled]++
	}
	return wire.Encode(wire.CancelAllReply{Reply: wire.OK(), Count: len(out), Orders: out})
}

// batch answers an order.batch as API.md says: results in item order, or
// one error for the whole batch, counted once per item.
func (f *fakeExchange) batch(m *nats.Msg, account string) {
	items, err := wire.DecodeBatch(m.Data)
	if f.fail(m, err) {
		return
	}
	f.requests += len(items)
	f.batches[len(items)]++
	f.perBatch[account]++
	if strings.Contains(account, "-"+KindTaker) && f.perBatch[account]%5 == 0 {
		f.rejects[string(wire.CodeRateLimited)] += int64(len(items))
		_ = m.Respond(wire.AppendError(nil, wire.Errorf(wire.CodeRateLimited, "fake bucket empty")))
		return
	}
	out := []byte(`{"ok":true,"results":[`)
	for i, it := range items {
		if i > 0 {
			out = append(out, ',')
		}
		switch {
		case it.Err != nil:
			out = append(out, f.failReply(it.Err)...)
		case it.Endpoint == wire.EpOrderCancel:
			out = append(out, f.cancel(account, it.Cancel, nil)...)
		default:
			out = append(out, f.place(account, it.Place, nil)...)
		}
	}
	_ = m.Respond(append(out, "]}"...))
}

// moveIndex publishes the mark and, on a fall, the shock's events, with
// look-alike events the load test must not count.
func (f *fakeExchange) moveIndex(sym string, price decimal.Decimal) {
	prev, had := f.index[sym]
	f.index[sym] = price
	f.publish(f.subj.Mark(sym), wire.MarkUpdate{Symbol: sym, Index: price, Mark: price})
	if !had || !price.LessThan(prev) {
		return
	}
	for acct, lev := range f.leverage {
		if !strings.HasPrefix(lev, sym+":") {
			continue
		}
		// As the exchange does: the account's event and the public notice.
		liq := wire.Liquidation{Symbol: sym, Side: wire.Long}
		f.publish(f.subj.Events(acct), wire.AccountEvent{Type: wire.EventLiquidation, Liquidation: &liq})
		f.publish(f.subj.Liquidations(sym), wire.LiquidationNotice{Liquidation: liq})
		f.publish(f.subj.Events(acct), wire.AccountEvent{Type: wire.EventOrder, Order: &wire.Order{ClientOrderID: "liquidation"}})
		f.liqSent++
	}
	f.publish(f.subj.ADLEvents(sym), wire.ADLEvent{Symbol: sym, BankruptAccount: "x", Counterparty: "y"})
	f.adlSent++
}

// answer replies reply to an order request, after f.delay if set. The
// request stops counting as held before the reply leaves, so a client that
// sends on each reply never finds it still counted.
func (f *fakeExchange) answer(m *nats.Msg, reply []byte) {
	if f.dropEvery > 0 && f.requests%f.dropEvery == 0 {
		f.dropped++
		return
	}
	if f.delay <= 0 {
		_ = m.Respond(reply)
		return
	}
	f.inflight++
	f.maxHeld = max(f.maxHeld, f.inflight)
	time.AfterFunc(f.delay, func() {
		f.mu.Lock()
		f.inflight--
		f.mu.Unlock()
		_ = m.Respond(reply)
	})
}

func (f *fakeExchange) publish(subject string, v any) {
	if err := f.nc.Publish(subject, wire.Encode(v)); err != nil {
		f.t.Error(err)
	}
}

func (f *fakeExchange) respond(m *nats.Msg, v any) {
	if err := m.Respond(wire.Encode(v)); err != nil {
		f.t.Error(err)
	}
}

// fail replies err and counts it; false when err is nil.
func (f *fakeExchange) fail(m *nats.Msg, err *wire.Error) bool {
	if err == nil {
		return false
	}
	_ = m.Respond(f.failReply(err))
	return true
}

// failReply counts err and returns its reply.
func (f *fakeExchange) failReply(err *wire.Error) []byte {
	f.rejects[string(err.Code)]++
	return wire.AppendError(nil, err)
}

// restingOf returns a copy of acct's resting orders.
func (f *fakeExchange) restingOf(acct string) map[string]wire.Order {
	f.mu.Lock()
	defer f.mu.Unlock()
	out := map[string]wire.Order{}
	for k, v := range f.resting[acct] {
		out[k] = v
	}
	return out
}
