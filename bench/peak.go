package bench

import (
	"fmt"
	"sync"

	"github.com/cdp-project/cdp/simd"
)

// peakIters is the length of one fma-peak run: 192 FLOPs an iteration, so
// about 40 microseconds on a 100 GFLOP/s core.
const peakIters = 20000

// The fma-peak cases time simd.PeakLoop on one goroutine and on two, where
// this CPU has such a loop: the FLOP rate a core delivers at that moment,
// to read sgemm's GFLOP/s against in the same run (`cdp bench --filter
// 'fma-peak|sgemm'`).
func init() {
	if simd.PeakLoop(1) == 0 {
		return
	}
	for _, th := range []int{1, 2} {
		Register(peakCase(th))
	}
}

func peakCase(threads int) Case {
	return Case{
		Kernel: "fma-peak", Impl: "avx2", Shape: fmt.Sprintf("12x8-fma-x%d", peakIters), Threads: threads,
		FLOPs: float64(threads) * simd.PeakLoop(1) * peakIters,
		Setup: func() (func(), func()) {
			return func() {
				var wg sync.WaitGroup
				for range threads - 1 {
					wg.Go(func() { simd.PeakLoop(peakIters) })
				}
				simd.PeakLoop(peakIters)
				wg.Wait()
			}, nil
		},
	}
}
