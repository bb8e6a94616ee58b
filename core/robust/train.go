package robust

import (
	"math/rand/v2"
)

// PGDExample returns the adversarial examples (N, D) of PGD adversarial
// training (Madry et al. 2018) for x (N, D) with labels y: a uniform random
// start in the eps-ball, then steps iterations x' <- P(x' + alpha s(grad CE)),
// s the sign (l_inf) or normalised gradient (l_2), P the projection onto the
// ball and [0, 1]. It returns the last iterate (not the worst one seen), as
// training recipes do. f must not accumulate parameter gradients meanwhile.
func PGDExample(f Classifier, x []float32, y []int, p Norm, eps, alpha float32, steps int, rng *rand.Rand) []float32 {
	n, d, k := checkAttackArgs("PGDExample", f, x, y)
	checkEps("PGDExample", eps)
	xa := make([]float32, len(x))
	if n == 0 {
		return xa
	}
	uniformBall(xa, x, d, p, eps, rng)
	eta := fill(n, alpha)
	for range steps {
		_, g := gradient(f, xa, n, k, CE, lossArgs{y: y}, nil)
		ascend(xa, g, d, p, eta)
		project(xa, x, d, p, eps)
	}
	return xa
}

// TRADESExample returns the adversarial examples (N, D) of TRADES (Zhang et
// al. 2019) for x (N, D): from x + 0.001 N(0, I), steps iterations
// x' <- P(x' + alpha s(grad KL(p(x) || p(x')))), p = softmax of the logits,
// P the projection onto the eps-ball and [0, 1]. Labels are not used.
func TRADESExample(f Classifier, x []float32, n int, p Norm, eps, alpha float32, steps int, rng *rand.Rand) []float32 {
	d := dim(x, n, "TRADESExample")
	checkEps("TRADESExample", eps)
	k := f.NumClasses()
	xa := make([]float32, len(x))
	if n == 0 {
		return xa
	}
	z := f.Logits(x, n)
	checkLogits("TRADESExample", z, n, k)
	a := lossArgs{p: softmaxRows(z, n, k), y: make([]int, n)}
	for j := range xa {
		xa[j] = x[j] + float32(0.001*rng.NormFloat64())
	}
	project(xa, x, d, p, eps)
	eta := fill(n, alpha)
	for range steps {
		_, g := gradient(f, xa, n, k, KL, a, nil)
		ascend(xa, g, d, p, eta)
		project(xa, x, d, p, eps)
	}
	return xa
}

func fill(n int, v float32) []float32 {
	s := make([]float32, n)
	for i := range s {
		s[i] = v
	}
	return s
}
