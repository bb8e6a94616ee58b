package bench

import (
	"math/rand/v2"
	"slices"
	"testing"

	"github.com/cdp-project/cdp/core/data"
	"github.com/cdp-project/cdp/core/robust"
)

func TestRobustCasesRegistered(t *testing.T) {
	want := []string{"trades-epoch/mnist-net", "eval-apgd-ce/mnist-net", "eval-apgd-t1/mnist-net", "eval-square100/mnist-net"}
	var got []string
	for _, c := range Cases() {
		if slices.Contains(want, c.Kernel) {
			got = append(got, c.Kernel)
		}
	}
	if !slices.Equal(got, want) {
		t.Errorf("registered robustness cases %v, want %v", got, want)
	}
}

// TestPinnedIsNeverFooled: the eval cases spend their whole budget only if
// no attack fools the pinned classifier; its input gradients are the net's.
func TestPinnedIsNeverFooled(t *testing.T) {
	test := embedded(data.Test)
	const n = 32
	x := test.Images[:n*test.Size()]
	y := make([]int, n)
	net := newMNISTNet()
	f := &pinned{net: net}
	atk := robust.PGD{Norm: robust.Linf, Eps: 0.3, Steps: 5, Loss: robust.Margin}
	xa := atk.Perturb(f, x, y, rand.New(rand.NewPCG(1, 1)))
	if acc, _ := robust.Accuracy(f, xa, y, 0); acc != 1 {
		t.Errorf("the pinned classifier was fooled: accuracy %v", acc)
	}
	dz := make([]float32, n*10)
	for i := range dz {
		dz[i] = float32(i%7) - 3
	}
	f.Logits(x, n)
	g := append([]float32(nil), f.InputGrad(dz)...)
	net.Logits(x, n)
	if !slices.Equal(g, net.InputGrad(dz)) {
		t.Error("the pinned classifier's input gradient differs from the net's")
	}
}
