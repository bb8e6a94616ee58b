// Package simd holds the float32 kernels that every hot loop of cdp runs on:
// dot products, axpy, element-wise arithmetic, the fused reverse-diffusion
// update, row normalisation, the pairwise similarity matrix, row softmax and
// sgemm, and Winograd's F(2x2, 3x3) 3x3 convolution where a set has its
// transforms.
//
// Every kernel has a generic Go reference (always compiled, its doc comment
// is its loop) and, where the platform allows, assembly variants. A kernel
// set is chosen once at start-up from the CPU's features (see dispatch.go);
// Use forces a set and Impl names the one in use. The exported API never
// names an instruction set.
//
// Shapes are row-major. Length or shape mismatches are programmer errors and
// panic with a message that names the kernel and the sizes.
package simd
