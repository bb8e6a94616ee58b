package bench

import (
	"fmt"

	"github.com/cdp-project/cdp/simd"
)

// peakIters is the length of one fma-peak run: 192 FLOPs an iteration, so
// about 0.4 ms on a 100 GFLOP/s core, long enough that waking the second goroutine does not count.
const peakIters = 200000

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
				simd.Parallel(threads, func(int) { simd.PeakLoop(peakIters) })
			}, nil
		},
	}
}
