package loadtest

import (
	"context"
	"encoding/json"
	"fmt"

	"github.com/nats-io/nats.go"
	"github.com/perpx/perpx/wire"
	"github.com/shopspring/decimal"
)

// call sends one request and waits for its reply: setup, shock, audit and
// the market maker, never the measured flow. A reply with "ok":false comes
// back as its *wire.Error; out (may be nil) receives the whole reply.
func call(ctx context.Context, nc *nats.Conn, subject string, req, out any) error {
	body, err := json.Marshal(req)
	if err != nil {
		return err
	}
	m, err := nc.RequestWithContext(ctx, subject, body)
	if err != nil {
		return fmt.Errorf("%s: %w", subject, err)
	}
	var env wire.Reply
	if err := json.Unmarshal(m.Data, &env); err != nil {
		return fmt.Errorf("%s: unparsable reply %.200q: %w", subject, m.Data, err)
	}
	if !env.OK {
		if env.Error == nil {
			return fmt.Errorf("%s: reply not ok and without error: %.200q", subject, m.Data)
		}
		return fmt.Errorf("%s: %w", subject, env.Error)
	}
	if out != nil {
		if err := json.Unmarshal(m.Data, out); err != nil {
			return fmt.Errorf("%s: reply %.200q: %w", subject, m.Data, err)
		}
	}
	return nil
}

// deposit credits amount of asset to acct through px.admin.deposit.
func deposit(ctx context.Context, nc *nats.Conn, subj wire.Subjects, acct, asset string, amount decimal.Decimal) error {
	return call(ctx, nc, subj.AdminDeposit(), wire.Deposit{Account: acct, Asset: asset, Amount: amount}, nil)
}

// setLeverage sets acct's leverage on symbol.
func setLeverage(ctx context.Context, nc *nats.Conn, subj wire.Subjects, acct, symbol string, lev decimal.Decimal) error {
	return call(ctx, nc, subj.Leverage(acct), wire.Leverage{Symbol: symbol, Leverage: lev}, nil)
}

// setIndex moves symbol's index through px.admin.index.<sym> and returns the
// mark the exchange reports after it.
func setIndex(ctx context.Context, nc *nats.Conn, subj wire.Subjects, symbol string, price decimal.Decimal) (decimal.Decimal, error) {
	var r wire.IndexReply
	err := call(ctx, nc, subj.AdminIndex(symbol), wire.IndexSet{Price: price}, &r)
	return r.Mark, err
}

// depthMid returns the middle of the best bid and ask, false if a side is
// empty.
func depthMid(ctx context.Context, nc *nats.Conn, subj wire.Subjects, symbol string) (decimal.Decimal, bool) {
	var r wire.DepthReply
	if err := call(ctx, nc, subj.Depth(symbol), wire.Depth{Levels: 1}, &r); err != nil || len(r.Bids) == 0 || len(r.Asks) == 0 {
		return decimal.Decimal{}, false
	}
	return r.Bids[0].Price().Add(r.Asks[0].Price()).Div(decimal.NewFromInt(2)), true
}

// AuditSubject is the invariant-check request under subj's prefix; the
// wire package has no builder for it yet.
func AuditSubject(subj wire.Subjects) string { return subj.Prefix() + ".admin.audit" }

// AuditReply is the reply of px.admin.audit.
type AuditReply struct {
	wire.Reply
	Deposits     decimal.Decimal     `json:"deposits"`
	FundDeposits decimal.NullDecimal `json:"fund_deposits"` // optional
	Balances     decimal.Decimal     `json:"balances"`
	Unrealized   decimal.Decimal     `json:"unrealized"`
	Fund         decimal.Decimal     `json:"fund"`
	Fees         decimal.Decimal     `json:"fees"`
	OpenInterest map[string]struct {
		Long  decimal.Decimal `json:"long"`
		Short decimal.Decimal `json:"short"`
	} `json:"open_interest"`
	InvariantsOK bool `json:"invariants_ok"`
	// Assets is each settlement asset's sums on an exchange with wallets.
	Assets map[string]wire.AuditAsset `json:"assets"`
}

// Problems returns every broken invariant: the exchange's own verdict,
// open-interest symmetry rechecked here and, when the reply carries
// fund_deposits (without it the sum cannot be closed), conservation:
// balances + unrealized + fund + fees = deposits + fund deposits, for
// each asset when the exchange has several.
func (a *AuditReply) Problems() []string {
	var out []string
	if !a.InvariantsOK {
		out = append(out, "the exchange reports invariants_ok=false")
	}
	for sym, oi := range a.OpenInterest {
		if !oi.Long.Equal(oi.Short) {
			out = append(out, fmt.Sprintf("open interest of %s is not symmetric: long %s, short %s", sym, oi.Long, oi.Short))
		}
	}
	if a.FundDeposits.Valid {
		held := a.Balances.Add(a.Unrealized).Add(a.Fund).Add(a.Fees)
		in := a.Deposits.Add(a.FundDeposits.Decimal)
		if !held.Equal(in) {
			out = append(out, fmt.Sprintf("money not conserved: balances+unrealized+fund+fees = %s, deposits+fund deposits = %s", held, in))
		}
	}
	for asset, s := range a.Assets {
		held, in := s.Balances.Add(s.Unrealized).Add(s.Fund).Add(s.Fees), s.Deposits.Add(s.FundDeposits)
		if !held.Equal(in) {
			out = append(out, fmt.Sprintf("%s not conserved: balances+unrealized+fund+fees = %s, deposits+fund deposits = %s", asset, held, in))
		}
	}
	return out
}

// Audit requests px.admin.audit and returns the parsed reply and its raw
// bytes (kept verbatim in the report).
func Audit(ctx context.Context, nc *nats.Conn, subj wire.Subjects) (*AuditReply, json.RawMessage, error) {
	m, err := nc.RequestWithContext(ctx, AuditSubject(subj), []byte("{}"))
	if err != nil {
		return nil, nil, fmt.Errorf("audit: %w", err)
	}
	var a AuditReply
	if err := json.Unmarshal(m.Data, &a); err != nil {
		return nil, nil, fmt.Errorf("audit: unparsable reply %.200q: %w", m.Data, err)
	}
	if !a.OK {
		if a.Error != nil {
			return nil, m.Data, fmt.Errorf("audit: %w", a.Error)
		}
		return nil, m.Data, fmt.Errorf("audit: reply not ok: %.200q", m.Data)
	}
	return &a, m.Data, nil
}

// fundBalances reads the insurance fund's balances through px.fund.state.
func fundBalances(ctx context.Context, nc *nats.Conn, subj wire.Subjects) (map[string]decimal.Decimal, error) {
	var r wire.FundStateReply
	err := call(ctx, nc, subj.FundState(), wire.FundState{}, &r)
	return r.Balances, err
}
