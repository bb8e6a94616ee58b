package sim

import (
	"fmt"
	"math"
)

// Distinguishability collects measures of how far apart two isotropic
// Gaussian class-conditionals N(mu1, s1^2 I_d) and N(mu2, s2^2 I_d) are.
type Distinguishability struct {
	Separation    float64 `json:"separation"`    // ||mu1 - mu2|| / sqrt((s1^2 + s2^2)/2)
	Bhattacharyya float64 `json:"bhattacharyya"` // Bhattacharyya distance D_B
	TVLower       float64 `json:"tv_lower"`      // lower bound on total variation (exact TV when s1 = s2)
	TVUpper       float64 `json:"tv_upper"`      // upper bound on total variation (exact TV when s1 = s2)
	Fisher        float64 `json:"fisher"`        // Fisher ratio ||mu1 - mu2||^2 / (s1^2 + s2^2)
}

// Distinguish returns the distinguishability of N(mu1, s1^2 I) and N(mu2, s2^2 I).
// With equal spreads the total variation is exact: TV = 2 Phi(||mu1 - mu2|| / (2 s)) - 1
// (the likelihood ratio test projects onto mu1 - mu2). Otherwise TV is
// bracketed by the Bhattacharyya coefficient BC = exp(-D_B):
// 1 - BC <= TV <= sqrt(1 - BC^2).
func Distinguish(mu1, mu2 []float64, s1, s2 float64) Distinguishability {
	if len(mu1) != len(mu2) {
		panic(fmt.Sprintf("sim: distinguishing means of lengths %d and %d", len(mu1), len(mu2)))
	}
	var delta2 float64
	for i := range mu1 {
		v := mu1[i] - mu2[i]
		delta2 += v * v
	}
	d := float64(len(mu1))
	sbar2 := (s1*s1 + s2*s2) / 2
	var out Distinguishability
	out.Separation = math.Sqrt(delta2 / sbar2)
	out.Fisher = delta2 / (s1*s1 + s2*s2)
	out.Bhattacharyya = delta2/(8*sbar2) + d/2*math.Log(sbar2/(s1*s2))
	if s1 == s2 {
		tv := 2*Phi(math.Sqrt(delta2)/(2*s1)) - 1
		out.TVLower, out.TVUpper = tv, tv
	} else {
		bc := math.Exp(-out.Bhattacharyya)
		out.TVLower, out.TVUpper = 1-bc, math.Sqrt(1-bc*bc)
	}
	return out
}

// Distinguish returns the distinguishability of the model's two classes,
// N(+mu, sigma^2 I) and N(-mu, sigma^2 I): separation 2||mu||/sigma,
// TV = 2 Phi(||mu||/sigma) - 1, D_B = ||mu||^2 / (2 sigma^2).
func (b Binary) Distinguish() Distinguishability {
	neg := make([]float64, len(b.Mu))
	for i, m := range b.Mu {
		neg[i] = -m
	}
	return Distinguish(b.Mu, neg, b.Sigma, b.Sigma)
}
