// Package robust holds adversarial attacks on image classifiers and the
// robustness evaluation of METHOD.md sections 5 and 6.
//
// Attacks work against the small Classifier interface: inputs in [0, 1],
// flattened to (N, D), logits (N, K) out, and a backward pass from dlogits to
// the input gradient. A model built from core/nn layers implements it with one
// Forward and one Backward (with Params.NoGrad set).
//
// What is here:
//   - FGSM, PGD (l_inf and l_2, cross-entropy or margin loss, random start,
//     restarts keeping the per-point worst case);
//   - APGD-CE (and APGD-DLR) and APGD-T with the targeted DLR loss, after
//     Croce and Hein (2020), "Reliable evaluation of adversarial robustness
//     with an ensemble of diverse parameter-free attacks";
//   - Square (l_inf), after Andriushchenko et al. (2020), "Square Attack: a
//     query-efficient black-box adversarial attack via random search";
//   - Evaluate: the standard sequence (APGD-CE, APGD-T, Square; FAB-T is not
//     implemented and is listed as skipped), each attack run only on the points
//     still robust, with a JSON Report in the spirit of RobustBench and
//     warnings for gradient masking in the spirit of AutoAttack's checks;
//   - PGDExample and TRADESExample, the inner maximisations of PGD-AT and
//     TRADES (their outer losses are nn.CrossEntropy and nn.KLDivergence).
//
// Every random function takes an explicit seeded *rand.Rand; Evaluate derives
// its streams from Config.Seed, so the same seed gives the same report.
package robust
