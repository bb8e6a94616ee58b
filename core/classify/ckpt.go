package classify

import (
	"fmt"
	"math/rand/v2"

	"github.com/cdp-project/cdp/core/ckpt"
)

// Arch is the checkpoint architecture tag of a classifier; the Config inside
// names the model.
const Arch = "classifier"

// Checkpoint stores the weights w (m.P.W or an EMA copy laid out like it)
// with the configuration and the metadata meta.
func (m *Net) Checkpoint(w []float32, meta any) (*ckpt.Checkpoint, error) {
	c, err := ckpt.New(Arch, m.Cfg)
	if err != nil {
		return nil, err
	}
	if meta != nil {
		if err := c.SetMeta(meta); err != nil {
			return nil, err
		}
	}
	c.AddParams("weights/", m.P, w)
	return c, nil
}

// Load builds the classifier stored in a checkpoint.
func Load(c *ckpt.Checkpoint) (*Net, error) {
	if err := c.CheckArch(Arch); err != nil {
		return nil, err
	}
	var cfg Config
	if err := c.DecodeConfig(&cfg); err != nil {
		return nil, err
	}
	m, err := New(cfg, rand.New(rand.NewPCG(0, 0)))
	if err != nil {
		return nil, fmt.Errorf("classify: checkpoint holds an invalid model: %w", err)
	}
	if err := c.LoadParams("weights/", m.P, m.P.W); err != nil {
		return nil, err
	}
	return m, nil
}
