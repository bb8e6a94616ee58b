// Package optim holds the optimisers that train cdp's models: SGD with
// momentum, Nesterov and weight decay; Adam and AdamW; an exponential moving
// average (EMA) of weights; learning-rate schedules (constant and cosine with
// linear warm-up, one-cycle); and clipping of gradients by their global norm.
//
// Everything works on flat float32 buffers: the parameters w and their
// gradients dw are one []float32 each, as core/nn stores them. Parameters
// that take no weight decay (norm scales and shifts, biases) are named by
// Groups, ranges [Offset, Offset+Len) of the flat buffer with NoDecay set.
//
// The update formulas are those of PyTorch 1.13 (torch.optim.SGD with
// dampening 0, torch.optim.Adam, torch.optim.AdamW, the single-tensor code
// path), in float32 with the scalar factors (bias corrections, step sizes)
// computed in float64 as Python floats and rounded to float32 where torch
// rounds them. Where torch's CPU kernels compute a + alpha*b (add with alpha,
// addcmul) the product is fused with the sum (one rounding, math.FMA), as
// torch's AVX2 kernels do; elsewhere every operation rounds to float32. The
// parity test runs the same gradient sequence through torch and compares the
// trajectories: they agree bit for bit on x86-64 except after gradient
// clipping, whose norm torch sums per tensor (about one float32 ulp).
// math.FMA is exact on every platform (in software where the CPU lacks FMA),
// so results do not depend on the machine.
//
// Optimiser and EMA state (momentum buffers, Adam moments, step counts) is
// exported as a State and restored with SetState, so that a run resumed from
// a checkpoint continues bit for bit as the uninterrupted run would.
package optim
