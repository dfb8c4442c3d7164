package wire

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
func DecodeFills(data []byte) (Fills, *Error) {
	r := Fills{Limit: DefaultAccountHistory}
	var start, end int
	err := decodeObject(data, []field{
		{"symbol", false, token(&r.Symbol)},
		{"start_ms", false, integer(&start, 0, maxTimeMs)},
		{"end_ms", false, integer(&end, 0, maxTimeMs)},
		{"limit", false, integer(&r.Limit, 1, MaxAccountHistory)},
	})
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
