package binance

import (
	"errors"
	"testing"
)

// TestMaxStreams: a connection follows at most maxStreams streams, as
// Binance's: a SUBSCRIBE past it is refused whole, and one more stream
// by any way (a URL's names go one by one) is refused.
func TestMaxStreams(t *testing.T) {
	s := fuzzServer(t, 40, true)
	kinds := []string{"trade", "aggTrade", "markPrice", "markPrice@1s", "bookTicker", "ticker", "miniTicker", "forceOrder",
		"depth", "depth@100ms", "depth@500ms", "depth5", "depth10@100ms", "depth20@500ms"}
	for _, iv := range klineIntervals {
		kinds = append(kinds, "kline_"+iv)
	}
	var names []string
	for _, sym := range s.syms.list {
		for _, k := range kinds {
			names = append(names, sym.lower+"@"+k)
		}
	}
	if len(names) <= maxStreams {
		t.Fatalf("only %d stream names", len(names))
	}
	w := &wsConn{s: s, out: make(chan []byte, sendQueue), done: make(chan struct{})}
	defer s.hub.unsubscribeAll(w)
	if err := w.subscribeAll(names[:maxStreams+1]); !errors.Is(err, errTooManyStreams) || len(w.streams) != 0 {
		t.Fatalf("%d streams at once: %v, %d subscribed", maxStreams+1, err, len(w.streams))
	}
	if err := w.subscribeAll(append(names[:maxStreams:maxStreams], names[0])); err != nil || len(w.streams) != maxStreams {
		t.Fatalf("%d streams: %v, %d subscribed", maxStreams, err, len(w.streams))
	}
	if err := s.hub.subscribe(w, names[maxStreams]); !errors.Is(err, errTooManyStreams) || len(w.streams) != maxStreams {
		t.Fatalf("one more: %v, %d subscribed", err, len(w.streams))
	}
	if err := s.hub.subscribe(w, names[0]); err != nil {
		t.Fatalf("a stream it follows again: %v", err)
	}
	s.hub.unsubscribeAll(w)
	if n := len(s.hub.sources); n != 0 {
		t.Fatalf("%d sources after the connection went", n)
	}
}
