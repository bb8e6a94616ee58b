// Package diffusion holds the Gaussian diffusion process of cdp (METHOD.md
// section 1): noise schedules computed in float64, the forward process
// q(x_t | x_0), the eps-prediction loss, the EpsModel interface, and the
// reverse samplers (DDPM ancestral on a sub-sequence of steps, DDIM with
// eta >= 0), which share one signature and one batch loop with per-image
// reproducible noise.
package diffusion
