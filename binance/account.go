package binance

import (
	"slices"
	"strings"

	"github.com/perpx/perpx/wire"
	"github.com/shopspring/decimal"
)

// The account endpoints: the account's state as Binance's account, balance
// and positionRisk shapes, and its settings (leverage, margin type,
// isolated margin).

// totals sums an account's wallet in one settlement asset and the
// positions it margins, the way Binance's account reports.
type totals struct {
	asset                                 string
	wallet, equity, available             decimal.Decimal
	unrealized, maint, posIM              decimal.Decimal
	isolatedWallet, crossUnrealized, cash decimal.Decimal
}

// wallet is the account's wallet in asset: its entry of Wallets on an
// exchange of several settlement assets (where the top-level equity and
// available are the exchange's primary asset's, maybe not this one), else
// the top-level fields, the only asset's.
func wallet(a *wire.Account, asset string) wire.Wallet {
	if len(a.Wallets) > 0 {
		return a.Wallets[asset]
	}
	return wire.Wallet{Balance: a.Balances[asset], Equity: a.Equity, Available: a.Available}
}

// heldPosition is an open position in a served symbol.
type heldPosition struct {
	*wire.Position
	sym *symbol
}

// positions are the account's positions in served symbols (of asset when
// not ""): an inverse symbol's, or one the face does not know, is not
// Binance's to show.
func (s *Server) positions(a *wire.Account, asset string) []heldPosition {
	out := make([]heldPosition, 0, len(a.Positions))
	for i := range a.Positions {
		sym := s.syms.byName[a.Positions[i].Symbol]
		if sym != nil && (asset == "" || sym.settle == asset) {
			out = append(out, heldPosition{&a.Positions[i], sym})
		}
	}
	return out
}

// flat is a zero position for every served symbol a has none in, with the
// margin mode and leverage it set there (v2 positionRisk lists every
// symbol, as Binance does: a bot reads back a flat symbol's leverage).
func (s *Server) flat(a *wire.Account) []heldPosition {
	var out []heldPosition
	for _, st := range a.Settings {
		sym := s.syms.byName[st.Symbol]
		if sym == nil || slices.ContainsFunc(a.Positions, func(p wire.Position) bool { return p.Symbol == st.Symbol }) {
			continue
		}
		out = append(out, heldPosition{&wire.Position{Symbol: st.Symbol, MarginMode: st.MarginMode, Leverage: st.Leverage}, sym})
	}
	return out
}

func (s *Server) sumAccount(a *wire.Account, asset string) totals {
	w := wallet(a, asset)
	t := totals{asset: asset, wallet: w.Balance, equity: w.Equity, available: w.Available}
	for _, p := range s.positions(a, asset) {
		t.unrealized = t.unrealized.Add(p.UnrealizedPnL)
		t.maint = t.maint.Add(p.MaintenanceMargin)
		t.posIM = t.posIM.Add(initialMargin(p.Position))
		if p.MarginMode == wire.MarginIsolated {
			t.isolatedWallet = t.isolatedWallet.Add(p.Margin)
		} else {
			t.crossUnrealized = t.crossUnrealized.Add(p.UnrealizedPnL)
		}
	}
	t.cash = t.wallet.Sub(t.isolatedWallet)
	return t
}

// im is the wallet's initial margin: what is not available of its equity;
// orderIM the part of it that is the open orders'.
func (t *totals) im() decimal.Decimal { return t.equity.Sub(t.available) }

func (t *totals) orderIM() decimal.Decimal { return decimal.Max(decimal.Zero, t.im().Sub(t.posIM)) }

// notional is the position's signed value at the mark.
func notional(p *wire.Position) decimal.Decimal {
	n := p.Qty.Mul(p.MarkPrice)
	if p.Side == wire.Short {
		return n.Neg()
	}
	return n
}

// initialMargin is the position's value at the mark over its leverage.
func initialMargin(p *wire.Position) decimal.Decimal {
	if p.Leverage.IsZero() {
		return p.Margin
	}
	return p.Qty.Mul(p.MarkPrice).DivRound(p.Leverage, 8)
}

func positionAmt(p *wire.Position) decimal.Decimal {
	if p.Side == wire.Short {
		return p.Qty.Neg()
	}
	return p.Qty
}

// isolated is what Binance calls a position's isolatedMargin (its wallet
// plus its unrealized PnL) and isolatedWallet; both 0 for a cross one.
func isolated(p *wire.Position) (margin, wallet decimal.Decimal) {
	if p.MarginMode != wire.MarginIsolated {
		return decimal.Zero, decimal.Zero
	}
	return p.Margin.Add(p.UnrealizedPnL), p.Margin
}

// assets are the settlement assets of the served symbols, the first
// symbol's first (Binance's top-level totals are its).
func (s *Server) assets() []string {
	var out []string
	for _, sym := range s.syms.list {
		if !slices.Contains(out, sym.settle) {
			out = append(out, sym.settle)
		}
	}
	if len(out) == 0 {
		out = append(out, wire.DefaultAsset)
	}
	return out
}

// account is GET /fapi/v2/account and /fapi/v3/account: one asset row per
// settlement asset of the served symbols, the totals of the first (as
// Binance's single-asset mode reports USDT's). Equity is the margin
// balance, available the available balance; what is neither available nor
// the positions' initial margin is the open orders'.
func (c *call) accountInfo(version int) (any, *apiError) {
	a, e := c.state(nil)
	if e != nil {
		return nil, e
	}
	now := nowMs()
	var rows []any
	var top totals
	for i, asset := range c.s.assets() {
		t := c.s.sumAccount(a, asset)
		if i == 0 {
			top = t
		}
		rows = append(rows, map[string]any{"asset": asset, "walletBalance": t.wallet.String(), "unrealizedProfit": t.unrealized.String(),
			"marginBalance": t.equity.String(), "maintMargin": t.maint.String(), "initialMargin": t.im().String(),
			"positionInitialMargin": t.posIM.String(), "openOrderInitialMargin": t.orderIM().String(),
			"crossWalletBalance": t.cash.String(), "crossUnPnl": t.crossUnrealized.String(),
			"availableBalance": t.available.String(), "maxWithdrawAmount": t.available.String(), "updateTime": now})
	}
	held := c.s.positions(a, "")
	if version == 2 { // v2 lists every symbol, flat ones too, as Binance does
		held = append(held, c.s.flat(a)...)
	}
	positions := make([]map[string]any, 0, len(held))
	for _, p := range held {
		im, wallet := isolated(p.Position)
		row := map[string]any{"symbol": p.sym.bn, "positionSide": "BOTH", "positionAmt": positionAmt(p.Position).String(),
			"unrealizedProfit": p.UnrealizedPnL.String(), "isolatedMargin": im.String(), "notional": notional(p.Position).String(),
			"isolatedWallet": wallet.String(), "initialMargin": initialMargin(p.Position).String(),
			"maintMargin": p.MaintenanceMargin.String(), "updateTime": now}
		if version == 2 {
			row["leverage"] = p.Leverage.String()
			row["entryPrice"] = p.EntryPrice.String()
			row["isolated"] = p.MarginMode == wire.MarginIsolated
			row["positionInitialMargin"] = initialMargin(p.Position).String()
			row["openOrderInitialMargin"] = "0"
		}
		positions = append(positions, row)
	}
	out := map[string]any{"totalInitialMargin": top.im().String(), "totalMaintMargin": top.maint.String(),
		"totalWalletBalance": top.wallet.String(), "totalUnrealizedProfit": top.unrealized.String(),
		"totalMarginBalance": top.equity.String(), "totalPositionInitialMargin": top.posIM.String(),
		"totalOpenOrderInitialMargin": top.orderIM().String(), "totalCrossWalletBalance": top.cash.String(),
		"totalCrossUnPnl": top.crossUnrealized.String(), "availableBalance": top.available.String(),
		"maxWithdrawAmount": top.available.String(), "assets": rows, "positions": positions}
	if version == 2 {
		out["feeTier"] = 0
		out["canTrade"], out["canDeposit"], out["canWithdraw"] = true, true, true
		out["updateTime"] = now
		out["multiAssetsMargin"] = false
	}
	return out, nil
}

// balance is GET /fapi/v2/balance and /fapi/v3/balance: one row per
// settlement asset of the served symbols.
func (c *call) balance() (any, *apiError) {
	a, e := c.state(nil)
	if e != nil {
		return nil, e
	}
	var out []map[string]any
	for _, asset := range c.s.assets() {
		t := c.s.sumAccount(a, asset)
		out = append(out, map[string]any{"accountAlias": c.account, "asset": asset, "balance": t.wallet.String(),
			"crossWalletBalance": t.cash.String(), "crossUnPnl": t.crossUnrealized.String(),
			"availableBalance": t.available.String(), "maxWithdrawAmount": t.available.String(),
			"marginAvailable": true, "updateTime": nowMs()})
	}
	return out, nil
}

// symbolState is the symbol a request may name and the account's state
// (of that symbol when named).
func (c *call) symbolState() (*symbol, *wire.Account, *apiError) {
	sym, e := c.symbol(false)
	if e != nil {
		return nil, nil, e
	}
	a, e := c.state(sym)
	return sym, a, e
}

// positionRisk is GET /fapi/v2/positionRisk and /fapi/v3/positionRisk: the
// open positions (of symbol when given).
func (c *call) positionRisk(version int) (any, *apiError) {
	_, a, e := c.symbolState()
	if e != nil {
		return nil, e
	}
	now := nowMs()
	held := c.s.positions(a, "")
	if version == 2 {
		held = append(held, c.s.flat(a)...)
	}
	out := make([]map[string]any, 0, len(held))
	for _, h := range held {
		p := h.Position
		im, wallet := isolated(p)
		row := map[string]any{"symbol": h.sym.bn, "positionSide": "BOTH", "positionAmt": positionAmt(p).String(),
			"entryPrice": p.EntryPrice.String(), "breakEvenPrice": p.EntryPrice.String(), "markPrice": p.MarkPrice.String(),
			"unRealizedProfit": p.UnrealizedPnL.String(), "liquidationPrice": p.LiquidationPrice.String(),
			"isolatedMargin": im.String(), "notional": notional(p).String(), "isolatedWallet": wallet.String(),
			"updateTime": now}
		if version == 2 {
			row["leverage"] = p.Leverage.String()
			row["maxNotionalValue"] = h.sym.maxNotional(p.Leverage.IntPart()).String()
			row["marginType"] = string(p.MarginMode)
			row["isAutoAddMargin"] = "false"
			row["isolated"] = p.MarginMode == wire.MarginIsolated
			row["adlQuantile"] = p.ADLRank
		} else {
			row["marginAsset"] = h.sym.settle
			row["initialMargin"] = initialMargin(p).String()
			row["maintMargin"] = p.MaintenanceMargin.String()
			row["positionInitialMargin"] = initialMargin(p).String()
			row["openOrderInitialMargin"] = "0"
			row["adl"] = p.ADLRank
			row["bidNotional"], row["askNotional"] = "0", "0"
		}
		out = append(out, row)
	}
	return out, nil
}

func (c *call) leverageBracket() (any, *apiError) {
	sym, e := c.symbol(false)
	if e != nil {
		return nil, e
	}
	if sym != nil {
		return sym.brackets(), nil
	}
	out := make([]any, len(c.s.syms.list))
	for i, s := range c.s.syms.list {
		out[i] = s.brackets()
	}
	return out, nil
}

func (c *call) setLeverage() (any, *apiError) {
	sym, e := c.symbol(true)
	if e != nil {
		return nil, e
	}
	v, e := c.need("leverage")
	if e != nil {
		return nil, e
	}
	lev, ok := wire.ParseDecimal(v)
	if !ok || !lev.IsInteger() || lev.Sign() <= 0 || lev.GreaterThan(decimal.NewFromInt(125)) {
		return nil, errf(400, codeBadLeverage, "Leverage %s is not valid", v)
	}
	var rep wire.LeverageReply
	req := map[string]string{"symbol": sym.name, "leverage": lev.String()}
	if e := c.s.request(c.ctx, c.s.subj.Leverage(c.account), req, &rep, ctxOther); e != nil {
		return nil, e
	}
	return map[string]any{"leverage": rep.Leverage.IntPart(), "maxNotionalValue": sym.maxNotional(rep.Leverage.IntPart()).String(),
		"symbol": sym.bn}, nil
}

func (c *call) marginType() (any, *apiError) {
	sym, e := c.symbol(true)
	if e != nil {
		return nil, e
	}
	v, e := c.need("marginType")
	if e != nil {
		return nil, e
	}
	mode := wire.MarginCross
	switch v {
	case "CROSSED", "CROSS":
	case "ISOLATED":
		mode = wire.MarginIsolated
	default:
		return nil, badData("marginType")
	}
	var rep wire.MarginModeReply
	if e := c.s.request(c.ctx, c.s.subj.MarginMode(c.account), wire.MarginMode{Symbol: sym.name, Mode: mode}, &rep, ctxOther); e != nil {
		return nil, e
	}
	if !rep.Changed {
		return nil, errf(400, codeSameMarginType, "No need to change margin type.")
	}
	return ok("success"), nil
}

// positionMargin is POST /fapi/v1/positionMargin: type 1 adds amount to the
// isolated position's margin, 2 takes it out.
func (c *call) positionMargin() (any, *apiError) {
	sym, e := c.symbol(true)
	if e != nil {
		return nil, e
	}
	if ps, given := c.str("positionSide"); given && ps != "BOTH" {
		return nil, errf(400, codePositionSide, "Order's position side does not match user's setting.")
	}
	amount, given, e := c.decimal("amount")
	if e != nil {
		return nil, e
	}
	if !given || amount.Sign() <= 0 {
		return nil, mandatory("amount")
	}
	kind, given, e := c.integer("type", 1, 2)
	if e != nil {
		return nil, e
	}
	if !given {
		return nil, mandatory("type")
	}
	delta := amount
	if kind == 2 {
		delta = amount.Neg()
	}
	var rep wire.PositionMarginReply
	req := wire.PositionMargin{Symbol: sym.name, Delta: delta}
	if e := c.s.request(c.ctx, c.s.subj.PositionMargin(c.account), req, &rep, ctxOther); e != nil {
		return nil, e
	}
	return map[string]any{"amount": amount.InexactFloat64(), "code": 200, "msg": "Successfully modify position margin.", "type": kind}, nil
}

// accountMode is one of the account-wide modes of /fapi/v1/positionSide/dual
// and /fapi/v1/multiAssetsMargin: perpx has one-way positions and one
// margin asset per wallet, so both are false; a bot (freqtrade checks both
// at start) may set them to false, and true is refused.
type accountMode struct {
	path, field string
	same        *apiError // Binance's answer to setting the mode that is set
}

var accountModes = []accountMode{
	{"positionSide/dual", "dualSidePosition", errf(400, codeSamePositionSide, "No need to change position side.")},
	{"multiAssetsMargin", "multiAssetsMargin", errf(400, codeSameAssetMode, "Adjusted asset mode is currently set and does not need to be adjusted.")},
}

func (m accountMode) get(*call) (any, *apiError) { return map[string]bool{m.field: false}, nil }

func (m accountMode) set(c *call) (any, *apiError) {
	v, e := c.need(m.field)
	if e != nil {
		return nil, e
	}
	if v != "false" {
		return nil, errf(400, codeBadData, "Data sent for parameter '%s' is not valid: perpx has only %s=false.", m.field, m.field)
	}
	return nil, m.same
}

// symbolConfig is GET /fapi/v1/symbolConfig (ccxt's fetchLeverage(s) and
// fetchMarginMode(s)): each served symbol's margin type and leverage as the
// account set them, from state's settings.
func (c *call) symbolConfig() (any, *apiError) {
	sym, a, e := c.symbolState()
	if e != nil {
		return nil, e
	}
	out := []map[string]any{}
	for _, h := range append(c.s.positions(a, ""), c.s.flat(a)...) {
		if sym != nil && h.sym != sym {
			continue
		}
		mt := "CROSSED"
		if h.MarginMode == wire.MarginIsolated {
			mt = "ISOLATED"
		}
		lev := h.Leverage.IntPart()
		out = append(out, map[string]any{"symbol": h.sym.bn, "marginType": mt, "isAutoAddMargin": false,
			"leverage": lev, "maxNotionalValue": h.sym.maxNotional(lev).String()})
	}
	slices.SortFunc(out, func(x, y map[string]any) int { return strings.Compare(x["symbol"].(string), y["symbol"].(string)) })
	return out, nil
}

// commissionRate is GET /fapi/v1/commissionRate (ccxt's fetchTradingFee):
// the symbol's maker and taker fee rates (perpx has no fee tiers).
func (c *call) commissionRate() (any, *apiError) {
	sym, e := c.symbol(true)
	if e != nil {
		return nil, e
	}
	return map[string]string{"symbol": sym.bn, "makerCommissionRate": sym.sym.MakerFee.String(),
		"takerCommissionRate": sym.sym.TakerFee.String()}, nil
}
