package wire

import "github.com/shopspring/decimal"

// Account history limits: what an account keeps (its latest closed orders
// and fills, as Binance's allOrders and userTrades serve them) and what one
// request returns.
const (
	DefaultAccountHistory = 500
	MaxAccountHistory     = 1000
)

// Orders is the body of <prefix>.acct.<acct>.orders: one order by OrderID or
// ClientOrderID (open or among the kept closed ones), or else the account's
// open and kept closed orders, of Symbol when set, the newest Limit.
type Orders struct {
	Symbol        string `json:"symbol,omitempty"`
	OrderID       string `json:"order_id,omitempty"`
	ClientOrderID string `json:"client_order_id,omitempty"`
	Limit         int    `json:"limit,omitempty"`
}

// DecodeOrders decodes an orders request (default limit DefaultAccountHistory).
func DecodeOrders(data []byte) (Orders, *Error) {
	r := Orders{Limit: DefaultAccountHistory}
	err := decodeObject(data, []field{
		{"symbol", false, token(&r.Symbol)},
		{"order_id", false, token(&r.OrderID)},
		{"client_order_id", false, clientID(&r.ClientOrderID)},
		{"limit", false, integer(&r.Limit, 1, MaxAccountHistory)},
	})
	if err != nil {
		return Orders{}, err
	}
	if r.OrderID != "" && r.ClientOrderID != "" {
		return Orders{}, Errorf(CodeBadRequest, "give order_id or client_order_id, not both")
	}
	return r, nil
}

// OrdersReply answers orders, oldest (by order id) first.
type OrdersReply struct {
	Reply
	Orders []Order `json:"orders"`
}

// Fills is the body of <prefix>.acct.<acct>.fills: the kept fills whose
// times lie in [StartMs, EndMs] (EndMs 0: no bound), of Symbol when set,
// the newest Limit.
type Fills struct {
	Symbol  string `json:"symbol,omitempty"`
	StartMs int64  `json:"start_ms,omitempty"`
	EndMs   int64  `json:"end_ms,omitempty"`
	Limit   int    `json:"limit,omitempty"`
}

// DecodeFills decodes a fills request (default limit DefaultAccountHistory).
func DecodeFills(data []byte) (Fills, *Error) { return decodeWindow(data) }

// decodeWindow decodes the fields of Fills, and extra.
func decodeWindow(data []byte, extra ...field) (Fills, *Error) {
	r := Fills{Limit: DefaultAccountHistory}
	var start, end int
	err := decodeObject(data, append([]field{
		{"symbol", false, token(&r.Symbol)},
		{"start_ms", false, integer(&start, 0, maxTimeMs)},
		{"end_ms", false, integer(&end, 0, maxTimeMs)},
		{"limit", false, integer(&r.Limit, 1, MaxAccountHistory)},
	}, extra...))
	if err != nil {
		return Fills{}, err
	}
	r.StartMs, r.EndMs = int64(start), int64(end)
	if r.EndMs != 0 && r.EndMs < r.StartMs {
		return Fills{}, Errorf(CodeBadRequest, "end_ms %d is before start_ms %d", r.EndMs, r.StartMs)
	}
	return r, nil
}

// FillsReply answers fills, oldest first.
type FillsReply struct {
	Reply
	Fills []Fill `json:"fills"`
}

// IncomeType is the kind of an income row: what moved the balance.
type IncomeType string

// The income types; every movement of an account's balance is exactly one
// row of one of them.
const (
	IncomeTransfer       IncomeType = "transfer"        // a deposit (+) or withdrawal (−)
	IncomeRealizedPnL    IncomeType = "realized_pnl"    // a fill's or ADL close's realized PnL
	IncomeFee            IncomeType = "fee"             // a fill's fee (−; a maker rebate +)
	IncomeFunding        IncomeType = "funding"         // a funding payment (−) or receipt (+)
	IncomeLiquidation    IncomeType = "liquidation"     // what a liquidation took over with the positions
	IncomeInsurance      IncomeType = "insurance"       // the fund covering a loss beyond the balance (+)
	IncomeSocializedLoss IncomeType = "socialized_loss" // a winner's share of a socialized loss (−)
)

// IncomeTypes lists the income types.
var IncomeTypes = []IncomeType{IncomeTransfer, IncomeRealizedPnL, IncomeFee, IncomeFunding,
	IncomeLiquidation, IncomeInsurance, IncomeSocializedLoss}

// IncomeQuery is the body of <prefix>.acct.<acct>.income: Fills' window
// and paging over the kept income rows, of Type when set.
type IncomeQuery struct {
	Fills
	Type IncomeType `json:"type,omitempty"`
}

// DecodeIncome decodes an income request (default limit DefaultAccountHistory).
func DecodeIncome(data []byte) (IncomeQuery, *Error) {
	var q IncomeQuery
	f, err := decodeWindow(data, field{"type", false, enum(&q.Type, IncomeTypes...)})
	if err != nil {
		return IncomeQuery{}, err
	}
	q.Fills = f
	return q, nil
}

// Income is one movement of an account's balance in one asset. ID counts
// the account's income rows (1, 2, ...: a client pages and deduplicates by
// it); TradeSeq is the fill's trade (realized_pnl and fee of a fill); Info
// says more where the type does not ("adl": an ADL close's realized PnL;
// "deposit", "withdrawal").
type Income struct {
	ID       uint64          `json:"id"`
	Type     IncomeType      `json:"type"`
	Symbol   string          `json:"symbol"`
	Asset    string          `json:"asset"`
	Amount   decimal.Decimal `json:"amount"`
	TimeMs   int64           `json:"time_ms"`
	TradeSeq uint64          `json:"trade_seq,omitempty"`
	Info     string          `json:"info,omitempty"`
}

// IncomeReply answers income, oldest first.
type IncomeReply struct {
	Reply
	Income []Income `json:"income"`
}
