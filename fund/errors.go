package fund

import "errors"

// Sentinel errors. Every one leaves the fund unchanged.
var (
	ErrInvalidConfig        = errors.New("fund: invalid config")
	ErrInvalidAsset         = errors.New("fund: asset must be named")
	ErrInvalidAmount        = errors.New("fund: amount must not be negative")
	ErrInvalidReservation   = errors.New("fund: reservation id 0 is reserved for \"no reservation\"")
	ErrDuplicateReservation = errors.New("fund: reservation id already in use")
	ErrUnknownReservation   = errors.New("fund: unknown reservation")
	ErrAssetMismatch        = errors.New("fund: settlement asset differs from the reservation's")
	ErrOverflow             = errors.New("fund: balance would overflow")
)
