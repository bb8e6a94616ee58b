package ckpt

import (
	"fmt"
	"slices"

	"github.com/cdp-project/cdp/core/nn"
)

// AddParams stores the parameters of p under prefix, one float32 tensor
// prefix+name per view with the view's shape. w is the flat weight buffer to
// store (p.W, or an EMA copy laid out like it); buffers (running statistics)
// come from p.B.
func (c *Checkpoint) AddParams(prefix string, p *nn.Params, w []float32) {
	if len(w) != len(p.W) {
		panic(fmt.Sprintf("ckpt.AddParams: %d weights for a store of %d", len(w), len(p.W)))
	}
	for _, v := range p.Views() {
		src := w
		if v.Buffer {
			src = p.B
		}
		c.AddFloat32(prefix+v.Name, v.Shape, src[v.Offset:v.Offset+v.Size])
	}
}

// LoadParams copies the tensors stored by AddParams under prefix into w (laid
// out like p.W) and p.B. Every view must be present with its shape; nothing
// is changed when an error is returned.
func (c *Checkpoint) LoadParams(prefix string, p *nn.Params, w []float32) error {
	if len(w) != len(p.W) {
		panic(fmt.Sprintf("ckpt.LoadParams: %d weights for a store of %d", len(w), len(p.W)))
	}
	type copyJob struct {
		dst, src []float32
	}
	var jobs []copyJob
	for _, v := range p.Views() {
		data, shape, err := c.Float32(prefix + v.Name)
		if err != nil {
			return err // names the tensor
		}
		if !slices.Equal(shape, v.Shape) {
			return fmt.Errorf("ckpt: parameter %s has shape %v in the file, the model wants %v", v.Name, shape, v.Shape)
		}
		dst := w
		if v.Buffer {
			dst = p.B
		}
		jobs = append(jobs, copyJob{dst[v.Offset : v.Offset+v.Size], data})
	}
	for _, j := range jobs {
		copy(j.dst, j.src)
	}
	return nil
}
