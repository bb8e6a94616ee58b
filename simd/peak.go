package simd

// PeakLoop runs iters iterations of this CPU's peak arithmetic: independent
// fused multiply-adds on full vectors held in registers, with no memory
// traffic (the instruction mix the sgemm micro-kernel is made of). It returns
// the floating-point operations done, or 0, running nothing, where cdp has no
// such loop for this CPU (it does for AVX2 with FMA). Benchmarks time it in
// the same run as sgemm, so that a kernel's GFLOP/s can be read as a share of
// what the core delivers at that moment (clock speeds move on a shared
// machine). It does not depend on the kernel set chosen with Use.
func PeakLoop(iters int) float64 {
	if iters <= 0 || !peakLoopSupported() {
		return 0
	}
	return peakLoop(iters)
}
