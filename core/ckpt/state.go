package ckpt

import (
	"fmt"
	"strings"

	"github.com/cdp-project/cdp/core/optim"
)

// AddOptimState stores an optimiser or EMA state under prefix:
// prefix+"/kind" (bytes), prefix+"/step" (int64, shape [1]) and one float32
// tensor prefix+"/"+name per buffer.
func (c *Checkpoint) AddOptimState(prefix string, s optim.State) {
	c.AddBytes(prefix+"/kind", []byte(s.Kind))
	c.AddInt64(prefix+"/step", []int{1}, []int64{s.Step})
	for _, name := range s.Names() {
		b := s.Buffers[name]
		c.AddFloat32(prefix+"/"+name, []int{len(b)}, b)
	}
}

// OptimState returns the state stored by AddOptimState under prefix, ready
// for the optimiser's SetState (which checks kind and buffer sizes).
func (c *Checkpoint) OptimState(prefix string) (optim.State, error) {
	kind, err := c.Bytes(prefix + "/kind")
	if err != nil {
		return optim.State{}, err
	}
	step, _, err := c.Int64(prefix + "/step")
	if err != nil {
		return optim.State{}, err
	}
	if len(step) != 1 {
		return optim.State{}, fmt.Errorf("ckpt: %s/step holds %d values, want 1", prefix, len(step))
	}
	s := optim.State{Kind: string(kind), Step: step[0], Buffers: map[string][]float32{}}
	for i := range c.Tensors {
		t := &c.Tensors[i]
		name, ok := strings.CutPrefix(t.Name, prefix+"/")
		if !ok || name == "kind" || name == "step" || strings.Contains(name, "/") {
			continue
		}
		if t.DType != Float32 {
			return optim.State{}, fmt.Errorf("ckpt: tensor %q is %s, not float32", t.Name, t.DType)
		}
		s.Buffers[name] = t.F32
	}
	return s, nil
}
