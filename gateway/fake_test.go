package gateway

import (
	"cmp"
	"fmt"
	"hash/fnv"
	"slices"
	"strconv"
	"strings"
	"sync"

	"github.com/perpx/perpx/wire"
	"github.com/shopspring/decimal"
)

// record is one Exchange call the fake saw.
type record struct {
	Method string
	Key    string // account or symbol from the subject, "" if none
	Req    any
}

func (c record) String() string {
	return fmt.Sprintf("%s(%s, %s)", c.Method, c.Key, wire.Encode(c.Req))
}

// fake is an in-memory Exchange: it keeps just enough state to answer like
// the real one (balances, open orders by id and client id, index prices,
// the fund) and hashes every accepted change, so "a rejected request
// changes nothing" can be checked through StateHash. It replies from a new
// goroutine, as the contract says.
type fake struct {
	mu      sync.Mutex
	calls   []record
	symbols map[string]bool
	hash    uint64
	nextID  int
	orders  map[string]wire.Order // "acct/order_id"
	cids    map[string]string     // "acct/client_order_id" -> order id
	balance map[string]decimal.Decimal
	index   map[string]decimal.Decimal
	fund    decimal.Decimal
	script  map[string]any // method -> reply to give instead of the computed one
	gate    chan struct{}  // when set, replies wait for it to close
}

func newFake() *fake {
	return &fake{symbols: map[string]bool{"BTC-PERP": true, "ETH-PERP": true}, orders: map[string]wire.Order{},
		cids: map[string]string{}, balance: map[string]decimal.Decimal{}, index: map[string]decimal.Decimal{}}
}

// Calls returns a copy of the calls so far.
func (f *fake) Calls() []record {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]record(nil), f.calls...)
}

// Hash is StateHash without the callback.
func (f *fake) Hash() uint64 {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.hash
}

// do records the call, computes the reply under the lock (or takes the
// scripted one) and delivers it from another goroutine.
func do[R any](f *fake, method, key string, req any, done func(R), compute func() R) {
	f.mu.Lock()
	f.calls = append(f.calls, record{method, key, req})
	r, scripted := f.script[method].(R)
	if !scripted {
		r = compute()
	}
	gate := f.gate
	f.mu.Unlock()
	go func() {
		if gate != nil {
			<-gate
		}
		done(r)
	}()
}

// changed mixes an accepted change into the state hash (caller holds mu).
func (f *fake) changed(what string) {
	h := fnv.New64a()
	fmt.Fprintf(h, "%d/%s", f.hash, what)
	f.hash = h.Sum64()
}

func fail(code wire.Code, format string, args ...any) wire.Reply {
	return wire.Fail(wire.Errorf(code, format, args...))
}

func (f *fake) unknown(sym string) (wire.Reply, bool) {
	if f.symbols[sym] {
		return wire.OK(), false
	}
	return fail(wire.CodeUnknownSymbol, "unknown symbol %s", sym), true
}

func (f *fake) PlaceOrder(acct string, req wire.PlaceOrder, done func(wire.OrderReply)) {
	do(f, "PlaceOrder", acct, req, done, func() wire.OrderReply {
		if env, bad := f.unknown(req.Symbol); bad {
			return wire.OrderReply{Reply: env}
		}
		if req.ClientOrderID != "" && f.cids[acct+"/"+req.ClientOrderID] != "" {
			return wire.OrderReply{Reply: fail(wire.CodeDuplicateClientOrderID, "client order id %s in use", req.ClientOrderID)}
		}
		f.nextID++
		o := wire.Order{OrderID: strconv.Itoa(f.nextID), ClientOrderID: req.ClientOrderID, Account: acct,
			Symbol: req.Symbol, Side: req.Side, Type: req.Type, Price: req.Price, Qty: req.Qty,
			Status: wire.StatusNew, TIF: req.TIF, ReduceOnly: req.ReduceOnly, PostOnly: req.PostOnly, STP: req.STP, CreatedMs: 1700000000000}
		f.orders[acct+"/"+o.OrderID] = o
		if o.ClientOrderID != "" {
			f.cids[acct+"/"+o.ClientOrderID] = o.OrderID
		}
		f.changed("place " + string(wire.AppendOrder(nil, &o)))
		return wire.OrderReply{Reply: wire.OK(), Order: &o}
	})
}

// open finds acct's open order in sym by order or client id (caller
// holds mu); a refusal is the reply to send instead.
func (f *fake) open(acct, sym, orderID, clientID string) (wire.Order, string, *wire.OrderReply) {
	if env, bad := f.unknown(sym); bad {
		return wire.Order{}, "", &wire.OrderReply{Reply: env}
	}
	id := orderID
	if clientID != "" {
		id = f.cids[acct+"/"+clientID]
	}
	o, ok := f.orders[acct+"/"+id]
	if !ok || o.Symbol != sym {
		return wire.Order{}, "", &wire.OrderReply{Reply: fail(wire.CodeUnknownOrder, "no open order %s", id)}
	}
	return o, id, nil
}

func (f *fake) CancelOrder(acct string, req wire.Cancel, done func(wire.OrderReply)) {
	do(f, "CancelOrder", acct, req, done, func() wire.OrderReply {
		o, id, refused := f.open(acct, req.Symbol, req.OrderID, req.ClientOrderID)
		if refused != nil {
			return *refused
		}
		delete(f.orders, acct+"/"+id)
		delete(f.cids, acct+"/"+o.ClientOrderID)
		o.Status = wire.StatusCanceled
		f.changed("cancel " + acct + "/" + id)
		return wire.OrderReply{Reply: wire.OK(), Order: &o}
	})
}

func (f *fake) AmendOrder(acct string, req wire.Amend, done func(wire.OrderReply)) {
	do(f, "AmendOrder", acct, req, done, func() wire.OrderReply {
		o, id, refused := f.open(acct, req.Symbol, req.OrderID, req.ClientOrderID)
		if refused != nil {
			return *refused
		}
		if !req.Price.IsZero() {
			o.Price = req.Price
		}
		if !req.Qty.IsZero() {
			o.Qty = req.Qty
		}
		f.orders[acct+"/"+id] = o
		f.changed("amend " + string(wire.AppendOrder(nil, &o)))
		return wire.OrderReply{Reply: wire.OK(), Order: &o}
	})
}

func (f *fake) CancelAll(acct string, req wire.CancelAll, done func(wire.CancelAllReply)) {
	do(f, "CancelAll", acct, req, done, func() wire.CancelAllReply {
		if env, bad := f.unknown(req.Symbol); req.Symbol != "" && bad {
			return wire.CancelAllReply{Reply: env}
		}
		out := []wire.Order{}
		for key, o := range f.orders {
			if o.Account == acct && (req.Symbol == "" || o.Symbol == req.Symbol) {
				delete(f.orders, key)
				delete(f.cids, acct+"/"+o.ClientOrderID)
				o.Status = wire.StatusCanceled
				out = append(out, o)
				f.changed("cancel " + key)
			}
		}
		slices.SortFunc(out, func(a, b wire.Order) int {
			return cmp.Or(cmp.Compare(len(a.OrderID), len(b.OrderID)), strings.Compare(a.OrderID, b.OrderID))
		})
		return wire.CancelAllReply{Reply: wire.OK(), Count: len(out), Orders: out}
	})
}

func (f *fake) CancelAllAfter(acct string, req wire.CancelAllAfter, done func(wire.CancelAllAfterReply)) {
	do(f, "CancelAllAfter", acct, req, done, func() wire.CancelAllAfterReply {
		var trigger int64
		if req.TimeoutMs > 0 {
			trigger = 1700000000000 + int64(req.TimeoutMs)
		}
		f.changed("cancel_all_after " + acct + strconv.Itoa(req.TimeoutMs))
		return wire.CancelAllAfterReply{Reply: wire.OK(), TimeoutMs: req.TimeoutMs, TriggerMs: trigger}
	})
}

func (f *fake) SetLeverage(acct string, req wire.Leverage, done func(wire.LeverageReply)) {
	do(f, "SetLeverage", acct, req, done, func() wire.LeverageReply {
		if env, bad := f.unknown(req.Symbol); bad {
			return wire.LeverageReply{Reply: env}
		}
		if req.Leverage.GreaterThan(decimal.NewFromInt(100)) {
			return wire.LeverageReply{Reply: fail(wire.CodeLeverageTooHigh, "max leverage is 100")}
		}
		f.changed("leverage " + acct + req.Symbol + req.Leverage.String())
		return wire.LeverageReply{Reply: wire.OK(), Leverage: req.Leverage}
	})
}

func (f *fake) SetMarginMode(acct string, req wire.MarginMode, done func(wire.MarginModeReply)) {
	do(f, "SetMarginMode", acct, req, done, func() wire.MarginModeReply {
		if env, bad := f.unknown(req.Symbol); bad {
			return wire.MarginModeReply{Reply: env}
		}
		f.changed("margin_mode " + acct + req.Symbol + string(req.Mode))
		return wire.MarginModeReply{Reply: wire.OK(), Symbol: req.Symbol, Mode: req.Mode}
	})
}

func (f *fake) MovePositionMargin(acct string, req wire.PositionMargin, done func(wire.PositionMarginReply)) {
	do(f, "MovePositionMargin", acct, req, done, func() wire.PositionMarginReply {
		if env, bad := f.unknown(req.Symbol); bad {
			return wire.PositionMarginReply{Reply: env}
		}
		return wire.PositionMarginReply{Reply: fail(wire.CodeNoIsolatedPosition, "no isolated position")}
	})
}

func (f *fake) Withdraw(acct string, req wire.Withdraw, done func(wire.BalanceReply)) {
	do(f, "Withdraw", acct, req, done, func() wire.BalanceReply {
		if req.Amount.GreaterThan(f.balance[acct]) {
			return wire.BalanceReply{Reply: fail(wire.CodeInsufficientMargin, "more than available")}
		}
		f.balance[acct] = f.balance[acct].Sub(req.Amount)
		f.changed("withdraw " + acct + req.Amount.String())
		return wire.BalanceReply{Reply: wire.OK(), Balance: f.balance[acct]}
	})
}

func (f *fake) AccountState(acct string, req wire.State, done func(wire.AccountReply)) {
	do(f, "AccountState", acct, req, done, func() wire.AccountReply {
		b := f.balance[acct]
		return wire.AccountReply{Reply: wire.OK(), Account: &wire.Account{Account: acct,
			Balances: map[string]decimal.Decimal{wire.DefaultAsset: b}, Equity: b, Available: b,
			Positions: []wire.Position{}, OpenOrders: []wire.Order{}, Settings: []wire.SymbolSetting{}}}
	})
}

func (f *fake) OpenOrders(acct string, req wire.State, done func(wire.OrdersReply)) {
	do(f, "OpenOrders", acct, req, done, func() wire.OrdersReply {
		return wire.OrdersReply{Reply: wire.OK(), Orders: []wire.Order{}}
	})
}

func (f *fake) Deposit(req wire.Deposit, done func(wire.BalanceReply)) {
	do(f, "Deposit", "", req, done, func() wire.BalanceReply {
		b := f.balance[req.Account].Add(req.Amount)
		if !req.Amount.IsZero() {
			f.balance[req.Account] = b
			f.changed("deposit " + req.Account + req.Amount.String())
		}
		return wire.BalanceReply{Reply: wire.OK(), Balance: b}
	})
}

func (f *fake) SetIndex(sym string, req wire.IndexSet, done func(wire.IndexReply)) {
	do(f, "SetIndex", sym, req, done, func() wire.IndexReply {
		if env, bad := f.unknown(sym); bad {
			return wire.IndexReply{Reply: env}
		}
		f.index[sym] = req.Price
		f.changed("index " + sym + req.Price.String())
		return wire.IndexReply{Reply: wire.OK(), Index: req.Price, Mark: req.Price}
	})
}

func (f *fake) FundDeposit(req wire.FundDeposit, done func(wire.BalanceReply)) {
	do(f, "FundDeposit", "", req, done, func() wire.BalanceReply {
		if !req.Amount.IsZero() {
			f.fund = f.fund.Add(req.Amount)
			f.changed("fund " + req.Amount.String())
		}
		return wire.BalanceReply{Reply: wire.OK(), Balance: f.fund}
	})
}

func (f *fake) Depth(sym string, req wire.Depth, done func(wire.DepthReply)) {
	do(f, "Depth", sym, req, done, func() wire.DepthReply {
		if env, bad := f.unknown(sym); bad {
			return wire.DepthReply{Reply: env, Bids: []wire.Level{}, Asks: []wire.Level{}}
		}
		lvl := wire.NewLevel(decimal.NewFromInt(30000), decimal.RequireFromString("0.5"))
		return wire.DepthReply{Reply: wire.OK(), Bids: []wire.Level{lvl}, Asks: []wire.Level{}, Seq: 7}
	})
}

func (f *fake) FundState(req wire.FundState, done func(wire.FundStateReply)) {
	do(f, "FundState", "", req, done, func() wire.FundStateReply {
		return wire.FundStateReply{Reply: wire.OK(), Balances: map[string]decimal.Decimal{wire.DefaultAsset: f.fund},
			History: []wire.FundEvent{}}
	})
}

func (f *fake) Klines(sym string, req wire.Klines, done func(wire.KlinesReply)) {
	do(f, "Klines", sym, req, done, func() wire.KlinesReply {
		if env, bad := f.unknown(sym); bad {
			return wire.KlinesReply{Reply: env, Klines: []wire.Kline{}}
		}
		return wire.KlinesReply{Reply: wire.OK(), Symbol: sym, Interval: req.Interval, Source: req.Source, Klines: []wire.Kline{}}
	})
}

func (f *fake) RecentTrades(sym string, req wire.RecentTrades, done func(wire.RecentTradesReply)) {
	do(f, "RecentTrades", sym, req, done, func() wire.RecentTradesReply {
		if env, bad := f.unknown(sym); bad {
			return wire.RecentTradesReply{Reply: env, Trades: []wire.Trade{}}
		}
		return wire.RecentTradesReply{Reply: wire.OK(), Trades: []wire.Trade{}}
	})
}

func (f *fake) FundingHistory(sym string, req wire.FundingHistory, done func(wire.FundingHistoryReply)) {
	do(f, "FundingHistory", sym, req, done, func() wire.FundingHistoryReply {
		if env, bad := f.unknown(sym); bad {
			return wire.FundingHistoryReply{Reply: env, History: []wire.FundingRecord{}}
		}
		return wire.FundingHistoryReply{Reply: wire.OK(), History: []wire.FundingRecord{}}
	})
}

func (f *fake) FundDaily(req wire.FundDaily, done func(wire.FundDailyReply)) {
	do(f, "FundDaily", "", req, done, func() wire.FundDailyReply {
		return wire.FundDailyReply{Reply: wire.OK(), Days: []wire.FundDay{}}
	})
}

func (f *fake) Ticker(sym string, done func(wire.TickerReply)) {
	do(f, "Ticker", sym, wire.Ticker{}, done, func() wire.TickerReply {
		if env, bad := f.unknown(sym); bad {
			return wire.TickerReply{Reply: env}
		}
		return wire.TickerReply{Reply: wire.OK(), Ticker: &wire.TickerStats{Symbol: sym}}
	})
}

func (f *fake) OpenInterest(sym string, req wire.OpenInterestReq, done func(wire.OpenInterestReply)) {
	do(f, "OpenInterest", sym, req, done, func() wire.OpenInterestReply {
		if env, bad := f.unknown(sym); bad {
			return wire.OpenInterestReply{Reply: env, History: []wire.OISample{}}
		}
		return wire.OpenInterestReply{Reply: wire.OK(), Symbol: sym, History: []wire.OISample{}}
	})
}

func (f *fake) ADLQueue(sym string, req wire.ADLQueue, done func(wire.ADLQueueReply)) {
	do(f, "ADLQueue", sym, req, done, func() wire.ADLQueueReply {
		if env, bad := f.unknown(sym); bad {
			return wire.ADLQueueReply{Reply: env, Queue: []wire.ADLQueueEntry{}}
		}
		return wire.ADLQueueReply{Reply: wire.OK(), Queue: []wire.ADLQueueEntry{}}
	})
}

func (f *fake) Audit(done func(wire.AuditReply)) {
	do(f, "Audit", "", wire.Audit{}, done, func() wire.AuditReply {
		var total decimal.Decimal
		for _, b := range f.balance {
			total = total.Add(b)
		}
		return wire.AuditReply{Reply: wire.OK(), Deposits: total, FundDeposits: f.fund, Balances: total, Fund: f.fund,
			OpenInterest: map[string]wire.OpenInterest{}, NegativeBalances: []string{}, Uncovered: decimal.Zero, Failures: []wire.Failure{}, InvariantsOK: true}
	})
}

func (f *fake) StateHashAt(done func(wire.StateHashReply)) {
	do(f, "StateHashAt", "", wire.StateHash{}, done, func() wire.StateHashReply {
		return wire.StateHashReply{Reply: wire.OK(), Hash: fmt.Sprintf("%016x", f.hash), Seq: 0}
	})
}

func (f *fake) Resume(req wire.Resume, done func(wire.ResumeReply)) {
	do(f, "Resume", "", req, done, func() wire.ResumeReply {
		return wire.ResumeReply{Reply: wire.OK(), Actor: req.Actor}
	})
}

func (f *fake) StateHash(done func(uint64)) {
	h := f.Hash()
	go done(h)
}

func (f *fake) AccountOrders(acct string, req wire.Orders, done func(wire.OrdersReply)) {
	do(f, "AccountOrders", acct, req, done, func() wire.OrdersReply {
		return wire.OrdersReply{Reply: wire.OK(), Orders: []wire.Order{}}
	})
}

func (f *fake) Fills(acct string, req wire.Fills, done func(wire.FillsReply)) {
	do(f, "Fills", acct, req, done, func() wire.FillsReply {
		return wire.FillsReply{Reply: wire.OK(), Fills: []wire.Fill{}}
	})
}

func (f *fake) Income(acct string, req wire.IncomeQuery, done func(wire.IncomeReply)) {
	do(f, "Income", acct, req, done, func() wire.IncomeReply {
		return wire.IncomeReply{Reply: wire.OK(), Income: []wire.Income{}}
	})
}
