package adl

import "errors"

// Sentinel errors. Every one leaves the ranking unchanged.
var (
	ErrInvalidConfig      = errors.New("adl: invalid config")
	ErrInvalidMode        = errors.New("adl: unknown mode (want \"adl\" or \"socialized\")")
	ErrUnknownSymbol      = errors.New("adl: unknown symbol")
	ErrDuplicateSymbol    = errors.New("adl: symbol already added")
	ErrInvalidSide        = errors.New("adl: side must be Long or Short")
	ErrInvalidQty         = errors.New("adl: quantity must be positive (zero removes a position)")
	ErrInvalidCost        = errors.New("adl: entry cost must be positive")
	ErrInvalidMargin      = errors.New("adl: margin must be positive")
	ErrInvalidPrice       = errors.New("adl: price must be positive")
	ErrInvalidAmount      = errors.New("adl: amount must not be negative")
	ErrNoMark             = errors.New("adl: no mark price set")
	ErrNoPosition         = errors.New("adl: no such position")
	ErrQtyExceedsPosition = errors.New("adl: quantity exceeds the position")
	ErrOverflow           = errors.New("adl: amount overflows int64 Money")
)
