package adl

import "github.com/perpx/perpx/book"

// denseLimit: account ids below it (the layer above interns accounts to
// small integers) are found through a slice, one memory access instead of a
// hash probe; the slice grows to the largest such id (≤ 16 MiB). Larger ids
// use a map.
const denseLimit = 1 << 22

// accountIndex maps an account to its position record.
type accountIndex struct {
	dense  []int32 // record index + 1; 0 = none
	sparse map[book.AccountID]int32
	n      int
}

func (x *accountIndex) get(acct book.AccountID) (int32, bool) {
	if acct < book.AccountID(len(x.dense)) {
		v := x.dense[acct]
		return v - 1, v != 0
	}
	if acct < denseLimit {
		return 0, false
	}
	idx, ok := x.sparse[acct]
	return idx, ok
}

func (x *accountIndex) set(acct book.AccountID, idx int32) {
	x.n++
	if acct < denseLimit {
		if n := int(acct) + 1; n > len(x.dense) {
			x.dense = append(x.dense, make([]int32, n-len(x.dense))...)
		}
		x.dense[acct] = idx + 1
		return
	}
	if x.sparse == nil {
		x.sparse = make(map[book.AccountID]int32)
	}
	x.sparse[acct] = idx
}

func (x *accountIndex) del(acct book.AccountID) {
	x.n--
	if acct < denseLimit {
		x.dense[acct] = 0
		return
	}
	delete(x.sparse, acct)
}

// len is the number of accounts indexed.
func (x *accountIndex) len() int { return x.n }
