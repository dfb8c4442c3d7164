package binance

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strconv"
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
	sym       *symbol // nil for the all-market streams (!markPrice@arr, ...)
	kind      string  // after the '@': depth@100ms, trade, kline_1m, ...
	// levels and period of a depth stream: levels 0 is the diff stream.
	levels int
	period time.Duration
}

// allMarket are the streams of every served symbol, by name, and their
// kind (the same as the per-symbol stream's where the event is).
var allMarket = map[string]string{"!markPrice@arr": "markPrice", "!markPrice@arr@1s": "markPrice@1s",
	"!forceOrder@arr": "forceOrder", "!ticker@arr": "ticker", "!miniTicker@arr": "miniTicker"}

func (h *hub) parse(name string) (streamName, error) {
	if kind, ok := allMarket[name]; ok {
		return streamName{canonical: name, kind: kind}, nil
	}
	symPart, kind, found := strings.Cut(name, "@")
	if !found {
		return streamName{}, fmt.Errorf("unknown stream %q", name)
	}
	sym, ok := h.s.syms.lookup(symPart)
	if !ok {
		return streamName{}, fmt.Errorf("unknown symbol in stream %q", name)
	}
	n := streamName{canonical: sym.lower + "@" + kind, sym: sym, kind: kind}
	switch {
	case kind == "trade", kind == "aggTrade", kind == "markPrice", kind == "markPrice@1s", kind == "bookTicker",
		kind == "ticker", kind == "miniTicker", kind == "forceOrder":
	case strings.HasPrefix(kind, "kline_") && slices.Contains(klineIntervals, strings.TrimPrefix(kind, "kline_")):
	case strings.HasPrefix(kind, "depth"):
		if n.levels, n.period, ok = depthKind(kind); !ok {
			return streamName{}, fmt.Errorf("unknown stream %q", name)
		}
	default:
		return streamName{}, fmt.Errorf("unknown stream %q", name)
	}
	return n, nil
}

// depthKind parses Binance's depth stream kinds: depth[@100ms|@250ms|@500ms]
// (the diff stream, levels 0) and depth<5|10|20>[@100ms|@500ms] (the top
// levels); the period is 250 ms unless named.
func depthKind(kind string) (levels int, period time.Duration, ok bool) {
	base, speed, timed := strings.Cut(kind, "@")
	period = 250 * time.Millisecond
	if timed {
		switch speed {
		case "100ms", "500ms":
			period, _ = time.ParseDuration(speed)
		case "250ms":
			if base != "depth" { // Binance names no partial depth@250ms
				return 0, 0, false
			}
		default:
			return 0, 0, false
		}
	}
	switch base {
	case "depth":
		return 0, period, true
	case "depth5", "depth10", "depth20":
		levels, _ = strconv.Atoi(strings.TrimPrefix(base, "depth"))
		return levels, period, true
	}
	return 0, 0, false
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
	closed, full := w.closed, false
	if !closed && !slices.Contains(w.streams, n.canonical) {
		if full = len(w.streams) >= maxStreams; !full {
			w.streams = append(w.streams, n.canonical)
		}
	}
	w.mu.Unlock()
	switch {
	case closed:
		return errConnClosed
	case full:
		return errTooManyStreams
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

// maxStreams is Binance's most streams on one connection: every stream a
// connection follows costs a place in its source and in its own list.
const maxStreams = 1024

var errTooManyStreams = fmt.Errorf("at most %d streams on one connection", maxStreams)

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
	case n.levels > 0:
		return h.partialDepth(src, sym, n.levels, n.period)
	case strings.HasPrefix(n.kind, "depth"):
		return h.depth(src, sym, n.period)
	case n.kind == "bookTicker":
		return h.bookTicker(src, sym)
	case n.kind == "ticker" || n.kind == "miniTicker":
		mini := n.kind == "miniTicker"
		if sym == nil { // !ticker@arr: the symbols that ticked in the last second
			return newLatest[wire.TickerStats]().follow(h, src, s.subj.TickerStream(wire.Any), time.Second, false, false,
				func(t *wire.TickerStats) string { return t.Symbol },
				func(s *symbol, t *wire.TickerStats) []byte { return tickerEvent(s, t, mini) })
		}
		return h.each(s.subj.TickerStream(sym.name), func(data []byte) {
			var t wire.TickerStats
			if json.Unmarshal(data, &t) != nil {
				return
			}
			src.publish(tickerEvent(sym, &t, mini))
		})
	case n.kind == "forceOrder":
		subject := s.subj.Liquidations(wire.Any)
		if sym != nil {
			subject = s.subj.Liquidations(sym.name)
		}
		return h.each(subject, func(data []byte) {
			var l wire.LiquidationNotice
			if json.Unmarshal(data, &l) != nil {
				return
			}
			if ls, ok := s.syms.byName[l.Symbol]; ok { // not an unserved (inverse) symbol's
				src.publish(forceOrderEvent(ls, &l))
			}
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
	subject := h.s.subj.Mark(wire.Any)
	if sym != nil {
		subject = h.s.subj.Mark(sym.name)
	}
	l := newLatest[wire.MarkUpdate]()
	stop, err := l.follow(h, src, subject, period, true, sym != nil, func(m *wire.MarkUpdate) string { return m.Symbol },
		func(s *symbol, m *wire.MarkUpdate) []byte {
			b, _ := json.Marshal(map[string]any{"e": "markPriceUpdate", "E": nowMs(), "s": s.bn, "p": m.Mark.String(),
				"ap": m.Mark.String(), "i": m.Index.String(), "P": m.Mark.String(), "r": m.FundingRate.String(), "T": m.NextFundingMs})
			return b
		})
	if err != nil {
		return nil, err
	}
	h.s.go_(func() { h.seedMarks(sym, l) })
	return stop, nil
}

// seedMarks fills l from the tickers, so a stream has something to send
// before the next mark moves (a manual index may not move for long).
func (h *hub) seedMarks(sym *symbol, l *latest[wire.MarkUpdate]) {
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
		l.seed(s.name, wire.MarkUpdate{Symbol: s.name, Index: t.Index, Mark: t.Mark, FundingRate: t.FundingRate,
			NextFundingMs: t.NextFundingMs, TimeMs: t.TimeMs})
	}
}

// latest keeps the newest message of each served symbol of a stream, for
// the streams sent once a period (markPrice, !ticker@arr).
type latest[T any] struct {
	mu    sync.Mutex
	vals  map[string]T    // by the exchange's symbol name
	fresh map[string]bool // came since the last period
}

func newLatest[T any]() *latest[T] { return &latest[T]{vals: map[string]T{}, fresh: map[string]bool{}} }

// follow feeds l from subject (a wildcard for every symbol) and publishes,
// each period, the event of every symbol it holds (all; as markPrice,
// whether or not it moved) or of those that came since the last period
// (else; as !ticker@arr): one event alone when single, else an array by
// symbol.
func (l *latest[T]) follow(h *hub, src *source, subject string, period time.Duration, all, single bool,
	symOf func(*T) string, event func(*symbol, *T) []byte) (func(), error) {
	unsub, err := h.each(subject, func(data []byte) {
		var v T
		if json.Unmarshal(data, &v) != nil {
			return
		}
		l.mu.Lock()
		l.vals[symOf(&v)], l.fresh[symOf(&v)] = v, true
		l.mu.Unlock()
	})
	if err != nil {
		return nil, err
	}
	stop := h.every(period, func() {
		l.mu.Lock()
		var events [][]byte
		for _, s := range h.s.syms.list { // served symbols only, in a fixed order
			if v, ok := l.vals[s.name]; ok && (all || l.fresh[s.name]) {
				events = append(events, event(s, &v))
			}
		}
		clear(l.fresh)
		l.mu.Unlock()
		switch {
		case len(events) == 0:
		case single:
			src.publish(events[0])
		default:
			src.publish(append(append([]byte{'['}, bytes.Join(events, []byte{','})...), ']'))
		}
	})
	return func() { unsub(); stop() }, nil
}

// seed sets sym's value unless one came already.
func (l *latest[T]) seed(sym string, v T) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if _, seen := l.vals[sym]; !seen {
		l.vals[sym] = v
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
	return h.followBook(sym, b, func() { h.sendBest(src, sym, b) })
}

// followBook keeps b as sym's book, from a depth snapshot and the updates
// after it (again from a snapshot after a missed update), and calls
// changed (b.mu held) after each change.
func (h *hub) followBook(sym *symbol, b *localBook, changed func()) (func(), error) {
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
		changed()
	})
	if err != nil {
		return nil, err
	}
	stop := loop(h, resync, func() {
		if !h.snapshot(sym, b, changed) { // again in a second, else the stream never syncs
			time.AfterFunc(time.Second, func() {
				select {
				case resync <- struct{}{}:
				default:
				}
			})
		}
	})
	return func() { unsub(); stop() }, nil
}

// snapshot loads the book and applies the updates that came meanwhile;
// false when the exchange did not answer.
func (h *hub) snapshot(sym *symbol, b *localBook, changed func()) bool {
	ctx, cancel := context.WithTimeout(h.s.ctx, h.s.timeout)
	defer cancel()
	var rep wire.DepthReply
	if e := h.s.request(ctx, h.s.subj.Depth(sym.name), map[string]int{"levels": wire.MaxDepthLevels}, &rep, ctxOther); e != nil {
		h.s.log.Warn("binance: book snapshot", "symbol", sym.name, "err", e)
		return false
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
	changed()
	return true
}

// partialDepth sends sym's top levels each period in which the book
// changed (and the current ones on subscribing), as Binance's
// <symbol>@depth<levels>: a depthUpdate whose u is the book's seq, U the
// first seq after the previous event's u and pu that u.
func (h *hub) partialDepth(src *source, sym *symbol, levels int, period time.Duration) (func(), error) {
	src.keep = true
	b := &localBook{}
	unfollow, err := h.followBook(sym, b, func() {})
	if err != nil {
		return nil, err
	}
	var sent uint64 // the u of the last event
	started := false
	stop := h.every(period, func() {
		b.mu.Lock()
		// The first event whatever the seq: a book that never changed
		// (seq 0) still has its (empty) top levels to show.
		if !b.synced || started && b.seq == sent {
			b.mu.Unlock()
			return
		}
		first := sent + 1
		if !started {
			first = b.seq
		}
		started = true
		bids, asks := sortedLevels(b.bids, true), sortedLevels(b.asks, false)
		pu, u := sent, b.seq
		sent = u
		b.mu.Unlock()
		now := nowMs()
		ev, _ := json.Marshal(map[string]any{"e": "depthUpdate", "E": now, "T": now, "s": sym.bn, "U": first, "u": u, "pu": pu,
			"b": bids[:min(levels, len(bids))], "a": asks[:min(levels, len(asks))]})
		src.publish(ev)
	})
	return func() { unfollow(); stop() }, nil
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

// forceOrderEvent is Binance's liquidation order event for a position
// perpx took over (or reduced: kind partial): the order that closes it
// (a long's is a SELL) of the quantity taken, at the bankruptcy price, the
// price the position leaves the account at (perpx's notice is the takeover,
// not the book trades the liquidation engine makes after it).
func forceOrderEvent(sym *symbol, l *wire.LiquidationNotice) []byte {
	side := "SELL"
	if l.Side == wire.Short {
		side = "BUY"
	}
	q, p := l.Qty.String(), l.BankruptcyPrice.String()
	return fmt.Appendf(nil, `{"e":"forceOrder","E":%d,"o":{"s":%q,"S":%q,"o":"LIMIT","f":"IOC","q":%q,"p":%q,"ap":%q,"X":"FILLED","l":%q,"z":%q,"T":%d}}`,
		l.TimeMs, sym.bn, side, q, p, p, q, q, l.TimeMs)
}
