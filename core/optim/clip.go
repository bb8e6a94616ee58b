package optim

import "math"

// ClipGradNorm scales dw in place so that its L2 norm is at most maxNorm, as
// torch.nn.utils.clip_grad_norm_ does (coefficient maxNorm/(norm+1e-6),
// applied only when below 1), and returns the norm before clipping. The norm
// is accumulated in float64. When the norm is NaN or infinite, dw is left
// unchanged (torch would scale it by NaN) so the caller can skip the step.
func ClipGradNorm(dw []float32, maxNorm float64) float64 {
	var ss float64
	for _, g := range dw {
		ss += float64(g) * float64(g)
	}
	norm := math.Sqrt(ss)
	if math.IsNaN(norm) || math.IsInf(norm, 0) {
		return norm
	}
	// The coefficient is computed in float32 as torch does with its float32
	// norm tensor.
	c := float32(maxNorm) / (float32(norm) + float32(1e-6))
	if c < 1 {
		for i := range dw {
			dw[i] *= c
		}
	}
	return norm
}
