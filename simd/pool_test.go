package simd

import (
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// TestParallelRunsEachWorkerOnce: every w in [0, workers) runs exactly once
// and Parallel returns only after all have, for worker counts below, at and
// above the pool's size, with the workers spinning or parked in between.
func TestParallelRunsEachWorkerOnce(t *testing.T) {
	defer SpinTime.Store(SpinTime.Load())
	for _, spin := range []time.Duration{0, 200 * time.Microsecond} {
		SpinTime.Store(int64(spin))
		for _, workers := range []int{0, 1, 2, 3, 8} {
			for rep := 0; rep < 50; rep++ {
				counts := make([]atomic.Int32, max(workers, 1))
				var done atomic.Int32
				Parallel(workers, func(w int) {
					counts[w].Add(1)
					done.Add(1)
				})
				if want := int32(max(workers, 1)); done.Load() != want {
					t.Fatalf("spin %v, workers %d: %d calls finished before Parallel returned, want %d", spin, workers, done.Load(), want)
				}
				for w := range counts {
					if c := counts[w].Load(); c != 1 {
						t.Fatalf("spin %v, workers %d: f(%d) ran %d times", spin, workers, w, c)
					}
				}
				if rep%10 == 0 {
					time.Sleep(time.Duration(rep) * 20 * time.Microsecond) // let workers park
				}
			}
		}
	}
}

// TestParallelNestedAndConcurrent: Parallel inside Parallel, and many
// goroutines calling it at once, finish (the caller runs what no free
// worker takes) with every index run once.
func TestParallelNestedAndConcurrent(t *testing.T) {
	var total atomic.Int64
	var wg sync.WaitGroup
	for g := 0; g < 8; g++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for rep := 0; rep < 20; rep++ {
				Parallel(3, func(int) {
					Parallel(3, func(int) { total.Add(1) })
				})
			}
		}()
	}
	finished := make(chan struct{})
	go func() { wg.Wait(); close(finished) }()
	select {
	case <-finished:
	case <-time.After(20 * time.Second):
		t.Fatal("nested or concurrent Parallel calls did not finish in 20 s")
	}
	if got, want := total.Load(), int64(8*20*3*3); got != want {
		t.Fatalf("%d inner calls ran, want %d", got, want)
	}
}
