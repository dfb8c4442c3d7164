package market

import "errors"

// Sentinel errors. Compile and the conversions wrap them with detail
// (fmt.Errorf("%w: ...")), so callers test with errors.Is. The
// conversions' have no package prefix: the actors pass them to traders as
// the refusal's message (TestRefusalMessagesNameNoPackage).
var (
	// ErrConfig is wrapped by every error Compile returns.
	ErrConfig = errors.New("market: invalid symbol config")

	// ErrNotTickMultiple: a price is not a whole number of ticks.
	ErrNotTickMultiple = errors.New("price is not a multiple of the tick size")
	// ErrNotLotMultiple: a quantity is not a whole number of lots.
	ErrNotLotMultiple = errors.New("quantity is not a multiple of the lot size")
	// ErrPriceRange: a price is ≤ 0 or above the symbol's MaxPrice.
	ErrPriceRange = errors.New("price out of range")
	// ErrQtyRange: a quantity is ≤ 0 or above the symbol's MaxQty.
	ErrQtyRange = errors.New("quantity out of range")

	// ErrIndex: an index price update that is ≤ 0 or above MaxPrice.
	ErrIndex = errors.New("market: index price out of range")
	// ErrTimeBackwards: a mark update older than the previous one.
	ErrTimeBackwards = errors.New("market: time went backwards")

	// ErrSnapshot: DecodeMarkSnapshot's input is damaged, of another
	// version, or of another symbol or funding config.
	ErrSnapshot = errors.New("market: bad mark snapshot")
)
