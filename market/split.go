package market

// Split divides total over weights pro rata: the one splitting rule of the
// exchange, used for a cross account's equity over its positions (risk),
// a liquidation's fund reservation over its legs and a socialized
// shortfall over legs and over winners (liq, adl).
//
// Part i is trunc(total × S_i / S) − trunc(total × S_{i−1} / S), S_i the
// running sum of the weights up to i and S their sum (cumulative rounding,
// toward zero). So the parts add up to total exactly, each is within one
// unit of its exact share and no larger in magnitude than ⌈|total| × w_i /
// S⌉, a zero weight gets 0, and the rounding dust goes to later entries
// rather than earlier ones: the entry with the last non-zero weight never
// gets less than its exact share. Callers order the weights so the dust
// lands where they document (legs in takeover order, accounts ascending).
//
// Weights must be ≥ 0; when they sum to 0 every part is 0 and the caller
// decides who takes total. The parts are written into dst (reused; it must
// not share memory with weights).
func Split(total Money, weights []Money, dst []Money) []Money {
	dst = append(dst[:0], make([]Money, len(weights))...)
	var sum Money
	for _, w := range weights {
		if w < 0 {
			panic("market: Split with a negative weight")
		}
		sum += w
	}
	if sum == 0 || total == 0 {
		return dst
	}
	var before Money
	for i, w := range weights {
		dst[i] = SplitPart(total, before, w, sum)
		before += w
	}
	return dst
}

// SplitPart is one part of Split(total, weights) without the slice: the
// part of the weight w whose predecessors' weights sum to before, all the
// weights to sum (> 0).
func SplitPart(total, before, w, sum Money) Money {
	if w == 0 || total == 0 {
		return 0
	}
	upto := MustMulDiv(int64(total), int64(before+w), int64(sum), false)
	return Money(upto - MustMulDiv(int64(total), int64(before), int64(sum), false))
}
