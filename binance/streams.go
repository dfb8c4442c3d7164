package binance

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/perpx/perpx/wire"
)

// The market streams. Each stream name a client subscribes to is one
// source, started by its first subscriber and stopped with its last: one
// NATS subscription (and a ticker for the timed ones) however many
// WebSocket clients follow it, each message encoded once and queued on
// every subscriber's connection.

type hub struct {
	s       *Server
	mu      sync.Mutex
	sources map[string]*source
}

type source struct {
	name  string
	mu    sync.RWMutex
	conns map[*wsConn]struct{}
	stop  func()
	// last is the latest message of a stream of states (bookTicker), sent
	// to a subscriber when it joins: it sends only changes.
	keep bool
	last []byte
}

func newHub(s *Server) *hub { return &hub{s: s, sources: map[string]*source{}} }

// publish queues data on every subscriber.
func (src *source) publish(data []byte) {
	if src.keep {
		src.mu.Lock()
		src.last = data
		src.mu.Unlock()
	}
	src.mu.RLock()
	defer src.mu.RUnlock()
	for w := range src.conns {
		w.send(src.name, data)
	}
}

// streamName is a parsed stream name: canonical is it with the symbol in
// lower case, as Binance's stream names are.
type streamName struct {
	canonical string
	sym       *symbol // nil for !markPrice@arr
	kind      string  // after the '@': depth@100ms, trade, kline_1m, ...
}

func (h *hub) parse(name string) (streamName, error) {
	symPart, kind, found := strings.Cut(name, "@")
	if !found {
		return streamName{}, fmt.Errorf("unknown stream %q", name)
	}
	if symPart == "!markPrice" {
		if kind != "arr" && kind != "arr@1s" {
			return streamName{}, fmt.Errorf("unknown stream %q", name)
		}
		return streamName{canonical: name, kind: "markPrice@" + kind}, nil
	}
	sym, ok := h.s.syms.lookup(symPart)
	if !ok {
		return streamName{}, fmt.Errorf("unknown symbol in stream %q", name)
	}
	switch {
	case kind == "depth", kind == "depth@100ms", kind == "depth@250ms", kind == "depth@500ms",
		kind == "trade", kind == "aggTrade", kind == "markPrice", kind == "markPrice@1s", kind == "bookTicker",
		kind == "ticker", kind == "miniTicker":
	case strings.HasPrefix(kind, "kline_") && slices.Contains(klineIntervals, strings.TrimPrefix(kind, "kline_")):
	default:
		return streamName{}, fmt.Errorf("unknown stream %q", name)
	}
	return streamName{canonical: sym.lower + "@" + kind, sym: sym, kind: kind}, nil
}

func (h *hub) subscribe(w *wsConn, name string) error {
	n, err := h.parse(name)
	if err != nil {
		return err
	}
	h.mu.Lock()
	defer h.mu.Unlock()
	// w's streams first, under h.mu: a close racing with this either comes
	// first (closed: nothing is added) or finds the stream in w.streams and
	// drops it from the source, which waits for h.mu, after this add.
	w.mu.Lock()
	closed := w.closed
	if !closed && !slices.Contains(w.streams, n.canonical) {
		w.streams = append(w.streams, n.canonical)
	}
	w.mu.Unlock()
	if closed {
		return errConnClosed
	}
	src := h.sources[n.canonical]
	if src == nil {
		src = &source{name: n.canonical, conns: map[*wsConn]struct{}{}}
		if src.stop, err = h.start(src, n); err != nil {
			w.mu.Lock()
			w.streams = slices.DeleteFunc(w.streams, func(s string) bool { return s == n.canonical })
			w.mu.Unlock()
			return err
		}
		h.sources[n.canonical] = src
	}
	src.mu.Lock()
	src.conns[w] = struct{}{}
	if src.last != nil {
		w.send(src.name, src.last)
	}
	src.mu.Unlock()
	return nil
}

var errConnClosed = errors.New("the connection is closed")

func (h *hub) unsubscribe(w *wsConn, name string) {
	n, err := h.parse(name)
	if err != nil {
		return
	}
	w.mu.Lock()
	w.streams = slices.DeleteFunc(w.streams, func(s string) bool { return s == n.canonical })
	w.mu.Unlock()
	h.drop(w, n.canonical)
}

func (h *hub) drop(w *wsConn, canonical string) {
	h.mu.Lock()
	defer h.mu.Unlock()
	src := h.sources[canonical]
	if src == nil {
		return
	}
	src.mu.Lock()
	delete(src.conns, w)
	empty := len(src.conns) == 0
	src.mu.Unlock()
	if empty {
		src.stop()
		delete(h.sources, canonical)
	}
}

func (h *hub) unsubscribeAll(w *wsConn) {
	w.mu.Lock()
	streams := w.streams
	w.streams = nil
	w.mu.Unlock()
	for _, s := range streams {
		h.drop(w, s)
	}
}

func (h *hub) close() {
	h.mu.Lock()
	defer h.mu.Unlock()
	for k, src := range h.sources {
		src.stop()
		delete(h.sources, k)
	}
}

// start begins feeding src; the returned function stops it.
func (h *hub) start(src *source, n streamName) (func(), error) {
	s := h.s
	sym := n.sym
	switch {
	case n.kind == "trade" || n.kind == "aggTrade":
		agg := n.kind == "aggTrade"
		return h.each(s.subj.Trades(sym.name), func(data []byte) {
			var t wire.Trade
			if json.Unmarshal(data, &t) != nil {
				return
			}
			var b []byte
			if agg {
				b = fmt.Appendf(nil, `{"e":"aggTrade","E":%d,"a":%d,"s":%q,"p":%q,"q":%q,"f":%d,"l":%d,"T":%d,"m":%t}`,
					t.TimeMs, t.Seq, sym.bn, t.Price.String(), t.Qty.String(), t.Seq, t.Seq, t.TimeMs, t.TakerSide == wire.Sell)
			} else {
				b = fmt.Appendf(nil, `{"e":"trade","E":%d,"T":%d,"s":%q,"t":%d,"p":%q,"q":%q,"X":"MARKET","m":%t}`,
					t.TimeMs, t.TimeMs, sym.bn, t.Seq, t.Price.String(), t.Qty.String(), t.TakerSide == wire.Sell)
			}
			src.publish(b)
		})
	case strings.HasPrefix(n.kind, "kline_"):
		iv := strings.TrimPrefix(n.kind, "kline_")
		return h.each(s.subj.Kline(sym.name, iv), func(data []byte) {
			var k wire.KlineUpdate
			if json.Unmarshal(data, &k) != nil {
				return
			}
			b, _ := json.Marshal(map[string]any{"e": "kline", "E": nowMs(), "s": sym.bn, "k": map[string]any{
				"t": k.OpenMs, "T": k.CloseMs, "s": sym.bn, "i": iv, "f": -1, "L": -1, "o": k.Open.String(),
				"c": k.Close.String(), "h": k.High.String(), "l": k.Low.String(), "v": k.Volume.String(), "n": k.Trades,
				"x": k.Closed, "q": k.QuoteVolume.String(), "V": "0", "Q": "0", "B": "0"}})
			src.publish(b)
		})
	case strings.HasPrefix(n.kind, "depth"):
		every := 250 * time.Millisecond
		if _, ms, ok := strings.Cut(n.kind, "@"); ok {
			d, _ := time.ParseDuration(ms)
			every = d
		}
		return h.depth(src, sym, every)
	case n.kind == "bookTicker":
		return h.bookTicker(src, sym)
	case n.kind == "ticker" || n.kind == "miniTicker":
		mini := n.kind == "miniTicker"
		return h.each(s.subj.TickerStream(sym.name), func(data []byte) {
			var t wire.TickerStats
			if json.Unmarshal(data, &t) != nil {
				return
			}
			src.publish(tickerEvent(sym, &t, mini))
		})
	case strings.HasPrefix(n.kind, "markPrice"):
		every := 3 * time.Second
		if strings.HasSuffix(n.kind, "@1s") {
			every = time.Second
		}
		return h.marks(src, sym, every)
	}
	return nil, fmt.Errorf("unknown stream %q", n.canonical)
}

// each subscribes f to subject.
func (h *hub) each(subject string, f func([]byte)) (func(), error) {
	sub, err := h.s.nc.Subscribe(subject, func(m *nats.Msg) { f(m.Data) })
	if err != nil {
		return nil, err
	}
	return func() { _ = sub.Unsubscribe() }, nil
}

// every calls f each period until the returned function is called.
func (h *hub) every(period time.Duration, f func()) func() {
	t := time.NewTicker(period)
	stop := loop(h, t.C, f)
	return func() { stop(); t.Stop() }
}

// loop calls f on each value of c until the returned function is called
// or the server stops.
func loop[T any](h *hub, c <-chan T, f func()) func() {
	quit := make(chan struct{})
	h.s.go_(func() {
		for {
			select {
			case <-quit:
				return
			case <-h.s.ctx.Done():
				return
			case <-c:
				f()
			}
		}
	})
	var once sync.Once
	return func() { once.Do(func() { close(quit) }) }
}

// depthAgg merges a symbol's book updates over one period: each price's
// last quantity, and the first and last sequence numbers merged.
type depthAgg struct {
	mu          sync.Mutex
	first, last uint64
	gap         bool // an update between first and last is missing
	bids, asks  map[string]wire.Level
}

func (a *depthAgg) add(data []byte) {
	var u wire.BookUpdate
	if json.Unmarshal(data, &u) != nil {
		return
	}
	a.mu.Lock()
	defer a.mu.Unlock()
	if a.first == 0 {
		a.first = u.Seq
	} else if u.Seq != a.last+1 {
		a.gap = true // lost on its way here (a slow consumer): the merge hides it
	}
	a.last = u.Seq
	for _, l := range u.Bids {
		a.bids[l.Price().String()] = l
	}
	for _, l := range u.Asks {
		a.asks[l.Price().String()] = l
	}
}

// flush is the depthUpdate of what was merged since the last flush (nil
// when nothing was); pu = U−1, so a missed update before it shows as a gap
// (pu is not the previous u), and pu = 0 when one inside it is missing.
func (a *depthAgg) flush(bn string) []byte {
	a.mu.Lock()
	first, last, gap, bids, asks := a.first, a.last, a.gap, a.bids, a.asks
	if first == 0 {
		a.mu.Unlock()
		return nil
	}
	a.first, a.last, a.gap, a.bids, a.asks = 0, 0, false, map[string]wire.Level{}, map[string]wire.Level{}
	a.mu.Unlock()
	pu := first - 1
	if gap {
		pu = 0 // no previous u is 0: the client re-syncs
	}
	now := nowMs()
	b, _ := json.Marshal(map[string]any{"e": "depthUpdate", "E": now, "T": now, "s": bn, "U": first, "u": last,
		"pu": pu, "b": sortedLevels(bids, true), "a": sortedLevels(asks, false)})
	return b
}

func sortedLevels(m map[string]wire.Level, desc bool) [][2]string {
	ls := make([]wire.Level, 0, len(m))
	for _, l := range m {
		ls = append(ls, l)
	}
	slices.SortFunc(ls, func(x, y wire.Level) int {
		if desc {
			return y.Price().Cmp(x.Price())
		}
		return x.Price().Cmp(y.Price())
	})
	return levels(ls)
}

func (h *hub) depth(src *source, sym *symbol, period time.Duration) (func(), error) {
	agg := &depthAgg{bids: map[string]wire.Level{}, asks: map[string]wire.Level{}}
	unsub, err := h.each(h.s.subj.Book(sym.name), agg.add)
	if err != nil {
		return nil, err
	}
	stop := h.every(period, func() {
		if b := agg.flush(sym.bn); b != nil {
			src.publish(b)
		}
	})
	return func() { unsub(); stop() }, nil
}

// marks sends the latest mark of sym (every symbol when nil) each period,
// as Binance's markPrice streams do whether or not it moved.
func (h *hub) marks(src *source, sym *symbol, period time.Duration) (func(), error) {
	var mu sync.Mutex
	latest := map[string]wire.MarkUpdate{}
	subject := h.s.subj.Mark(wire.Any)
	if sym != nil {
		subject = h.s.subj.Mark(sym.name)
	}
	unsub, err := h.each(subject, func(data []byte) {
		var m wire.MarkUpdate
		if json.Unmarshal(data, &m) == nil {
			mu.Lock()
			latest[m.Symbol] = m
			mu.Unlock()
		}
	})
	if err != nil {
		return nil, err
	}
	h.s.go_(func() { h.seedMarks(sym, &mu, latest) })
	stop := h.every(period, func() {
		mu.Lock()
		events := make([]map[string]any, 0, len(latest))
		for _, m := range latest {
			s, ok := h.s.syms.byName[m.Symbol]
			if !ok {
				continue
			}
			events = append(events, map[string]any{"e": "markPriceUpdate", "E": nowMs(), "s": s.bn, "p": m.Mark.String(),
				"ap": m.Mark.String(), "i": m.Index.String(), "P": m.Mark.String(), "r": m.FundingRate.String(), "T": m.NextFundingMs})
		}
		mu.Unlock()
		if len(events) == 0 {
			return
		}
		var b []byte
		if sym != nil {
			b, _ = json.Marshal(events[0])
		} else {
			slices.SortFunc(events, func(x, y map[string]any) int { return strings.Compare(x["s"].(string), y["s"].(string)) })
			b, _ = json.Marshal(events)
		}
		src.publish(b)
	})
	return func() { unsub(); stop() }, nil
}

// seedMarks fills latest from the tickers, so a stream has something to
// send before the next mark moves (a manual index may not move for long).
func (h *hub) seedMarks(sym *symbol, mu *sync.Mutex, latest map[string]wire.MarkUpdate) {
	list := h.s.syms.list
	if sym != nil {
		list = []*symbol{sym}
	}
	for _, s := range list {
		ctx, cancel := context.WithTimeout(h.s.ctx, h.s.timeout)
		var rep wire.TickerReply
		e := h.s.request(ctx, h.s.subj.Ticker(s.name), nil, &rep, ctxOther)
		cancel()
		if e != nil || rep.Ticker == nil {
			continue
		}
		t := rep.Ticker
		mu.Lock()
		if _, seen := latest[s.name]; !seen {
			latest[s.name] = wire.MarkUpdate{Symbol: s.name, Index: t.Index, Mark: t.Mark, FundingRate: t.FundingRate,
				NextFundingMs: t.NextFundingMs, TimeMs: t.TimeMs}
		}
		mu.Unlock()
	}
}

// localBook is a symbol's book rebuilt from the depth snapshot and the
// updates after it, for the best bid and ask of bookTicker.
type localBook struct {
	mu         sync.Mutex
	seq        uint64
	synced     bool
	pending    []wire.BookUpdate
	bids, asks map[string]wire.Level
	best       [4]string // bid, bid qty, ask, ask qty last sent
}

func (b *localBook) apply(u *wire.BookUpdate) {
	for _, l := range u.Bids {
		set(b.bids, l)
	}
	for _, l := range u.Asks {
		set(b.asks, l)
	}
	b.seq = u.Seq
}

func set(m map[string]wire.Level, l wire.Level) {
	if l.Qty().IsZero() {
		delete(m, l.Price().String())
	} else {
		m[l.Price().String()] = l
	}
}

// top is the best level of a side ("0","0" when empty).
func top(m map[string]wire.Level, highest bool) (string, string) {
	var best *wire.Level
	for _, l := range m {
		if best == nil || highest && l.Price().GreaterThan(best.Price()) || !highest && l.Price().LessThan(best.Price()) {
			best = &l
		}
	}
	if best == nil {
		return "0", "0"
	}
	return best.Price().String(), best.Qty().String()
}

func (h *hub) bookTicker(src *source, sym *symbol) (func(), error) {
	src.keep = true
	b := &localBook{}
	resync := make(chan struct{}, 1)
	resync <- struct{}{}
	unsub, err := h.each(h.s.subj.Book(sym.name), func(data []byte) {
		var u wire.BookUpdate
		if json.Unmarshal(data, &u) != nil {
			return
		}
		b.mu.Lock()
		defer b.mu.Unlock()
		switch {
		case !b.synced:
			b.pending = append(b.pending, u)
			return
		case u.Seq != b.seq+1: // missed an update: start again from a snapshot
			b.synced, b.pending = false, []wire.BookUpdate{u}
			select {
			case resync <- struct{}{}:
			default:
			}
			return
		}
		b.apply(&u)
		h.sendBest(src, sym, b)
	})
	if err != nil {
		return nil, err
	}
	stop := loop(h, resync, func() { h.snapshot(src, sym, b) })
	return func() { unsub(); stop() }, nil
}

// snapshot loads the book and applies the updates that came meanwhile.
func (h *hub) snapshot(src *source, sym *symbol, b *localBook) {
	ctx, cancel := context.WithTimeout(h.s.ctx, h.s.timeout)
	defer cancel()
	var rep wire.DepthReply
	if e := h.s.request(ctx, h.s.subj.Depth(sym.name), map[string]int{"levels": wire.MaxDepthLevels}, &rep, ctxOther); e != nil {
		h.s.log.Warn("binance: bookTicker snapshot", "symbol", sym.name, "err", e)
		return
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	b.bids, b.asks, b.seq = map[string]wire.Level{}, map[string]wire.Level{}, rep.Seq
	b.apply(&wire.BookUpdate{Seq: rep.Seq, Bids: rep.Bids, Asks: rep.Asks})
	for _, u := range b.pending {
		if u.Seq > b.seq {
			b.apply(&u)
		}
	}
	b.pending, b.synced = nil, true
	h.sendBest(src, sym, b)
}

// sendBest sends the best bid and ask when they changed (b.mu held).
func (h *hub) sendBest(src *source, sym *symbol, b *localBook) {
	var now [4]string
	now[0], now[1] = top(b.bids, true)
	now[2], now[3] = top(b.asks, false)
	if now == b.best {
		return
	}
	b.best = now
	t := nowMs()
	src.publish(fmt.Appendf(nil, `{"e":"bookTicker","u":%d,"s":%q,"b":%q,"B":%q,"a":%q,"A":%q,"T":%d,"E":%d}`,
		b.seq, sym.bn, now[0], now[1], now[2], now[3], t, t))
}

// tickerEvent is the 24-hour ticker stream's event (24hrTicker, or
// 24hrMiniTicker when mini) from perpx's ticker, sent once a second.
func tickerEvent(sym *symbol, t *wire.TickerStats, mini bool) []byte {
	ev := map[string]any{"e": "24hrMiniTicker", "E": t.TimeMs, "s": sym.bn, "c": t.Last.String(), "o": t.Open.String(),
		"h": t.High.String(), "l": t.Low.String(), "v": t.Volume.String(), "q": t.QuoteVolume.String()}
	if !mini {
		ev["e"], ev["p"], ev["P"], ev["w"], ev["Q"] = "24hrTicker", t.Change.String(), t.ChangePct.String(), weightedAvg(t).String(), "0"
		ev["O"], ev["C"], ev["F"], ev["L"], ev["n"] = t.TimeMs-24*3600*1000, t.TimeMs, -1, -1, t.Trades
	}
	b, _ := json.Marshal(ev)
	return b
}
