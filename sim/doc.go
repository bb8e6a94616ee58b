// Package sim holds the Gaussian-mixture theory of cdp: closed forms for the
// clean and robust accuracy of linear classifiers on isotropic Gaussian
// models, the distribution of the averaging estimator trained on synthetic
// (and real) samples, estimators trained on samples (averaging, l_inf-robust
// logistic regression), distinguishability measures, Monte Carlo estimates
// with confidence intervals, the exact eps-model of a noised Gaussian mixture
// (a diffusion.EpsModel) and an experiment registry shared by the `cdp sim`
// command and the browser.
//
// The paper's theorem statements were not available to us. Every result in
// this package is derived by us for the model the paper's abstract
// describes (Schmidt et al. 2018's binary Gaussian model with a synthetic
// generator of its own mean and spread); docs/theory.md states them with
// short derivations and says which are exact and which approximate.
//
// Conventions: vectors are []float64; a batch of N points in d dimensions is
// a flat (N, d) row-major slice. Every random function takes an explicit
// *rand.Rand (math/rand/v2), so the same seed gives the same numbers natively
// and under GOOS=js GOARCH=wasm (up to the last bits of math.Exp/Log, which
// have assembly versions on amd64).
package sim
