package actors

import (
	"encoding/binary"

	"github.com/perpx/perpx/internal/ring"
	"github.com/perpx/perpx/market"
	"github.com/perpx/perpx/wire"
)

// An account keeps the latest movements of its balances, one income row
// per movement (Binance's income history), so that the rows of an asset
// add up to its balance's change: every place a wallet's balance moves
// records one (keepIncome). Like the fills they are rebuilt by replay (the
// record's time, a.x.clock) and ride in the snapshot.

// incomeKind is what moved the balance; its wire type and info are
// incomeKinds'.
type incomeKind uint8

const (
	incomeDeposit incomeKind = iota
	incomeWithdrawal
	incomeFillPnL
	incomeFee
	incomeFunding
	incomeLiquidation
	incomeInsurance
	incomeSocialized
	incomeADLPnL
	nIncomeKinds
)

var incomeKinds = [nIncomeKinds]struct {
	typ  wire.IncomeType
	info string
}{
	incomeDeposit:     {wire.IncomeTransfer, "deposit"},
	incomeWithdrawal:  {wire.IncomeTransfer, "withdrawal"},
	incomeFillPnL:     {wire.IncomeRealizedPnL, ""},
	incomeFee:         {wire.IncomeFee, ""},
	incomeFunding:     {wire.IncomeFunding, ""},
	incomeLiquidation: {wire.IncomeLiquidation, ""},
	incomeInsurance:   {wire.IncomeInsurance, ""},
	incomeSocialized:  {wire.IncomeSocializedLoss, ""},
	incomeADLPnL:      {wire.IncomeRealizedPnL, "adl"},
}

// incomeRec is one income row; its id is its place in the account's count.
type incomeRec struct {
	sym      uint32 // Exchange.symbols index + 1; 0: no symbol (a transfer)
	asset    uint8
	kind     incomeKind
	amount   market.Money
	tradeSeq uint64
	ms       int64
}

// keepIncome records that the balance of h's wallet (or of asset, without
// h) moved by amount; nothing when it did not.
func (a *accountActor) keepIncome(h *symbolHandle, asset int, kind incomeKind, amount market.Money, tradeSeq uint64, ms int64) {
	if amount == 0 {
		return
	}
	if h != nil {
		asset = h.asset
	}
	if a.income.Cap() == 0 {
		a.income = ring.New[incomeRec](a.x.keep.AccountIncome)
	}
	if n := a.income.Len(); n > 0 {
		ms = max(ms, a.income.At(n-1).ms) // see monotonic
	}
	a.incomeID++
	sym := uint32(0)
	if h != nil {
		sym = uint32(h.idx) + 1
	}
	a.income.Push(incomeRec{sym: sym, asset: uint8(asset), kind: kind, amount: amount, tradeSeq: tradeSeq, ms: ms})
}

// keepTrade records what a fill or an ADL close did to the balance: its
// realized PnL (as kind), fee and the fund's cover of a loss beyond it.
func (a *accountActor) keepTrade(h *symbolHandle, kind incomeKind, realized, fee, deficit market.Money, tradeSeq uint64, ms int64) {
	a.keepIncome(h, 0, kind, realized, tradeSeq, ms)
	a.keepIncome(h, 0, incomeFee, -fee, tradeSeq, ms)
	a.keepIncome(h, 0, incomeInsurance, deficit, tradeSeq, ms)
}

// Income answers acct's kept income rows.
func (x *Exchange) Income(acct string, req wire.IncomeQuery, done func(wire.IncomeReply)) {
	x.askHistory(acct, req.Symbol, &historyReq{income: &req, doneI: durably(x, done)}) // durably as AccountState
}

func (a *accountActor) incomeReply(m *historyReq) {
	r := m.income
	first := a.incomeID - uint64(a.income.Len()) + 1
	out := pageRing(&a.income, &r.Fills, func(i int, v *incomeRec) (wire.Income, bool) {
		k := incomeKinds[v.kind]
		if (m.h != nil && int(v.sym) != m.h.idx+1) || (r.Type != "" && k.typ != r.Type) || !inWindow(&r.Fills, v.ms) {
			return wire.Income{}, false
		}
		row := wire.Income{ID: first + uint64(i), Type: k.typ, Asset: a.x.assets[v.asset], Amount: v.amount.Decimal(),
			TimeMs: v.ms, TradeSeq: v.tradeSeq, Info: k.info}
		if v.sym != 0 {
			row.Symbol = a.x.symbols[v.sym-1].sym.Name
		}
		return row, true
	})
	m.doneI(wire.IncomeReply{Reply: wire.OK(), Income: out})
}

// appendIncome writes the snapshot's income section of the account: the
// newest row's id, then the kept rows, oldest first.
func (a *accountActor) appendIncome(p []byte) []byte {
	p = binary.AppendUvarint(p, a.incomeID)
	p = binary.AppendUvarint(p, uint64(a.income.Len()))
	for i := range a.income.Len() {
		v := a.income.At(i)
		p = binary.AppendUvarint(p, uint64(v.sym))
		p = append(p, v.asset, byte(v.kind))
		p = binary.AppendVarint(p, int64(v.amount))
		p = binary.AppendUvarint(p, v.tradeSeq)
		p = binary.AppendVarint(p, v.ms)
	}
	return p
}

// loadIncome reads what appendIncome wrote.
func (a *accountActor) loadIncome(d *payload) {
	id, n := d.uvarint(), d.uvarint()
	if n > uint64(len(d.p)) || n > id {
		d.fail("income")
		return
	}
	a.incomeID = id - n
	for range n {
		h := d.sym(a.x, true)
		v := incomeRec{asset: d.byte(), kind: incomeKind(d.byte())}
		v.amount, v.tradeSeq, v.ms = market.Money(d.varint()), d.uvarint(), d.varint()
		if d.err != nil {
			return
		}
		if v.kind >= nIncomeKinds || int(v.asset) >= len(a.x.assets) || (h != nil && h.asset != int(v.asset)) {
			d.fail("income row")
			return
		}
		a.keepIncome(h, int(v.asset), v.kind, v.amount, v.tradeSeq, v.ms)
	}
}

// incomeHash digests the kept income rows (historyHash).
func (a *accountActor) incomeHash(v []uint64) []uint64 {
	v = append(v, a.incomeID)
	for i := range a.income.Len() {
		r := a.income.At(i)
		v = append(v, uint64(r.kind)<<8|uint64(r.asset), uint64(r.amount), r.tradeSeq, uint64(r.ms))
	}
	return v
}
