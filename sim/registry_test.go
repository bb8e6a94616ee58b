package sim

import (
	"strings"
	"testing"
)

func TestRegistryValidation(t *testing.T) {
	e, err := Lookup("spread")
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		over map[string]float64
		want string
	}{
		{map[string]float64{"d": 0}, "parameter d = 0 must be an integer in [1, 5000]"},
		{map[string]float64{"d": 2.5}, "parameter d = 2.5 must be an integer"},
		{map[string]float64{"eps": -1}, "parameter eps = -1 must be a number in [0, 10]"},
		{map[string]float64{"nope": 1}, `no parameter "nope"`},
		{map[string]float64{"sigmaMin": 2, "sigmaMax": 1}, "sigmaMin (2) must be below sigmaMax (1)"},
	} {
		_, err := e.Run(tc.over, 1, nil)
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%v: error %v, want it to contain %q", tc.over, err, tc.want)
		}
	}
	if _, err := e.Parse(map[string]string{"d": "x"}); err == nil || !strings.Contains(err.Error(), "parameter d") {
		t.Errorf("parse error %v", err)
	}
	if _, err := Lookup("nope"); err == nil || !strings.Contains(err.Error(), "spread") {
		t.Errorf("lookup error %v should list the experiments", err)
	}
}
