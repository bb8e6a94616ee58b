// Package nn holds neural-network layers whose forward and backward passes are
// written by hand, side by side, over flat float32 buffers.
//
// Conventions:
//   - Activations are NCHW, row-major: (N, C, H, W); vectors are (N, D).
//   - Parameters live in one Params store: a flat weight buffer W, a flat
//     gradient buffer G of the same length and named views into them, so that
//     an optimiser can act on the whole model at once and a checkpoint can
//     walk the names. Layers keep their View and slice the store at each call.
//   - Forward caches what Backward needs (usually a reference to its input, so
//     the caller must not overwrite the input before Backward) and returns an
//     output buffer owned by the layer, reused by the next Forward.
//   - A layer instance serves one place in the network (its caches hold one
//     activation); Backward must follow the Forward whose result it
//     differentiates.
//   - Backward accumulates into the parameter gradients (G += ...) unless
//     Params.NoGrad is set, and returns the input gradient in a buffer owned
//     by the layer, overwritten by the next Backward.
//   - Work is split across simd.Threads() goroutines so that each output is
//     always computed by the same sequence of operations: results are
//     bit-identical for every thread count.
//   - Initialisation follows PyTorch's defaults with an explicit seeded
//     *rand.Rand.
package nn
