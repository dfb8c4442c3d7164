package app

import (
	"context"
	"time"

	"github.com/perpx/perpx/gateway"
	"github.com/perpx/perpx/wire"
)

// tickers publishes every symbol's ticker once a second on
// <prefix>.md.<sym>.ticker.1s, for the symbols somebody follows: a reader
// of the exchange like any client (the ticker request), so nothing of it
// is state.
func (a *App) tickers(ctx context.Context, pub *gateway.Publisher) {
	t := time.NewTicker(time.Second)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		for _, s := range a.symbols {
			if !pub.WantsTicker(s.Name) {
				continue
			}
			a.x.Ticker(s.Name, func(r wire.TickerReply) {
				if r.OK && r.Ticker != nil {
					pub.Ticker(r.Ticker.Symbol, r.Ticker)
				}
			})
		}
	}
}
