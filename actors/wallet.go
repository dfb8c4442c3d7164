package actors

import (
	"encoding/binary"

	"github.com/perpx/perpx/market"
	"github.com/perpx/perpx/risk"
)

// wallet is an account's money in one settlement asset (BitMEX-style
// wallets: a USDT-settled and a BTC-settled symbol never share margin): the
// risk.Account that trades every symbol settled in it, and its shares of
// the ledgers the audit sums per asset.
type wallet struct {
	acct     *risk.Account
	deposits market.Money // Σ deposits − withdrawals
	fees     market.Money // Σ trading and liquidation fees paid (the fees ledger's share)
	funding  market.Money // Σ funding received (+) or paid (−)
	// held is money that reached the account after it failed (a
	// socialized-loss refund, failure.go): its frozen risk state cannot
	// take it, so it is kept here, the audit's, until a restart replays it.
	held market.Money
}

// risk is the risk.Account of h's wallet.
func (a *accountActor) risk(h *symbolHandle) *risk.Account { return a.wallets[h.asset].acct }

// wallet is h's wallet.
func (a *accountActor) wallet(h *symbolHandle) *wallet { return &a.wallets[h.asset] }

// newWallets returns one empty wallet per asset of the exchange.
func newWallets(x *Exchange, e *accountEntry) []wallet {
	ws := make([]wallet, len(x.assets))
	for i := range ws {
		ws[i].acct = risk.NewAccount(e.id, x.mode)
	}
	return ws
}

// appendSnapshot writes the wallet: its risk.Account and ledgers.
func (w *wallet) appendSnapshot(p []byte) []byte {
	p = w.acct.AppendSnapshot(p)
	p = binary.AppendVarint(p, int64(w.deposits))
	p = binary.AppendVarint(p, int64(w.fees))
	return binary.AppendVarint(p, int64(w.funding))
}

// loadWallet reads what appendSnapshot wrote into wallet i.
func (a *accountActor) loadWallet(d *payload, i int) {
	w := &a.wallets[i]
	w.acct = core(d, func(p []byte) (*risk.Account, []byte, error) {
		return risk.DecodeAccountSnapshot(p, func(name string) *market.Symbol {
			if h := a.x.symbol(name); h != nil && h.asset == i {
				return h.sym
			}
			return nil
		})
	})
	w.deposits, w.fees, w.funding = market.Money(d.varint()), market.Money(d.varint()), market.Money(d.varint())
}
