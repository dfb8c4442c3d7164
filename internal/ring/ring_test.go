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
