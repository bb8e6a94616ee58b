// Package guide holds the guidance of cdp's samplers (METHOD.md sections 2
// and 3): the contrastive losses (InfoNCE and the debiased hard-negative-
// mining loss of Robinson et al. 2021) with hand-derived gradients, the L2
// normalisation backward, and guidance wrappers, which are
// diffusion.EpsModels around another EpsModel that edit its prediction,
// eps' = eps + g(x_t, t).
//
// Which gradient flows: in Contrastive-DP the anchor z_i comes from x_t of
// chain i and the positive z'_i from the same chain one step earlier, cached
// from that step and treated as a constant. Guidance therefore needs dL/dz
// (the anchors) only; the losses also return dL/dz' for completeness and for
// tests, and a wrapper simply ignores it.
package guide
