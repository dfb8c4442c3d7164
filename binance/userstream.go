package binance

import (
	"context"
	"crypto/rand"
	"encoding/json"
	"errors"
	"net/http"
	"sync"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/perpx/perpx/wire"
	"github.com/shopspring/decimal"
)

// User data streams. POST /fapi/v1/listenKey gives the account one key
// (the same one while it lives, as Binance's); PUT keeps it alive for
// another TTL, DELETE ends it. A connection that names the key gets the
// account's events from px.acct.<acct>.events, translated:
//   - an order event: ORDER_TRADE_UPDATE (execution NEW, CANCELED,
//     EXPIRED, AMENDMENT for a later change), or ALGO_UPDATE for a
//     conditional order (and ORDER_TRADE_UPDATE too once it is in the book);
//   - a fill: ORDER_TRADE_UPDATE with execution TRADE, then ACCOUNT_UPDATE
//     with the balance and the symbol's position (read from state);
//   - funding: ACCOUNT_UPDATE (FUNDING_FEE); an ADL close: ACCOUNT_UPDATE;
//   - a liquidation: MARGIN_CALL (perpx warns no earlier: it is sent when
//     the position is taken over), then ACCOUNT_UPDATE.
// When a key expires its connections get listenKeyExpired and are closed.
// In open mode any API key is an account, so the live keys are capped per
// IP and in all (Options.MaxListenKeys); with users the accounts cap them.

type listenKey struct {
	key, account string
	ip           string // of the request that made it
	expires      time.Time
}

type userStreams struct {
	s   *Server
	ttl time.Duration
	// maxKeys and maxPerIP cap the live keys, all and of one IP, in open
	// mode (0: no cap): any API key there is an account with a key to make.
	maxKeys, maxPerIP int

	mu     sync.Mutex
	keys   map[string]*listenKey
	byAcct map[string]*listenKey
	perIP  map[string]int
	feeds  map[string]*feed // by account
	conns  map[*wsConn]*feed
	stop   func()
}

func newUserStreams(s *Server, ttl time.Duration) *userStreams {
	u := &userStreams{s: s, ttl: ttl, keys: map[string]*listenKey{}, byAcct: map[string]*listenKey{},
		perIP: map[string]int{}, feeds: map[string]*feed{}, conns: map[*wsConn]*feed{}}
	u.stop = s.hub.every(min(time.Second, ttl/4), u.expire)
	return u
}

func (c *call) newListenKey() (any, *apiError) {
	u := c.s.users
	u.mu.Lock()
	defer u.mu.Unlock()
	k := u.byAcct[c.account]
	if k == nil {
		ip := remoteIP(c.r)
		switch {
		case u.maxKeys > 0 && len(u.keys) >= u.maxKeys:
			return nil, errf(http.StatusServiceUnavailable, codeOverloaded,
				"Server is currently overloaded with other requests. Please try again in a few minutes. (at most %d live listen keys)", u.maxKeys)
		case u.maxPerIP > 0 && u.perIP[ip] >= u.maxPerIP:
			return nil, errf(http.StatusTooManyRequests, codeTooManyRequests,
				"Too many requests; IP(%s) holds %d live listen keys, the most one IP may: delete one or let it expire.", ip, u.maxPerIP)
		}
		k = &listenKey{key: rand.Text() + rand.Text(), account: c.account, ip: ip}
		u.keys[k.key], u.byAcct[c.account] = k, k
		u.perIP[ip]++
	}
	k.expires = time.Now().Add(u.ttl)
	return map[string]string{"listenKey": k.key}, nil
}

func (c *call) keepListenKey() (any, *apiError) {
	u := c.s.users
	u.mu.Lock()
	defer u.mu.Unlock()
	k := u.byAcct[c.account]
	if k == nil {
		return nil, errf(400, codeBadListenKey, "This listenKey does not exist.")
	}
	k.expires = time.Now().Add(u.ttl)
	return map[string]string{"listenKey": k.key}, nil
}

func (c *call) deleteListenKey() (any, *apiError) {
	u := c.s.users
	u.mu.Lock()
	k := u.byAcct[c.account]
	if k != nil {
		u.dropKey(k)
	}
	u.mu.Unlock()
	return struct{}{}, nil
}

// dropKey forgets k and closes its connections (u.mu held).
func (u *userStreams) dropKey(k *listenKey) {
	delete(u.keys, k.key)
	delete(u.byAcct, k.account)
	if u.perIP[k.ip]--; u.perIP[k.ip] <= 0 {
		delete(u.perIP, k.ip)
	}
	for w, f := range u.conns {
		if f.account == k.account && w.key == k.key {
			w.closeAfter()
		}
	}
}

// expire ends the keys whose time ran out: listenKeyExpired, then close.
func (u *userStreams) expire() {
	now := time.Now()
	u.mu.Lock()
	defer u.mu.Unlock()
	for _, k := range u.keys {
		if now.Before(k.expires) {
			continue
		}
		b, _ := json.Marshal(map[string]any{"e": "listenKeyExpired", "E": now.UnixMilli(), "listenKey": k.key})
		for w := range u.conns {
			if w.key == k.key {
				w.sendUser(b)
			}
		}
		u.dropKey(k)
	}
}

// errSecondKey refuses a second listen key on a connection: its user data
// would share the connection's one key slot, so the first key's feed could
// neither be stopped by its DELETE or expiry nor freed on disconnect.
var errSecondKey = errors.New("one listen key per connection")

// attach puts the account of listen key key on w; false when key is no
// live listen key, errSecondKey when w already has another.
func (u *userStreams) attach(w *wsConn, key string) (bool, error) {
	u.mu.Lock()
	defer u.mu.Unlock()
	k := u.keys[key]
	if k == nil || time.Now().After(k.expires) {
		return false, nil
	}
	w.mu.Lock()
	had, closed := w.key, w.closed
	w.mu.Unlock()
	if closed { // detach has run or waits for u.mu: do not leave it a feed
		return true, errConnClosed
	}
	switch had {
	case key:
		return true, nil
	case "":
	default:
		return true, errSecondKey
	}
	f := u.feeds[k.account]
	if f == nil {
		var err error
		if f, err = u.startFeed(k.account); err != nil {
			u.s.log.Warn("binance: user stream", "account", k.account, "err", err)
			return false, nil
		}
		u.feeds[k.account] = f
	}
	w.mu.Lock()
	w.key = key
	w.mu.Unlock()
	u.conns[w] = f
	f.mu.Lock()
	f.conns[w] = struct{}{}
	f.mu.Unlock()
	return true, nil
}

func (u *userStreams) detach(w *wsConn) {
	u.mu.Lock()
	defer u.mu.Unlock()
	f := u.conns[w]
	if f == nil {
		return
	}
	delete(u.conns, w)
	f.mu.Lock()
	delete(f.conns, w)
	empty := len(f.conns) == 0
	f.mu.Unlock()
	if empty {
		f.close()
		delete(u.feeds, f.account)
	}
}

func (u *userStreams) close() {
	u.stop()
	u.mu.Lock()
	defer u.mu.Unlock()
	for a, f := range u.feeds {
		f.close()
		delete(u.feeds, a)
	}
}

// feed is one account's events, translated in order for its connections.
type feed struct {
	s       *Server
	account string
	sub     *nats.Subscription
	in      chan *nats.Msg
	quit    chan struct{}
	once    sync.Once

	mu    sync.Mutex
	conns map[*wsConn]struct{}
	// seen: orders already reported, with what was said of them last (a
	// later change is an AMENDMENT, a repeat nothing); fired: conditional
	// orders in the book, reported as plain orders too.
	seen  map[string]reported
	fired map[string]bool
}

// reported is what the feed last said of an order.
type reported struct {
	status wire.Status
	filled decimal.Decimal
}

func (u *userStreams) startFeed(account string) (*feed, error) {
	f := &feed{s: u.s, account: account, in: make(chan *nats.Msg, 8192), quit: make(chan struct{}),
		conns: map[*wsConn]struct{}{}, seen: map[string]reported{}, fired: map[string]bool{}}
	sub, err := u.s.nc.ChanSubscribe(u.s.subj.Events(account), f.in)
	if err != nil {
		return nil, err
	}
	f.sub = sub
	u.s.go_(f.run)
	return f, nil
}

func (f *feed) close() {
	f.once.Do(func() {
		_ = f.sub.Unsubscribe()
		close(f.quit)
	})
}

func (f *feed) broadcast(b []byte) {
	f.mu.Lock()
	defer f.mu.Unlock()
	for w := range f.conns {
		w.sendUser(b)
	}
}

// accountUpdate is one ACCOUNT_UPDATE owed after a batch of events.
type accountUpdate struct {
	sym    string
	reason string
	timeMs int64
}

func (f *feed) run() {
	for {
		var msgs []*nats.Msg
		select {
		case <-f.quit:
			return
		case <-f.s.ctx.Done():
			return
		case m := <-f.in:
			msgs = append(msgs, m)
		}
		// Take what is queued too: one state read per symbol for a burst of
		// fills (a sweep), not one per fill.
		for len(msgs) < 256 {
			select {
			case m := <-f.in:
				msgs = append(msgs, m)
				continue
			default:
			}
			break
		}
		var owed []accountUpdate
		for _, m := range msgs {
			var ev wire.AccountEvent
			if json.Unmarshal(m.Data, &ev) != nil {
				continue
			}
			owed = f.translate(&ev, owed)
		}
		for _, a := range owed {
			f.accountUpdate(a)
		}
	}
}

// translate sends what ev says now and adds the account updates it owes.
func (f *feed) translate(ev *wire.AccountEvent, owed []accountUpdate) []accountUpdate {
	owe := func(sym, reason string) []accountUpdate {
		for _, a := range owed {
			if a.sym == sym && a.reason == reason {
				return owed
			}
		}
		return append(owed, accountUpdate{sym: sym, reason: reason, timeMs: ev.TimeMs})
	}
	switch ev.Type {
	case wire.EventOrder:
		if ev.Order != nil {
			f.order(ev, nil)
		}
	case wire.EventFill:
		if ev.Fill != nil && ev.Order != nil {
			f.order(ev, ev.Fill)
			owed = owe(ev.Fill.Symbol, "ORDER")
		}
	case wire.EventFunding:
		if ev.Funding != nil {
			owed = owe(ev.Funding.Symbol, "FUNDING_FEE")
		}
	case wire.EventADL:
		if ev.ADL != nil {
			owed = owe(ev.ADL.Symbol, "ORDER")
		}
	case wire.EventLiquidation:
		if l := ev.Liquidation; l != nil {
			f.marginCall(ev.TimeMs, l)
			owed = owe(l.Symbol, "ORDER")
		}
	}
	return owed
}

// order sends an order's change (a fill when fl is not nil).
func (f *feed) order(ev *wire.AccountEvent, fl *wire.Fill) {
	o := ev.Order
	terminal := o.Status == wire.StatusFilled || o.Status == wire.StatusCanceled || o.Status == wire.StatusExpired ||
		o.Status == wire.StatusRejected
	if o.Type.Conditional() {
		b, _ := json.Marshal(map[string]any{"e": "ALGO_UPDATE", "E": ev.TimeMs, "T": ev.TimeMs, "o": f.algoFields(o)})
		f.broadcast(b)
		inBook := o.Status != wire.StatusUntriggered && o.Status != wire.StatusTriggered
		if !inBook || !f.fired[o.OrderID] && fl == nil && o.FilledQty.IsZero() && terminal {
			return // canceled, rejected or expired before it fired: the algo order's news only
		}
		f.fired[o.OrderID] = true
	}
	last, known := f.seen[o.OrderID]
	if fl == nil && known && last.status == o.Status && last.filled.Equal(o.FilledQty) {
		if terminal {
			f.forget(o.OrderID)
		}
		return // the order event after its fills: they said it all
	}
	if fl != nil && !known && o.FilledQty.Equal(fl.Qty) {
		// Binance announces an order before its first trade; perpx's
		// taker has no event before its fills.
		pre := *o
		pre.Status, pre.FilledQty, pre.AvgPrice = wire.StatusNew, decimal.Zero, decimal.Zero
		f.send(ev, &pre, nil, "NEW")
	}
	if terminal && fl == nil {
		f.forget(o.OrderID)
	} else {
		// A terminal trade's order event follows it: kept until then.
		f.seen[o.OrderID] = reported{o.Status, o.FilledQty}
	}
	exec := "NEW"
	switch {
	case fl != nil:
		exec = "TRADE"
	case o.Status == wire.StatusCanceled || o.Status == wire.StatusExpired:
		exec = "CANCELED"
		if s := bnOrderStatus(o); s != "CANCELED" {
			exec = "EXPIRED"
		}
	case o.Status == wire.StatusRejected:
		exec = "REJECTED"
	case known:
		exec = "AMENDMENT"
	}
	f.send(ev, o, fl, exec)
}

func (f *feed) forget(id string) {
	delete(f.seen, id)
	delete(f.fired, id)
}

// send sends ORDER_TRADE_UPDATE.
func (f *feed) send(ev *wire.AccountEvent, o *wire.Order, fl *wire.Fill, exec string) {
	t := ev.TimeMs
	if exec == "NEW" && o.CreatedMs > 0 {
		t = o.CreatedMs // ccxt's timestamp of the order; the event's may be a millisecond later
	}
	b, _ := json.Marshal(map[string]any{"e": "ORDER_TRADE_UPDATE", "E": ev.TimeMs, "T": ev.TimeMs,
		"o": f.orderFields(o, fl, exec, t)})
	f.broadcast(b)
}

// orderFields is ORDER_TRADE_UPDATE's "o".
func (f *feed) orderFields(o *wire.Order, fl *wire.Fill, exec string, t int64) map[string]any {
	b := f.s.toOrder(o)
	m := map[string]any{"s": b.Symbol, "c": b.ClientOrderID, "S": b.Side, "o": b.Type, "f": b.TimeInForce, "q": b.OrigQty,
		"p": b.Price, "ap": b.AvgPrice, "sp": b.StopPrice, "x": exec, "X": b.Status, "i": b.OrderID, "l": "0", "z": b.ExecutedQty,
		"L": "0", "N": f.s.settleOf(o.Symbol), "n": "0", "T": t, "t": 0, "b": "0", "a": "0", "m": false, "R": b.ReduceOnly,
		"wt": b.WorkingType, "ot": b.OrigType, "ps": "BOTH", "cp": b.ClosePosition, "pP": false, "si": 0, "ss": 0,
		"rp": "0", "V": b.STP, "pm": "NONE", "gtd": 0}
	if b.PriceRate != "" {
		m["AP"], m["cr"] = b.ActivatePrice, b.PriceRate
	}
	if fl != nil {
		m["l"], m["L"], m["n"], m["t"] = fl.Qty.String(), fl.Price.String(), fl.Fee.String(), fl.TradeSeq
		m["m"], m["rp"] = fl.Liquidity == wire.Maker, fl.RealizedPnL.String()
	}
	return m
}

// algoFields is ALGO_UPDATE's "o".
func (f *feed) algoFields(o *wire.Order) map[string]any {
	a := f.s.toAlgo(o)
	return map[string]any{"caid": a.ClientAlgoID, "aid": a.AlgoID, "at": a.AlgoType, "o": a.OrderType, "s": a.Symbol,
		"S": a.Side, "ps": "BOTH", "f": a.TimeInForce, "q": a.Quantity, "X": a.AlgoStatus, "ai": a.ActualOrderID,
		"ap": a.ActualPrice, "aq": a.ActualQty, "act": "0", "tp": a.TriggerPrice, "p": a.Price, "V": a.STP,
		"wt": a.WorkingType, "pm": "NONE", "cp": a.ClosePosition, "pP": false, "R": a.ReduceOnly, "tt": a.TriggerTime, "gtd": 0}
}

// accountUpdate reads the account (the symbol's position and the balance)
// and sends ACCOUNT_UPDATE.
func (f *feed) accountUpdate(a accountUpdate) {
	sym, ok := f.s.syms.byName[a.sym]
	if !ok {
		return
	}
	ctx, cancel := context.WithTimeout(f.s.ctx, f.s.timeout)
	defer cancel()
	st, e := f.s.state(ctx, f.account, sym)
	if e != nil {
		f.s.log.Warn("binance: ACCOUNT_UPDATE", "account", f.account, "err", e)
		return
	}
	t := f.s.sumAccount(st, sym.settle)
	pos := map[string]any{"s": sym.bn, "pa": "0", "ep": "0", "bep": "0", "cr": "0", "up": "0", "mt": "cross", "iw": "0", "ps": "BOTH"}
	for i := range st.Positions {
		p := &st.Positions[i]
		if p.Symbol == sym.name {
			_, wallet := isolated(p)
			pos["pa"], pos["ep"], pos["bep"] = positionAmt(p).String(), p.EntryPrice.String(), p.EntryPrice.String()
			pos["up"], pos["mt"], pos["iw"] = p.UnrealizedPnL.String(), string(p.MarginMode), wallet.String()
		}
	}
	b, _ := json.Marshal(map[string]any{"e": "ACCOUNT_UPDATE", "E": a.timeMs, "T": a.timeMs, "a": map[string]any{
		"m": a.reason, "B": []map[string]string{{"a": sym.settle, "wb": t.wallet.String(), "cw": t.cash.String(), "bc": "0"}},
		"P": []any{pos}}})
	f.broadcast(b)
}

// marginCall sends MARGIN_CALL for a position being taken over.
func (f *feed) marginCall(timeMs int64, l *wire.Liquidation) {
	sym, ok := f.s.syms.byName[l.Symbol]
	if !ok {
		return
	}
	amt := l.Qty
	if l.Side == wire.Short {
		amt = amt.Neg()
	}
	b, _ := json.Marshal(map[string]any{"e": "MARGIN_CALL", "E": timeMs, "cw": "0", "p": []map[string]string{{
		"s": sym.bn, "ps": "BOTH", "pa": amt.String(), "mt": "CROSSED", "iw": "0", "mp": l.MarkPrice.String(),
		"up": l.Qty.Mul(l.MarkPrice.Sub(l.LiquidationPrice)).Mul(sideSign(l.Side)).String(), "mm": "0"}}})
	f.broadcast(b)
}

func sideSign(s wire.PosSide) decimal.Decimal {
	if s == wire.Short {
		return decimal.NewFromInt(-1)
	}
	return decimal.NewFromInt(1)
}
