// Package bench is the registry of kernel measurements behind `cdp bench`
// and the simd benchmarks: each Case names a kernel, an implementation, a
// shape and a thread count, and knows how to set itself up and run one
// operation. Run times a case and reports GFLOP/s (or GB/s for memory-bound
// kernels).
//
// The package does no I/O and imports neither os nor pflag, so it builds for
// every target, the browser included.
package bench

import (
	"fmt"
	"sync"
	"time"
)

// Case is one measurement.
type Case struct {
	// Kernel names the operation: "sgemm", "dot", "reverse-step",
	// "similarity", "conv2d/...", "unet-small/forward-b128", ...
	Kernel string
	// Impl names the implementation: a simd kernel set ("avx2", "neon",
	// "generic") or another library ("gonum").
	Impl string
	// Shape describes the problem size, e.g. "1024x1024x1024" (m x n x k).
	Shape string
	// Threads is the number of goroutines the operation may use.
	Threads int
	// FLOPs is the number of floating-point operations of one run (0 for
	// memory-bound kernels, which give Bytes instead).
	FLOPs float64
	// FLOPsFunc, if set, gives FLOPs when the case runs, for cases whose
	// count needs a model built (so that registering stays cheap).
	FLOPsFunc func() float64
	// Bytes is the number of bytes one run reads and writes.
	Bytes float64
	// Setup allocates and fills the inputs, selects the implementation and
	// thread count, and returns the operation to time and a function that
	// restores any global setting it changed. It is called once per Run.
	Setup func() (op func(), restore func())
}

// Name is the case's name in the benchmark style: kernel/shape/threads/impl.
func (c Case) Name() string {
	return fmt.Sprintf("%s/shape=%s/threads=%d/impl=%s", c.Kernel, c.Shape, c.Threads, c.Impl)
}

// Result is one timed case. Rates are per second of wall-clock time.
type Result struct {
	Kernel     string  `json:"kernel"`
	Impl       string  `json:"impl"`
	Shape      string  `json:"shape"`
	Threads    int     `json:"threads"`
	GFLOPS     float64 `json:"gflops,omitempty"`
	GBPS       float64 `json:"gbps,omitempty"`
	NsPerOp    float64 `json:"ns_per_op"`
	Iterations int     `json:"iterations"`
}

var registry struct {
	sync.Mutex
	cases []Case
	names map[string]bool
}

// Register adds a case to the registry. It panics on a case without a
// Setup or with a name already registered (programmer errors).
func Register(c Case) {
	if c.Setup == nil || c.Kernel == "" || c.Impl == "" {
		panic(fmt.Sprintf("bench.Register: case %q needs a kernel, an impl and a Setup", c.Name()))
	}
	registry.Lock()
	defer registry.Unlock()
	if registry.names == nil {
		registry.names = map[string]bool{}
	}
	if registry.names[c.Name()] {
		panic("bench.Register: case registered twice: " + c.Name())
	}
	registry.names[c.Name()] = true
	registry.cases = append(registry.cases, c)
}

// Cases returns the registered cases in registration order.
func Cases() []Case {
	registry.Lock()
	defer registry.Unlock()
	return append([]Case(nil), registry.cases...)
}

// Run times c: one untimed warm-up run, then batches of doubling size until
// a batch takes at least minTime; the last batch gives the result.
func Run(c Case, minTime time.Duration) Result {
	op, restore := c.Setup()
	if restore != nil {
		defer restore()
	}
	op()
	n := 1
	var elapsed time.Duration
	for {
		start := time.Now()
		for i := 0; i < n; i++ {
			op()
		}
		elapsed = time.Since(start)
		if elapsed >= minTime || n >= 1<<30 {
			break
		}
		// Aim a little past minTime from the last rate, at most 100x more.
		next := n * 2
		if elapsed > 0 {
			next = int(float64(n) * 1.2 * float64(minTime) / float64(elapsed))
		}
		n = max(n+1, min(next, 100*n))
	}
	ns := float64(elapsed.Nanoseconds()) / float64(n)
	r := Result{Kernel: c.Kernel, Impl: c.Impl, Shape: c.Shape, Threads: c.Threads, NsPerOp: ns, Iterations: n}
	flops := c.FLOPs
	if c.FLOPsFunc != nil {
		flops = c.FLOPsFunc()
	}
	if flops > 0 {
		r.GFLOPS = flops / ns
	}
	if c.Bytes > 0 {
		r.GBPS = c.Bytes / ns
	}
	return r
}
