package nn

import (
	"sync"

	"github.com/cdp-project/cdp/simd"
)

// parallelFor runs fn over [0, n) split into contiguous ranges, one per
// goroutine, at most simd.Threads() of them. fn must compute each index
// independently of the split so that results do not depend on the thread
// count. cost is a rough count of operations per index; small jobs run inline.
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
	var wg sync.WaitGroup
	for w := 0; w < workers; w++ {
		lo, hi := n*w/workers, n*(w+1)/workers
		if lo == hi {
			continue
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			fn(lo, hi)
		}()
	}
	wg.Wait()
}
