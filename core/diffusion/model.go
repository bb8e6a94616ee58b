package diffusion

// Timestep convention. Timesteps run t = 1..T as in METHOD.md (the window
// "50 < t < 150 of 1000" counts in these units). The Schedule arrays have
// length T+1 and are indexed by t directly; index 0 holds the clean data
// (Beta[0] = 0, Alpha[0] = AlphaBar[0] = 1). PyTorch code such as
// improved-diffusion numbers the same steps 0..T-1: its index k is our t = k+1.

// Step describes the reverse step during which an EpsModel is called: the
// model sees x at timestep T and the sampler will move it to the (less noisy)
// timestep Next. Guidance wrappers read what they need from it: a window over
// T, First to know that no previous step (and so no cached positive) exists,
// sqrt(1 - AlphaBar) for classifier guidance, AlphaBar to form x0hat.
type Step struct {
	T            int     // timestep t of x, in 1..Schedule.T
	Next         int     // timestep s < t the step moves to; 0 on the last step
	AlphaBar     float64 // alphaBar_t
	AlphaBarNext float64 // alphaBar_s (the papers' alphaBar_{t-1} for unit steps); 1 on the last step
	Index        int     // position of the step in the trajectory: 0 for the first (noisiest) step
	Steps        int     // number of steps in the trajectory
	Offset       int     // global index of the first image of the batch (for sharded runs)
}

// First reports whether this is the first step of the trajectory, where no
// previous step (and so no cached contrastive positive) exists.
func (s Step) First() bool { return s.Index == 0 }

// Last reports whether this is the last step of the trajectory (Next == 0).
func (s Step) Last() bool { return s.Index == s.Steps-1 }

// EpsModel predicts the noise eps(x_t, t, y) of a batch.
//
// x and eps are (N, D) row-major with N = len(y) and D = Dim(); the model
// writes its prediction into eps and must not modify x. y holds class labels;
// a negative label means "no label" (unconditional or classifier-free null
// label). Guidance is an EpsModel wrapping another one: eps' = eps + g(x_t, t).
//
// A sampler calls Eps once per step, in trajectory order, batch after batch;
// a wrapper that caches state across steps (the contrastive positive) may rely
// on that order and on Step.First marking the start of a new batch, and need
// not be safe for concurrent use. Eps panics on shape mismatch and returns an
// error for failures of the model itself.
type EpsModel interface {
	Eps(eps, x []float32, y []int, s Step) error
	// Dim returns D, the number of values per item (C*H*W for images).
	Dim() int
}

// NullLabel is the label of an unconditional item (classifier-free guidance's
// null class); any negative label is treated the same way.
const NullLabel = -1
