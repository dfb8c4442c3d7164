package binance

import (
	"github.com/perpx/perpx/wire"
	"github.com/shopspring/decimal"
)

// The account endpoints: the account's state as Binance's account, balance
// and positionRisk shapes, and its settings (leverage, margin type,
// isolated margin).

// totals sums an account's positions the way Binance's account reports.
type totals struct {
	wallet, unrealized, maint, posIM      decimal.Decimal
	isolatedWallet, crossUnrealized, cash decimal.Decimal
}

func sumAccount(a *wire.Account, settle string) totals {
	t := totals{wallet: a.Balances[settle]}
	for _, p := range a.Positions {
		t.unrealized = t.unrealized.Add(p.UnrealizedPnL)
		t.maint = t.maint.Add(p.MaintenanceMargin)
		t.posIM = t.posIM.Add(initialMargin(&p))
		if p.MarginMode == wire.MarginIsolated {
			t.isolatedWallet = t.isolatedWallet.Add(p.Margin)
		} else {
			t.crossUnrealized = t.crossUnrealized.Add(p.UnrealizedPnL)
		}
	}
	t.cash = t.wallet.Sub(t.isolatedWallet)
	return t
}

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

// settle is the asset the exchange settles in.
func (s *Server) settle() string {
	if len(s.syms.list) > 0 {
		return s.syms.list[0].settle
	}
	return wire.DefaultAsset
}

// account is GET /fapi/v2/account and /fapi/v3/account. Equity is the
// margin balance, available the available balance; what is neither
// available nor the positions' initial margin is the open orders'.
func (c *call) accountInfo(version int) (any, *apiError) {
	a, e := c.state(nil)
	if e != nil {
		return nil, e
	}
	asset := c.s.settle()
	t := sumAccount(a, asset)
	now := nowMs()
	im := a.Equity.Sub(a.Available)
	orderIM := decimal.Max(decimal.Zero, im.Sub(t.posIM))
	assetRow := map[string]any{"asset": asset, "walletBalance": t.wallet.String(), "unrealizedProfit": t.unrealized.String(),
		"marginBalance": a.Equity.String(), "maintMargin": t.maint.String(), "initialMargin": im.String(),
		"positionInitialMargin": t.posIM.String(), "openOrderInitialMargin": orderIM.String(),
		"crossWalletBalance": t.cash.String(), "crossUnPnl": t.crossUnrealized.String(),
		"availableBalance": a.Available.String(), "maxWithdrawAmount": a.Available.String(), "updateTime": now}
	positions := make([]map[string]any, 0, len(a.Positions))
	for i := range a.Positions {
		p := &a.Positions[i]
		im, wallet := isolated(p)
		row := map[string]any{"symbol": c.s.bnName(p.Symbol), "positionSide": "BOTH", "positionAmt": positionAmt(p).String(),
			"unrealizedProfit": p.UnrealizedPnL.String(), "isolatedMargin": im.String(), "notional": notional(p).String(),
			"isolatedWallet": wallet.String(), "initialMargin": initialMargin(p).String(),
			"maintMargin": p.MaintenanceMargin.String(), "updateTime": now}
		if version == 2 {
			row["leverage"] = p.Leverage.String()
			row["entryPrice"] = p.EntryPrice.String()
			row["isolated"] = p.MarginMode == wire.MarginIsolated
			row["positionInitialMargin"] = initialMargin(p).String()
			row["openOrderInitialMargin"] = "0"
		}
		positions = append(positions, row)
	}
	out := map[string]any{"totalInitialMargin": im.String(), "totalMaintMargin": t.maint.String(),
		"totalWalletBalance": t.wallet.String(), "totalUnrealizedProfit": t.unrealized.String(),
		"totalMarginBalance": a.Equity.String(), "totalPositionInitialMargin": t.posIM.String(),
		"totalOpenOrderInitialMargin": orderIM.String(), "totalCrossWalletBalance": t.cash.String(),
		"totalCrossUnPnl": t.crossUnrealized.String(), "availableBalance": a.Available.String(),
		"maxWithdrawAmount": a.Available.String(), "assets": []any{assetRow}, "positions": positions}
	if version == 2 {
		out["feeTier"] = 0
		out["canTrade"], out["canDeposit"], out["canWithdraw"] = true, true, true
		out["updateTime"] = now
		out["multiAssetsMargin"] = false
	}
	return out, nil
}

// balance is GET /fapi/v2/balance and /fapi/v3/balance.
func (c *call) balance() (any, *apiError) {
	a, e := c.state(nil)
	if e != nil {
		return nil, e
	}
	asset := c.s.settle()
	t := sumAccount(a, asset)
	return []map[string]any{{"accountAlias": c.account, "asset": asset, "balance": t.wallet.String(),
		"crossWalletBalance": t.cash.String(), "crossUnPnl": t.crossUnrealized.String(),
		"availableBalance": a.Available.String(), "maxWithdrawAmount": a.Available.String(),
		"marginAvailable": true, "updateTime": nowMs()}}, nil
}

// positionRisk is GET /fapi/v2/positionRisk and /fapi/v3/positionRisk: the
// open positions (of symbol when given).
func (c *call) positionRisk(version int) (any, *apiError) {
	sym, e := c.symbol(false)
	if e != nil {
		return nil, e
	}
	a, e := c.state(sym)
	if e != nil {
		return nil, e
	}
	now := nowMs()
	out := make([]map[string]any, 0, len(a.Positions))
	for i := range a.Positions {
		p := &a.Positions[i]
		im, wallet := isolated(p)
		row := map[string]any{"symbol": c.s.bnName(p.Symbol), "positionSide": "BOTH", "positionAmt": positionAmt(p).String(),
			"entryPrice": p.EntryPrice.String(), "breakEvenPrice": p.EntryPrice.String(), "markPrice": p.MarkPrice.String(),
			"unRealizedProfit": p.UnrealizedPnL.String(), "liquidationPrice": p.LiquidationPrice.String(),
			"isolatedMargin": im.String(), "notional": notional(p).String(), "isolatedWallet": wallet.String(),
			"updateTime": now}
		if version == 2 {
			row["leverage"] = p.Leverage.String()
			row["maxNotionalValue"] = c.s.syms.byName[p.Symbol].maxNotional(p.Leverage.IntPart()).String()
			row["marginType"] = string(p.MarginMode)
			row["isAutoAddMargin"] = "false"
			row["isolated"] = p.MarginMode == wire.MarginIsolated
			row["adlQuantile"] = p.ADLRank
		} else {
			row["marginAsset"] = c.s.settle()
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
