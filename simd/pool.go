package simd

import (
	"iter"
	"runtime"
	"sync"
	"sync/atomic"
	"time"
)

// Parallel runs f(w) for every w in [0, workers) and returns when all have
// returned. f(0) runs on the calling goroutine; the others go to a pool of
// long-lived worker goroutines, which spin for a while (yielding to any
// other runnable goroutine) after each job before they park. Waking a parked
// goroutine costs tens of microseconds on a virtual machine (about 80 here,
// an inter-processor interrupt), which a fresh `go` statement per parallel
// section paid every time: as much as a 256^3 sgemm's whole share of the
// second core. When every pool worker is busy (a Parallel inside another),
// the caller runs the remaining f(w) itself, so nesting never deadlocks.
// Which goroutine runs f(w) never changes what f(w) computes.
func Parallel(workers int, f func(w int)) {
	if workers <= 1 {
		f(0)
		return
	}
	var wg sync.WaitGroup
	var inline []int
	for w := 1; w < workers; w++ {
		wg.Add(1)
		if !workerPool.give(job{f: f, w: w, wg: &wg}) {
			wg.Done()
			inline = append(inline, w)
		}
	}
	f(0)
	for _, w := range inline {
		f(w)
	}
	wg.Wait()
}

// SpinTime is how long an idle pool worker keeps looking for work before it
// parks (default 200 microseconds; 0: park at once).
var SpinTime atomic.Int64

func init() { SpinTime.Store(int64(200 * time.Microsecond)) }

type job struct {
	f  func(w int)
	w  int
	wg *sync.WaitGroup
}

// Worker states.
const (
	workerSpinning = iota // looking at its job slot
	workerParked          // blocked on wake
	workerBusy            // claimed by a dispatcher or running a job
)

type poolWorker struct {
	state atomic.Int32
	slot  atomic.Pointer[job]
	wake  chan struct{}
}

type pool struct {
	once    sync.Once
	mu      sync.Mutex
	workers []*poolWorker
}

var workerPool pool

// give hands j to a spinning worker, else to a parked one, starting a new
// worker while there are fewer than GOMAXPROCS-1; it reports false when all
// are busy.
func (p *pool) give(j job) bool {
	p.mu.Lock()
	ws := p.workers
	if n := runtime.GOMAXPROCS(0) - 1; len(ws) < n {
		for len(p.workers) < n {
			w := &poolWorker{wake: make(chan struct{}, 1)}
			w.state.Store(workerParked)
			p.workers = append(p.workers, w)
			go w.loop()
		}
		ws = p.workers
	}
	p.mu.Unlock()
	for _, w := range ws {
		if w.state.CompareAndSwap(workerSpinning, workerBusy) {
			w.slot.Store(&j)
			return true
		}
	}
	for _, w := range ws {
		if w.state.CompareAndSwap(workerParked, workerBusy) {
			w.slot.Store(&j)
			w.wake <- struct{}{}
			return true
		}
	}
	return false
}

func (w *poolWorker) loop() {
	for {
		<-w.wake
		for {
			j := w.slot.Swap(nil)
			j.f(j.w)
			j.wg.Done()
			if !w.spin() {
				break
			}
		}
	}
}

// spin marks w spinning and waits up to SpinTime for a job, yielding the
// processor to any other runnable goroutine meanwhile. It returns true when
// a dispatcher claimed w (its job is in, or about to be in, the slot), false
// when w parked instead.
func (w *poolWorker) spin() bool {
	w.state.Store(workerSpinning)
	deadline := time.Now().Add(time.Duration(SpinTime.Load()))
	for i := 0; ; i++ {
		if w.state.Load() == workerBusy {
			for w.slot.Load() == nil {
				runtime.Gosched()
			}
			return true
		}
		if i%16 == 15 && time.Now().After(deadline) {
			if w.state.CompareAndSwap(workerSpinning, workerParked) {
				return false
			}
			continue // claimed just now
		}
		runtime.Gosched()
	}
}

// taken yields the task numbers 0..n-1 that this worker takes first from the
// shared counter next (zero before the workers start): each task goes to
// exactly one worker, whoever asks first, so an unevenly loaded machine
// keeps every worker busy. Results must not depend on who takes what.
func taken(next *atomic.Int32, n int) iter.Seq[int] {
	return func(yield func(int) bool) {
		for {
			t := int(next.Add(1)) - 1
			if t >= n || !yield(t) {
				return
			}
		}
	}
}
