package main

import (
	"fmt"
	"io"
	"os"
	"time"

	"github.com/schollz/progressbar/v3"
)

// progress shows a bar with a description (loss, speed), the count, the
// rate and the ETA on stderr; when stderr is not a terminal it prints a
// plain line every few seconds instead, so logs stay readable.
type progress struct {
	bar   *progressbar.ProgressBar
	w     io.Writer
	what  string
	total int
	start time.Time
	last  time.Time
}

func isTerminal(w io.Writer) bool {
	f, ok := w.(*os.File)
	if !ok {
		return false
	}
	st, err := f.Stat()
	return err == nil && st.Mode()&os.ModeCharDevice != 0
}

func newProgress(w io.Writer, total int, what string) *progress {
	p := &progress{w: w, what: what, total: total, start: time.Now()}
	if isTerminal(w) {
		p.bar = progressbar.NewOptions(total,
			progressbar.OptionSetWriter(w),
			progressbar.OptionSetDescription(what),
			progressbar.OptionShowCount(),
			progressbar.OptionShowIts(),
			progressbar.OptionSetItsString("step"),
			progressbar.OptionSetPredictTime(true),
			progressbar.OptionThrottle(200*time.Millisecond),
			progressbar.OptionSetWidth(30),
			progressbar.OptionShowDescriptionAtLineEnd(),
		)
	}
	return p
}

// set moves the bar to n without a message (resumed runs).
func (p *progress) set(n int) {
	if p.bar != nil {
		p.bar.Set(n)
	}
}

// update moves the bar to n and shows msg.
func (p *progress) update(n int, msg string) {
	if p.bar != nil {
		p.bar.Describe(p.what + " " + msg)
		p.bar.Set(n)
		return
	}
	now := time.Now()
	if now.Sub(p.last) < 5*time.Second && n != p.total {
		return
	}
	p.last = now
	el := now.Sub(p.start).Seconds()
	fmt.Fprintf(p.w, "%s %d/%d %s (%.1f s elapsed)\n", p.what, n, p.total, msg, el)
}

func (p *progress) finish() {
	if p.bar != nil {
		p.bar.Finish()
		fmt.Fprintln(p.w)
	}
}
