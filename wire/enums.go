package wire

// Side of an order or of a trade's taker.
type Side string

const (
	Buy  Side = "buy"
	Sell Side = "sell"
)

// Opposite is the other side (Buy for anything but Buy).
func (s Side) Opposite() Side {
	if s == Buy {
		return Sell
	}
	return Buy
}

// OrderType is limit or market.
type OrderType string

const (
	Limit  OrderType = "limit"
	Market OrderType = "market"
	// The conditional types rest untriggered until their trigger price
	// source crosses trigger_price (trailing: moves callback_rate off its
	// best price), then enter the book as a market or limit order.
	StopMarket         OrderType = "stop_market"
	StopLimit          OrderType = "stop_limit"
	TakeProfitMarket   OrderType = "take_profit_market"
	TakeProfitLimit    OrderType = "take_profit_limit"
	TrailingStopMarket OrderType = "trailing_stop_market"
)

// Conditional reports whether t waits for a trigger.
func (t OrderType) Conditional() bool { return t != Limit && t != Market && t != "" }

// Limited reports whether t enters the book as a limit order (it has a price).
func (t OrderType) Limited() bool { return t == Limit || t == StopLimit || t == TakeProfitLimit }

// TriggerBy is the price a conditional order watches.
type TriggerBy string

const (
	TriggerMark  TriggerBy = "mark"
	TriggerLast  TriggerBy = "last"
	TriggerIndex TriggerBy = "index"
)

// TIF is an order's time in force.
type TIF string

const (
	GTC TIF = "GTC"
	IOC TIF = "IOC"
	FOK TIF = "FOK"
)

// STP is an order's self-trade prevention mode: what happens when it would
// trade with a resting order of its own account.
type STP string

const (
	STPNone        STP = "none"         // trade with it like with anyone's
	STPCancelTaker STP = "cancel_taker" // cancel the incoming order's remainder, leave the resting one
	STPCancelMaker STP = "cancel_maker" // cancel the resting order, keep matching
	STPCancelBoth  STP = "cancel_both"  // cancel both
	// DefaultSTP is an order's mode when it names none: it never removes
	// a resting order its account placed on purpose.
	DefaultSTP = STPCancelTaker
)

// PosSide is the direction of a position.
type PosSide string

const (
	Long  PosSide = "long"
	Short PosSide = "short"
)

// Status is an order's state; canceled, filled, rejected and expired are
// terminal.
type Status string

const (
	// StatusUntriggered: a conditional order waiting for its trigger;
	// StatusTriggered: fired, on its way to the book.
	StatusUntriggered     Status = "untriggered"
	StatusTriggered       Status = "triggered"
	StatusNew             Status = "new"
	StatusPartiallyFilled Status = "partially_filled"
	StatusFilled          Status = "filled"
	StatusCanceled        Status = "canceled"
	StatusRejected        Status = "rejected"
	StatusExpired         Status = "expired"
)

// EventType tags a private account event.
type EventType string

const (
	EventFill        EventType = "fill"
	EventOrder       EventType = "order"
	EventLiquidation EventType = "liquidation"
	EventADL         EventType = "adl"
	EventFunding     EventType = "funding"
	// EventError: the account stopped on an internal error (Error says
	// why); it answers INTERNAL until the exchange restarts.
	EventError EventType = "error"
)

// FundReason says why the insurance fund moved.
type FundReason string

const (
	ReasonLiquidationSurplus FundReason = "liquidation_surplus"
	ReasonLiquidationDeficit FundReason = "liquidation_deficit"
	ReasonDeposit            FundReason = "deposit"
	// ReasonFunding: a funding payment of a position a liquidation held,
	// paid or received by the fund; in histories of earlier versions only.
	ReasonFunding FundReason = "funding"
)

// Liquidity says whether a fill made (maker) or took (taker) liquidity.
type Liquidity string

const (
	Maker Liquidity = "maker"
	Taker Liquidity = "taker"
)
