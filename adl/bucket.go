package adl

import "math"

// Buckets partition positions by b = margin/cost (the inverse of initial
// leverage). Inside a bucket every b is ≥ the bucket's floor bucketLo, and
// score is decreasing in b, so score(r, bucketLo) bounds the whole bucket.
//
// Fine buckets cover b in [2^-minExp, 1) (leverage 1× to 1024×), with
// 1<<subBits buckets per octave taken straight from the float's exponent and
// top mantissa bits, so a bucket's b range is at most 6.25% wide. Bucket 0
// takes b < 2^-minExp (floor 0) and the last bucket b ≥ 1 (floor 1).
const (
	subBits    = 4
	minExp     = 10
	numBuckets = 2 + minExp<<subBits
)

// Bucket numbers are stored in a uint8: this fails to compile otherwise.
var _ [256 - numBuckets]struct{}

// bucketLo[i] is the smallest b that bucket i holds.
var bucketLo = func() (lo [numBuckets]float64) {
	for i := 1; i < numBuckets-1; i++ {
		exp := (i-1)>>subBits - minExp
		sub := (i - 1) & (1<<subBits - 1)
		lo[i] = math.Ldexp(1+float64(sub)/(1<<subBits), exp)
	}
	lo[numBuckets-1] = 1
	return lo
}()

// bucketHi is the bound above bucket i's b range (+Inf for the last).
func bucketHi(i int) float64 {
	if i+1 < numBuckets {
		return bucketLo[i+1]
	}
	return math.Inf(1)
}

// bucketOf returns the bucket of b (b > 0).
func bucketOf(b float64) int {
	if b < bucketLo[1] {
		return 0
	}
	if b >= 1 {
		return numBuckets - 1
	}
	bits := math.Float64bits(b)
	exp := int(bits>>52&0x7ff) - 1023
	sub := int(bits>>(52-subBits)) & (1<<subBits - 1)
	return 1 + (exp+minExp)<<subBits + sub
}
