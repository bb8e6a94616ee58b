package nn

import (
	"sync"
	"sync/atomic"

	"github.com/cdp-project/cdp/simd"
)

// parallelFor runs fn over [0, n) split into contiguous ranges, on at most
// simd.Threads() goroutines (the caller's included). fn must compute each
// index independently of the split so that results do not depend on the
// thread count. cost is a rough count of operations per index; small jobs
// run inline. The ranges (a few per goroutine) are taken in turn, so that a
// core slowed by other work on the machine does not hold the others up.
func parallelFor(n, cost int, fn func(lo, hi int)) {
	workers := simd.Threads()
	if workers > n {
		workers = n
	}
	if workers <= 1 || n*cost < 1<<15 {
		if n > 0 {
			fn(0, n)
		}
		return
	}
	tasks := min(n, 4*workers)
	var next atomic.Int32
	run := func() {
		for {
			t := int(next.Add(1)) - 1
			if t >= tasks {
				return
			}
			fn(n*t/tasks, n*(t+1)/tasks)
		}
	}
	simd.Parallel(workers, func(int) { run() })
}

// scratch holds float32 buffers that live only within one call (packed or
// transposed operands), shared by every layer instead of kept per layer.
var scratch = sync.Pool{New: func() any { return new([]float32) }}

// getScratch returns a buffer of length n (contents unspecified); give it
// back with putScratch.
func getScratch(n int) *[]float32 {
	p := scratch.Get().(*[]float32)
	Grow(p, n)
	return p
}

func putScratch(p *[]float32) { scratch.Put(p) }
