// Package unet is the class-conditional eps-model of cdp: the U-Net of
// MODELS.md (unet-small, the model of record, and smaller or larger variants
// from the same Config), with forward and backward written over core/nn.
package unet

import (
	"fmt"
	"slices"
	"sort"
	"strings"
)

// Config describes a U-Net of the unet-small family.
type Config struct {
	Name    string `json:"name"`
	InCh    int    `json:"in_channels"` // image channels
	Size    int    `json:"size"`        // image height = width
	Ch      int    `json:"ch"`          // base channels
	Mult    []int  `json:"mult"`        // channel multiplier per level
	Blocks  int    `json:"blocks"`      // residual blocks per level (down path; the up path has Blocks+1)
	AttnRes []int  `json:"attn_res"`    // resolutions that get self-attention after each block (the middle always has it)
	Groups  int    `json:"groups"`      // group-norm groups
	Classes int    `json:"classes"`     // class labels; the embedding has Classes+1 rows (the last is the null class)
}

var presets = map[string]Config{
	// unet-small: MODELS.md, 1,540,737 parameters, 0.355 GMAC per 32x32 image.
	"unet-small": {Name: "unet-small", InCh: 1, Size: 32, Ch: 32, Mult: []int{1, 2, 2}, Blocks: 2, Groups: 8, Classes: 10},
	// unet-tiny: the browser model, under 20 MFLOP per image forward.
	"unet-tiny": {Name: "unet-tiny", InCh: 1, Size: 32, Ch: 8, Mult: []int{1, 1, 2}, Blocks: 1, Groups: 4, Classes: 10},
}

// Presets lists the preset names.
func Presets() []string {
	var names []string
	for n := range presets {
		names = append(names, n)
	}
	sort.Strings(names)
	return names
}

// Preset returns the named configuration.
func Preset(name string) (Config, error) {
	c, ok := presets[name]
	if !ok {
		return Config{}, fmt.Errorf("unet: unknown preset %q (known: %s)", name, strings.Join(Presets(), ", "))
	}
	c.Mult = slices.Clone(c.Mult)
	c.AttnRes = slices.Clone(c.AttnRes)
	return c, nil
}

// Validate reports the first problem with c.
func (c Config) Validate() error {
	switch {
	case c.InCh <= 0:
		return fmt.Errorf("unet: in_channels %d must be positive", c.InCh)
	case c.Ch <= 0 || c.Ch%2 != 0:
		return fmt.Errorf("unet: ch %d must be positive and even", c.Ch)
	case len(c.Mult) == 0:
		return fmt.Errorf("unet: mult is empty")
	case c.Blocks <= 0:
		return fmt.Errorf("unet: blocks %d must be positive", c.Blocks)
	case c.Groups <= 0:
		return fmt.Errorf("unet: groups %d must be positive", c.Groups)
	case c.Classes <= 0:
		return fmt.Errorf("unet: classes %d must be positive", c.Classes)
	}
	if c.Size <= 0 || c.Size%(1<<(len(c.Mult)-1)) != 0 {
		return fmt.Errorf("unet: size %d is not divisible by 2^%d (one halving per level)", c.Size, len(c.Mult)-1)
	}
	for _, m := range c.Mult {
		if m <= 0 || (c.Ch*m)%c.Groups != 0 {
			return fmt.Errorf("unet: channels %d*%d not divisible into %d groups", c.Ch, m, c.Groups)
		}
	}
	if c.Ch%c.Groups != 0 {
		return fmt.Errorf("unet: ch %d not divisible into %d groups", c.Ch, c.Groups)
	}
	return nil
}

// Equal reports whether two configurations describe the same architecture.
func (c Config) Equal(o Config) bool {
	return c.InCh == o.InCh && c.Size == o.Size && c.Ch == o.Ch && slices.Equal(c.Mult, o.Mult) &&
		c.Blocks == o.Blocks && slices.Equal(c.AttnRes, o.AttnRes) && c.Groups == o.Groups && c.Classes == o.Classes
}
