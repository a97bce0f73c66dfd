package chromium

import (
	"os/exec"
	"slices"
	"testing"
)

// The browser `make deps` installs is there and runs, and the switches keep
// it headless.
func TestFindReturnsARunnableHeadlessBrowser(t *testing.T) {
	path, switches := Find(t)
	out, err := exec.Command(path, "--version").CombinedOutput()
	if err != nil {
		t.Fatalf("%s --version: %v: %s", path, err, out)
	}
	if !slices.Contains(switches, "headless") || !slices.Contains(switches, "no-sandbox") {
		t.Errorf("switches %v lack headless or no-sandbox", switches)
	}
}
