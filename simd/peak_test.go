package simd

import (
	"slices"
	"testing"
	"time"
)

// TestPeakLoop checks that the calibration loop runs where it should, does
// the work it reports (its time grows with iters) and runs nothing for
// iters <= 0.
func TestPeakLoop(t *testing.T) {
	if got := PeakLoop(0); got != 0 {
		t.Fatalf("PeakLoop(0) = %v, want 0", got)
	}
	if got := PeakLoop(-5); got != 0 {
		t.Fatalf("PeakLoop(-5) = %v, want 0", got)
	}
	if slices.Contains(Supported(), "avx2") && !peakLoopSupported() {
		t.Fatal("the avx2 kernel set runs here but PeakLoop does not")
	}
	if !peakLoopSupported() {
		if PeakLoop(10) != 0 {
			t.Fatal("PeakLoop reports work on a CPU without a peak loop")
		}
		return
	}
	if got := PeakLoop(10); got != 1920 {
		t.Fatalf("PeakLoop(10) = %v FLOPs, want 1920", got)
	}
	timeOf := func(n int) time.Duration {
		best := time.Duration(1 << 62)
		for range 5 {
			t0 := time.Now()
			PeakLoop(n)
			best = min(best, time.Since(t0))
		}
		return best
	}
	// 2e7 iterations are 3.8e9 FLOPs: at least 10 ms on any CPU of today,
	// against microseconds for 2e3.
	if small, large := timeOf(2e3), timeOf(2e7); large < 100*small || large < 5*time.Millisecond {
		t.Fatalf("PeakLoop(2e7) took %v and PeakLoop(2e3) %v: the loop does not do the work it reports", large, small)
	}
}
