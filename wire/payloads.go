package wire

import "github.com/shopspring/decimal"

// Reply is the envelope every reply starts with; typed replies embed it so
// its fields sit at the top level: {"ok":true,...} or {"ok":false,"error":{..}}.
type Reply struct {
	OK    bool   `json:"ok"`
	Error *Error `json:"error,omitempty"`
}

// OK is the envelope of a successful reply.
func OK() Reply { return Reply{OK: true} }

// Fail is the envelope of a failed reply.
func Fail(err *Error) Reply { return Reply{Error: err} }

// Envelope returns the envelope itself. Every typed reply embeds Reply, so
// they all have this method and generic code (the gateway) can read ok and
// error of any of them.
func (r Reply) Envelope() Reply { return r }

// OrderReply answers order.place, order.amend and order.cancel.
// STPCanceled lists the ids of the account's resting orders that
// self-trade prevention removed while the placed or amended order matched
// (omitted when none).
type OrderReply struct {
	Reply
	Order       *Order   `json:"order,omitempty"`
	STPCanceled []string `json:"stp_canceled,omitempty"`
}

// CancelAllReply answers order.cancel_all: how many orders it canceled and
// the first MaxCancelAllListed of them by order id, in their final state
// (empty, not null, when there were none), so the reply stays far below
// NATS's payload limit however many orders an account holds.
type CancelAllReply struct {
	Reply
	Count  int     `json:"count"`
	Orders []Order `json:"orders"`
}

// MaxCancelAllListed caps the orders a cancel_all reply lists (≈ 300 KB).
const MaxCancelAllListed = 1000

// CancelAllAfterReply answers order.cancel_all_after: the countdown set and
// when it fires (Unix ms), both 0 when the switch is off.
type CancelAllAfterReply struct {
	Reply
	TimeoutMs int   `json:"timeout_ms"`
	TriggerMs int64 `json:"trigger_ms"`
}

// BalanceReply answers admin.deposit and admin.fund.deposit.
type BalanceReply struct {
	Reply
	Balance decimal.Decimal `json:"balance"`
}

// IndexReply answers admin.index.<sym>.
type IndexReply struct {
	Reply
	Index decimal.Decimal `json:"index"`
	Mark  decimal.Decimal `json:"mark"`
}

// LeverageReply answers acct.<acct>.leverage.
type LeverageReply struct {
	Reply
	Leverage decimal.Decimal `json:"leverage"`
}

// AccountReply answers acct.<acct>.state.
type AccountReply struct {
	Reply
	Account *Account `json:"account,omitempty"`
}

// DepthReply answers md.<sym>.depth: best levels first; Seq is the book
// update sequence the snapshot includes, so diffs with a higher Seq apply on
// top of it.
type DepthReply struct {
	Reply
	Bids []Level `json:"bids"`
	Asks []Level `json:"asks"`
	Seq  uint64  `json:"seq"`
}

// FundStateReply answers fund.state.
type FundStateReply struct {
	Reply
	Balances map[string]decimal.Decimal `json:"balances"`
	History  []FundEvent                `json:"history"`
}

// ADLQueueReply answers adl.<sym>.queue, best rank (first deleveraged) first.
type ADLQueueReply struct {
	Reply
	Queue []ADLQueueEntry `json:"queue"`
}

// AuditReply answers admin.audit: the exchange-wide invariant check the
// load test runs. Money conservation:
//
//	balances + unrealized + fund + fees == deposits + fund_deposits
//
// where deposits are the traders' (net of withdrawals) and fund_deposits
// the admin top-ups of the insurance fund; per symbol Σ long = Σ short open
// interest; no account balance below zero (NegativeBalances lists any).
// InvariantsOK is the exchange's own verdict over all of them.
type AuditReply struct {
	Reply
	Deposits         decimal.Decimal         `json:"deposits"`
	FundDeposits     decimal.Decimal         `json:"fund_deposits"`
	Balances         decimal.Decimal         `json:"balances"`
	Unrealized       decimal.Decimal         `json:"unrealized"`
	Fund             decimal.Decimal         `json:"fund"`
	Fees             decimal.Decimal         `json:"fees"`
	OpenInterest     map[string]OpenInterest `json:"open_interest"`
	NegativeBalances []string                `json:"negative_balances"`
	// Uncovered sums deficits the insurance fund could not pay (a loss
	// nobody held money for); anything but 0 fails InvariantsOK.
	Uncovered decimal.Decimal `json:"uncovered"`
	// HeldForFailed is the part of Balances held for failed accounts:
	// money that reached one after it failed (a socialized-loss refund),
	// kept beside its frozen state rather than dropped.
	HeldForFailed decimal.Decimal `json:"held_for_failed"`
	// FailedShortfall sums what failed accounts' equity at the marks
	// (balances, positions, held fills) is below zero: a loss nobody
	// covers while they are out of service.
	FailedShortfall decimal.Decimal `json:"failed_shortfall"`
	// HeldFills lists per symbol the fills of failed accounts' own
	// orders that reached them after they failed (the book matched them
	// before the pull), held beside their frozen state: their side of
	// trades the counterparties booked, counted in OpenInterest and
	// Unrealized. Absent when nothing is held.
	HeldFills map[string]HeldFills `json:"held_fills,omitempty"`
	// Failures lists the parts that stopped on a broken invariant or an
	// internal error, with the reason; a failed fund, ADL or symbol actor
	// halts trading and fails InvariantsOK, a failed account only itself.
	Failures     []Failure `json:"failures"`
	InvariantsOK bool      `json:"invariants_ok"`
	// Assets has every settlement asset's sums, on an exchange with more
	// than one (the top-level sums are then the primary asset's: the first
	// symbol's); each balances on its own.
	Assets map[string]AuditAsset `json:"assets,omitempty"`
}

// HeldFills is what a symbol's held fills (AuditReply.HeldFills) did: how
// many, the quantity bought and sold, their cost (Σ of their values at
// their prices, in the settlement asset, as a position's cost basis: its
// unrealized PnL is its value at the mark less the cost) and the fee they
// would pay, held too (not in fees).
type HeldFills struct {
	Fills int             `json:"fills"`
	Buy   decimal.Decimal `json:"buy"`
	Sell  decimal.Decimal `json:"sell"`
	Cost  decimal.Decimal `json:"cost"`
	Fee   decimal.Decimal `json:"fee"`
}

// AuditAsset is one settlement asset's part of the audit.
type AuditAsset struct {
	Deposits        decimal.Decimal `json:"deposits"`
	FundDeposits    decimal.Decimal `json:"fund_deposits"`
	Balances        decimal.Decimal `json:"balances"`
	Unrealized      decimal.Decimal `json:"unrealized"`
	Fund            decimal.Decimal `json:"fund"`
	Fees            decimal.Decimal `json:"fees"`
	Uncovered       decimal.Decimal `json:"uncovered"`
	HeldForFailed   decimal.Decimal `json:"held_for_failed"`
	FailedShortfall decimal.Decimal `json:"failed_shortfall"`
}

// StateHashReply answers admin.state_hash: a digest of the whole exchange
// state (books, accounts, fund, ADL rankings) taken when the exchange was
// quiet, at journal position Seq (0 without a journal). Hash is 16
// lower-case hex digits; replaying the journal up to Seq gives the same
// hash.
type StateHashReply struct {
	Reply
	Hash string `json:"hash"`
	Seq  uint64 `json:"seq"`
}

// ResumeReply answers admin.resume: the part back in service, and whether
// trading is still halted (another shared part is still out).
type ResumeReply struct {
	Reply
	Actor  string `json:"actor,omitempty"`
	Halted bool   `json:"halted"`
}

// ClusterReply answers admin.cluster: the instances of a clustered exchange
// (cmd/exchange --role), the leader first, then the others by name.
type ClusterReply struct {
	Reply
	// Leader names the instance that holds the lease and answers.
	Leader string `json:"leader"`
	// LeaseMs is the lease's time to live.
	LeaseMs int64 `json:"lease_ms"`
	// JournalSeq is the leader's last journal record.
	JournalSeq uint64            `json:"journal_seq"`
	Instances  []ClusterInstance `json:"instances"`
}

// ClusterInstance is one instance as it last announced itself: Applied is
// the last journal record it applied (a leader: appended), Lag how many
// records it is behind the leader's JournalSeq, AgeMs how old the
// announcement is.
type ClusterInstance struct {
	Name    string `json:"name"`
	Role    string `json:"role"`
	Applied uint64 `json:"applied"`
	Lag     uint64 `json:"lag"`
	AgeMs   int64  `json:"age_ms"`
}

// Failure is one part of the exchange taken out of service: Actor is
// "account <name>", "fund", "adl" or "symbol-<SYM>".
type Failure struct {
	Actor  string `json:"actor"`
	Reason string `json:"reason"`
}

// OpenInterest is the summed absolute size of a symbol's long and short
// positions; they are equal when the exchange is consistent.
type OpenInterest struct {
	Long  decimal.Decimal `json:"long"`
	Short decimal.Decimal `json:"short"`
}

// ADLQueueEntry is one position in an ADL queue.
type ADLQueueEntry struct {
	Account  string          `json:"account"`
	Rank     decimal.Decimal `json:"rank"`
	PnL      decimal.Decimal `json:"pnl"`
	Leverage decimal.Decimal `json:"leverage"`
}

// Level is a price level on the wire: ["price","qty"].
type Level [2]decimal.Decimal

// NewLevel builds a level.
func NewLevel(price, qty decimal.Decimal) Level { return Level{price, qty} }

func (l Level) Price() decimal.Decimal { return l[0] }
func (l Level) Qty() decimal.Decimal   { return l[1] }

// Order is an order as replied and in events. Qty is the original size.
type Order struct {
	OrderID       string          `json:"order_id"`
	ClientOrderID string          `json:"client_order_id"`
	Account       string          `json:"account"`
	Symbol        string          `json:"symbol"`
	Side          Side            `json:"side"`
	Type          OrderType       `json:"type"`
	Price         decimal.Decimal `json:"price"`
	Qty           decimal.Decimal `json:"qty"`
	FilledQty     decimal.Decimal `json:"filled_qty"`
	AvgPrice      decimal.Decimal `json:"avg_price"`
	Status        Status          `json:"status"`
	TIF           TIF             `json:"tif"`
	ReduceOnly    bool            `json:"reduce_only"`
	PostOnly      bool            `json:"post_only"`
	STP           STP             `json:"stp"`
	// CanceledBySTP: self-trade prevention canceled the order (its
	// remainder as a taker, or the whole of it resting).
	CanceledBySTP bool `json:"canceled_by_stp,omitempty"`
	// CanceledByBankruptcy: the exchange canceled the resting order
	// because its position's bankruptcy price had moved past it (API.md,
	// the bankruptcy bound).
	CanceledByBankruptcy bool  `json:"canceled_by_bankruptcy,omitempty"`
	CreatedMs            int64 `json:"created_ms"`
	// UpdatedMs is the time of the order's last change (its creation,
	// a fill, an amend, its trigger or its end).
	UpdatedMs int64 `json:"updated_ms"`
	// *OrderTrigger is a conditional order's trigger, inlined in the JSON;
	// nil (nothing on the wire) for the others, so their per-order
	// snapshots stay small.
	*OrderTrigger
}

// OrderTrigger is what a conditional order adds to ORDER (see PlaceOrder).
type OrderTrigger struct {
	TriggerPrice    decimal.Decimal `json:"trigger_price,omitzero"`
	TriggerBy       TriggerBy       `json:"trigger_by,omitempty"`
	CallbackRate    decimal.Decimal `json:"callback_rate,omitzero"`
	ActivationPrice decimal.Decimal `json:"activation_price,omitzero"`
	ClosePosition   bool            `json:"close_position,omitempty"`
}

// Wallet is an account's money in one settlement asset.
type Wallet struct {
	Balance   decimal.Decimal `json:"balance"`
	Equity    decimal.Decimal `json:"equity"`
	Available decimal.Decimal `json:"available"`
}

// Account is an account snapshot (the state reply).
type Account struct {
	Account   string                     `json:"account"`
	Balances  map[string]decimal.Decimal `json:"balances"`
	Equity    decimal.Decimal            `json:"equity"`
	Available decimal.Decimal            `json:"available"`
	// Wallets is each settlement asset's balance, equity and available, on
	// an exchange with more than one (Equity and Available are then the
	// primary asset's, the first symbol's).
	Wallets    map[string]Wallet `json:"wallets,omitempty"`
	Positions  []Position        `json:"positions"`
	OpenOrders []Order           `json:"open_orders"`
	// Settings is every symbol's margin mode and leverage (of the one
	// symbol asked for), with or without a position: what the next order
	// there gets.
	Settings []SymbolSetting `json:"settings"`
}

// SymbolSetting is an account's margin mode and leverage in a symbol.
type SymbolSetting struct {
	Symbol     string          `json:"symbol"`
	MarginMode MarginModeName  `json:"margin_mode"`
	Leverage   decimal.Decimal `json:"leverage"`
}

// Position is an open position; Qty is the absolute size, Side the direction,
// ADLRank the 1-5 indicator, MarginMode the position's margin mode and
// MaintenanceMargin what it must keep (its tier's rate less the tier's
// cumulative amount), so a client needs no copy of the tiers.
type Position struct {
	Symbol            string          `json:"symbol"`
	Side              PosSide         `json:"side"`
	MarginMode        MarginModeName  `json:"margin_mode"`
	Qty               decimal.Decimal `json:"qty"`
	MaintenanceMargin decimal.Decimal `json:"maintenance_margin"`
	EntryPrice        decimal.Decimal `json:"entry_price"`
	MarkPrice         decimal.Decimal `json:"mark_price"`
	UnrealizedPnL     decimal.Decimal `json:"unrealized_pnl"`
	Margin            decimal.Decimal `json:"margin"`
	Leverage          decimal.Decimal `json:"leverage"`
	LiquidationPrice  decimal.Decimal `json:"liquidation_price"`
	BankruptcyPrice   decimal.Decimal `json:"bankruptcy_price"`
	ADLRank           int             `json:"adl_rank"`
}

// FundEvent is one insurance-fund movement (fund.events, fund.state history).
type FundEvent struct {
	Seq     uint64          `json:"seq"`
	TimeMs  int64           `json:"time_ms"`
	Asset   string          `json:"asset"`
	Delta   decimal.Decimal `json:"delta"`
	Balance decimal.Decimal `json:"balance"`
	Reason  FundReason      `json:"reason"`
	Account string          `json:"account,omitempty"`
	Symbol  string          `json:"symbol,omitempty"`
}

// Trade is published on md.<sym>.trades.
type Trade struct {
	Symbol    string          `json:"symbol"`
	Price     decimal.Decimal `json:"price"`
	Qty       decimal.Decimal `json:"qty"`
	TakerSide Side            `json:"taker_side"`
	Seq       uint64          `json:"seq"`
	TimeMs    int64           `json:"time_ms"`
}

// BookUpdate is an incremental depth update on md.<sym>.book: each level
// replaces the quantity at its price, qty "0" removes it. Seq increases by
// one per update, so a gap means a missed update.
type BookUpdate struct {
	Seq  uint64  `json:"seq"`
	Bids []Level `json:"bids"`
	Asks []Level `json:"asks"`
}

// MarkUpdate is published on md.<sym>.mark.
type MarkUpdate struct {
	Symbol        string          `json:"symbol"`
	Index         decimal.Decimal `json:"index"`
	Mark          decimal.Decimal `json:"mark"`
	FundingRate   decimal.Decimal `json:"funding_rate"`
	NextFundingMs int64           `json:"next_funding_ms"`
	TimeMs        int64           `json:"time_ms"`
}

// ADLEvent is one forced close at the bankruptcy price (adl.<sym>.events,
// and inside the "adl" account event of both accounts).
type ADLEvent struct {
	Symbol          string          `json:"symbol"`
	BankruptAccount string          `json:"bankrupt_account"`
	Counterparty    string          `json:"counterparty"`
	Qty             decimal.Decimal `json:"qty"`
	Price           decimal.Decimal `json:"price"`
	TimeMs          int64           `json:"time_ms"`
	// The account event's view of the close, to book it like a fill
	// (absent on adl.<sym>.events): the side of the account's trade
	// (closing a long is a sell; absent for a socialized-loss charge), what
	// it realized (the account's realized PnL moved by it) and its fee (ADL
	// charges none: always 0).
	Side        Side             `json:"side,omitempty"`
	RealizedPnL *decimal.Decimal `json:"realized_pnl,omitempty"`
	Fee         *decimal.Decimal `json:"fee,omitempty"`
}

// AccountEvent is published on acct.<acct>.events. Type says which one of
// the detail objects is set; a fill event also carries the order after it.
// Seq counts the account's events so a subscriber can spot a gap.
type AccountEvent struct {
	Type        EventType    `json:"type"`
	Seq         uint64       `json:"seq"`
	TimeMs      int64        `json:"time_ms"`
	Order       *Order       `json:"order,omitempty"`
	Fill        *Fill        `json:"fill,omitempty"`
	Liquidation *Liquidation `json:"liquidation,omitempty"`
	ADL         *ADLEvent    `json:"adl,omitempty"`
	Funding     *Funding     `json:"funding,omitempty"`
	Error       *Error       `json:"error,omitempty"`
}

// Fill is one execution of the account's order. RealizedPnL excludes the
// fee; Fee is what the account paid (negative: a rebate).
type Fill struct {
	Symbol        string          `json:"symbol"`
	OrderID       string          `json:"order_id"`
	ClientOrderID string          `json:"client_order_id"`
	Side          Side            `json:"side"`
	Price         decimal.Decimal `json:"price"`
	Qty           decimal.Decimal `json:"qty"`
	Fee           decimal.Decimal `json:"fee"`
	Liquidity     Liquidity       `json:"liquidity"`
	RealizedPnL   decimal.Decimal `json:"realized_pnl"`
	TradeSeq      uint64          `json:"trade_seq"`
	TimeMs        int64           `json:"time_ms"`
}

// Liquidation tells an account that its position was taken over.
type Liquidation struct {
	Symbol           string          `json:"symbol"`
	Side             PosSide         `json:"side"`
	Qty              decimal.Decimal `json:"qty"`
	MarkPrice        decimal.Decimal `json:"mark_price"`
	LiquidationPrice decimal.Decimal `json:"liquidation_price"`
	BankruptcyPrice  decimal.Decimal `json:"bankruptcy_price"`
	// Kind: full (the position taken over) or partial (Qty of it reduced
	// by an order of the account's; the rest stays open).
	Kind LiquidationKind `json:"kind"`
}

// LiquidationKind says whether a liquidation takes the whole position.
type LiquidationKind string

const (
	LiquidationFull    LiquidationKind = "full"
	LiquidationPartial LiquidationKind = "partial"
)

// LiquidationNotice is published on md.<sym>.liquidations for everyone:
// the account's liquidation event without the account (its size and prices
// move the market; whose position it was stays private).
type LiquidationNotice struct {
	Liquidation
	TimeMs int64 `json:"time_ms"`
}

// Funding is one funding payment; Payment is signed from the account's view
// (positive: received).
type Funding struct {
	Symbol    string          `json:"symbol"`
	Rate      decimal.Decimal `json:"rate"`
	Payment   decimal.Decimal `json:"payment"`
	Side      PosSide         `json:"side"`
	Qty       decimal.Decimal `json:"qty"`
	MarkPrice decimal.Decimal `json:"mark_price"`
}
