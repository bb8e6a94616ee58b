package simd_test

import (
	"strings"
	"testing"

	"github.com/cdp-project/cdp/bench"
)

// The benchmarks run the cases registered in package bench (every kernel
// set this CPU supports, and gonum for sgemm), named
// Benchmark<Kernel>/shape=.../threads=.../impl=<set> for benchstat -col /impl.
func runCases(b *testing.B, kernel string) {
	for _, c := range bench.Cases() {
		if c.Kernel != kernel {
			continue
		}
		b.Run(strings.TrimPrefix(c.Name(), kernel+"/"), func(b *testing.B) {
			op, restore := c.Setup()
			if restore != nil {
				defer restore()
			}
			op()
			b.ResetTimer()
			for b.Loop() {
				op()
			}
			if c.FLOPs > 0 {
				b.ReportMetric(c.FLOPs*float64(b.N)/b.Elapsed().Seconds()/1e9, "GFLOP/s")
			}
		})
	}
}

func BenchmarkSgemm(b *testing.B)       { runCases(b, "sgemm") }
func BenchmarkFMAPeak(b *testing.B)     { runCases(b, "fma-peak") }
func BenchmarkSimilarity(b *testing.B)  { runCases(b, "similarity") }
func BenchmarkDot(b *testing.B)         { runCases(b, "dot") }
func BenchmarkReverseStep(b *testing.B) { runCases(b, "reverse-step") }
