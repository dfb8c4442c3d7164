package ring

import (
	"slices"
	"testing"
)

func TestRingKeepsTheNewest(t *testing.T) {
	r := New[int](3)
	if got := r.Newest(5, nil); len(got) != 0 {
		t.Fatalf("empty ring gave %v", got)
	}
	for i := 1; i <= 7; i++ {
		r.Push(i)
		want := []int{}
		for v := max(1, i-2); v <= i; v++ {
			want = append(want, v)
		}
		if got := r.Newest(10, nil); !slices.Equal(got, want) {
			t.Fatalf("after %d pushes: %v, want %v", i, got, want)
		}
	}
	if got := r.Newest(2, []int{0}); !slices.Equal(got, []int{0, 6, 7}) {
		t.Fatalf("newest 2 appended: %v", got)
	}
	if *r.At(0) != 5 || r.Len() != 3 || r.Cap() != 3 {
		t.Fatalf("At(0) %d Len %d Cap %d", *r.At(0), r.Len(), r.Cap())
	}
	var zero Ring[int]
	zero.Push(1)
	if zero.Len() != 0 {
		t.Fatal("the zero ring kept a value")
	}
}

// TestRingAcrossChunks fills rings past the first chunks, with a capacity
// that is not a multiple of the chunk, and wraps them.
func TestRingAcrossChunks(t *testing.T) {
	for _, c := range []int{chunkLen - 1, chunkLen, chunkLen + 1, 3*chunkLen + 7} {
		r := New[int](c)
		for i := 1; i <= 2*c+5; i++ {
			r.Push(i)
			lo := max(1, i-c+1)
			if r.Len() != i-lo+1 || *r.At(0) != lo || *r.At(r.Len() - 1) != i {
				t.Fatalf("cap %d after %d pushes: Len %d, At(0) %d, newest %d", c, i, r.Len(), *r.At(0), *r.At(r.Len() - 1))
			}
		}
		got := r.Newest(c+10, nil)
		for j, v := range got {
			if v != c+6+j {
				t.Fatalf("cap %d: Newest[%d] = %d, want %d", c, j, v, c+6+j)
			}
		}
		if last := r.chunks[len(r.chunks)-1]; cap(last) > chunkLen {
			t.Fatalf("cap %d: last chunk has room for %d", c, cap(last))
		}
	}
}

// TestRingAdd: Add hands out the slot of the newest value, zeroed even
// when it drops the oldest, and nil from a ring that keeps nothing.
func TestRingAdd(t *testing.T) {
	r := New[[2]int](2)
	for i := 1; i <= 5; i++ {
		p := r.Add()
		if *p != [2]int{} {
			t.Fatalf("add %d: slot holds %v", i, *p)
		}
		p[0], p[1] = i, -i
		if got := *r.At(r.Len() - 1); got != [2]int{i, -i} {
			t.Fatalf("add %d: newest %v", i, got)
		}
	}
	if r.Len() != 2 || r.At(0)[0] != 4 {
		t.Fatalf("len %d, oldest %v", r.Len(), *r.At(0))
	}
	var zero Ring[int]
	if zero.Add() != nil {
		t.Fatal("the zero ring gave a slot")
	}
}
