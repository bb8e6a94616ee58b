package generate

import (
	"errors"
	"math"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"

	"github.com/cdp-project/cdp/core/diffusion"
)

func TestSamplerConfig(t *testing.T) {
	sched, err := diffusion.ScheduleByName("cosine", 1000)
	if err != nil {
		t.Fatal(err)
	}
	c, err := Sampler{Name: "ddim", Steps: 50, Eta: 0.5, Spacing: "even", Clip: true}.Config(sched)
	if err != nil {
		t.Fatal(err)
	}
	if c.Schedule != sched || !c.Clip || c.Sampler == nil || !slices.Equal(c.Timesteps, diffusion.Timesteps(1000, 50, diffusion.Even)) {
		t.Errorf("config %+v", c)
	}
	for _, bad := range []struct {
		s      Sampler
		option string
		msg    string
	}{
		{Sampler{Name: "ddpm", Steps: 0, Spacing: "linspace"}, "steps", "0 must lie in 1..1000"},
		{Sampler{Name: "ddpm", Steps: 1001, Spacing: "linspace"}, "steps", "1001 must lie in 1..1000"},
		{Sampler{Name: "ddim", Steps: 10, Eta: math.NaN(), Spacing: "linspace"}, "eta", "NaN must be finite"},
		{Sampler{Name: "ddim", Steps: 10, Eta: -1, Spacing: "linspace"}, "eta", "-1 must be finite and not negative"},
		{Sampler{Name: "ddim", Steps: 10, Spacing: "log"}, "spacing", `unknown spacing "log"`},
		{Sampler{Name: "euler", Steps: 10, Spacing: "linspace"}, "sampler", `unknown sampler "euler"`},
	} {
		_, err := bad.s.Config(sched)
		var oe *OptionError
		if !errors.As(err, &oe) || oe.Option != bad.option || !strings.Contains(oe.Msg, bad.msg) {
			t.Errorf("%+v: %v, want %s %s", bad.s, err, bad.option, bad.msg)
		}
	}
}

func TestMeasure(t *testing.T) {
	_, net := tiny(t)
	r := rand.New(rand.NewPCG(5, 6))
	const n, size = 6, 32
	x := make([]float32, n*size*size)
	for i := range x {
		x[i] = float32(2*r.Float64() - 1)
	}
	y := []int{0, 1, 2, 3, 4, 5}
	st, err := Measure(net, x, y, size)
	if err != nil {
		t.Fatal(err)
	}
	// The reference: the classifier on the 28x28 centre crops in [0, 1].
	crop := make([]float32, n*28*28)
	for i := 0; i < n; i++ {
		for r := 0; r < 28; r++ {
			for c := 0; c < 28; c++ {
				crop[i*784+r*28+c] = 0.5*x[i*size*size+(r+2)*size+c+2] + 0.5
			}
		}
	}
	fs, d := net.Features().Features(crop, n)
	var sum float64
	for i := 0; i < n; i++ {
		for j := i + 1; j < n; j++ {
			var dot, ni, nj float64
			for k := 0; k < d; k++ {
				a, b := float64(fs[i*d+k]), float64(fs[j*d+k])
				dot, ni, nj = dot+a*b, ni+a*a, nj+b*b
			}
			sum += dot / math.Sqrt(ni*nj)
		}
	}
	if want := sum / (n * (n - 1) / 2); math.Abs(st.MeanCosine-want) > 1e-5 {
		t.Errorf("mean cosine %v, want %v", st.MeanCosine, want)
	}
	logits := net.Logits(crop, n)
	right := 0
	for i := range y {
		row := logits[i*10 : i*10+10]
		if slices.Index(row, slices.Max(row)) == y[i] {
			right++
		}
	}
	if want := float64(right) / n; st.Agreement != want {
		t.Errorf("agreement %v, want %v", st.Agreement, want)
	}
	// Identical samples have cosine 1 (when their features are not zero).
	same := slices.Repeat(x[:size*size], 3)
	if st, err := Measure(net, same, []int{0, 0, 0}, size); err != nil || math.Abs(st.MeanCosine-1) > 1e-5 {
		t.Errorf("identical samples: %+v %v", st, err)
	}
	if _, err := Measure(net, x[:size*size], []int{0}, size); err == nil {
		t.Error("one sample accepted")
	}
	if _, err := Measure(net, x[:5], y, size); err == nil {
		t.Error("short input accepted")
	}
}
