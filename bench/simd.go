package bench

import (
	"fmt"
	"math/rand/v2"
	"runtime"

	"github.com/cdp-project/cdp/simd"
	"gonum.org/v1/gonum/blas"
	"gonum.org/v1/gonum/blas/gonum"
)

// The simd cases: every kernel set this CPU supports, and gonum's Sgemm for
// the same sgemm shapes.
func init() {
	for _, impl := range simd.Supported() {
		for _, n := range []int{256, 512, 1024} {
			for _, th := range []int{1, 2} {
				Register(sgemmCase(impl, n, th))
			}
		}
		Register(similarityCase(impl, 512, 128))
		Register(dotCase(impl, 4096))
		Register(reverseStepCase(impl, 4096))
	}
	for _, n := range []int{256, 512, 1024} {
		for _, th := range []int{1, 2} {
			Register(gonumSgemmCase(n, th))
		}
	}
}

func randSlice(r *rand.Rand, n int) []float32 {
	x := make([]float32, n)
	for i := range x {
		x[i] = 2*r.Float32() - 1
	}
	return x
}

// useSimd selects impl and threads and returns the function that restores
// the previous choice.
func useSimd(impl string, threads int) func() {
	prevImpl, prevThreads := simd.Impl(), simd.Threads()
	if err := simd.Use(impl); err != nil {
		panic("bench: " + err.Error())
	}
	simd.SetThreads(threads)
	return func() {
		simd.Use(prevImpl)
		simd.SetThreads(prevThreads)
	}
}

func sgemmCase(impl string, n, threads int) Case {
	return Case{
		Kernel: "sgemm", Impl: impl, Shape: fmt.Sprintf("%dx%dx%d", n, n, n), Threads: threads,
		FLOPs: 2 * float64(n) * float64(n) * float64(n),
		Setup: func() (func(), func()) {
			r := rand.New(rand.NewPCG(1, uint64(n)))
			a, b, c := randSlice(r, n*n), randSlice(r, n*n), make([]float32, n*n)
			restore := useSimd(impl, threads)
			return func() { simd.Sgemm(false, false, n, n, n, 1, a, n, b, n, 0, c, n) }, restore
		},
	}
}

// gonumSgemmCase times gonum's pure-Go Sgemm. gonum splits the work over
// GOMAXPROCS goroutines itself, so the case sets GOMAXPROCS to threads while
// it runs.
func gonumSgemmCase(n, threads int) Case {
	return Case{
		Kernel: "sgemm", Impl: "gonum", Shape: fmt.Sprintf("%dx%dx%d", n, n, n), Threads: threads,
		FLOPs: 2 * float64(n) * float64(n) * float64(n),
		Setup: func() (func(), func()) {
			r := rand.New(rand.NewPCG(1, uint64(n)))
			a, b, c := randSlice(r, n*n), randSlice(r, n*n), make([]float32, n*n)
			var impl gonum.Implementation
			prev := runtime.GOMAXPROCS(threads)
			return func() { impl.Sgemm(blas.NoTrans, blas.NoTrans, n, n, n, 1, a, n, b, n, 0, c, n) },
				func() { runtime.GOMAXPROCS(prev) }
		},
	}
}

func similarityCase(impl string, n, d int) Case {
	return Case{
		Kernel: "similarity", Impl: impl, Shape: fmt.Sprintf("%dx%dx%d", n, n, d), Threads: 1,
		FLOPs: 2 * float64(n) * float64(n) * float64(d),
		Setup: func() (func(), func()) {
			r := rand.New(rand.NewPCG(2, uint64(n)))
			a, b, s := randSlice(r, n*d), randSlice(r, n*d), make([]float32, n*n)
			simd.NormalizeRows(a, n, d)
			simd.NormalizeRows(b, n, d)
			restore := useSimd(impl, 1)
			return func() { simd.Similarity(s, a, b, n, n, d, 0.1) }, restore
		},
	}
}

func dotCase(impl string, n int) Case {
	return Case{
		Kernel: "dot", Impl: impl, Shape: fmt.Sprint(n), Threads: 1,
		FLOPs: 2 * float64(n), Bytes: 8 * float64(n),
		Setup: func() (func(), func()) {
			r := rand.New(rand.NewPCG(3, uint64(n)))
			x, y := randSlice(r, n), randSlice(r, n)
			restore := useSimd(impl, 1)
			var sink float32
			return func() { sink += simd.Dot(x, y) }, restore
		},
	}
}

func reverseStepCase(impl string, n int) Case {
	return Case{
		Kernel: "reverse-step", Impl: impl, Shape: fmt.Sprint(n), Threads: 1,
		FLOPs: 5 * float64(n), Bytes: 16 * float64(n),
		Setup: func() (func(), func()) {
			r := rand.New(rand.NewPCG(4, uint64(n)))
			x, eps, z := randSlice(r, n), randSlice(r, n), randSlice(r, n)
			out := make([]float32, n)
			restore := useSimd(impl, 1)
			return func() { simd.ReverseStep(out, x, eps, z, 0.99, -0.05, 0.01) }, restore
		},
	}
}
