// Package chromium finds the browser that browser tests drive with
// chromedp, and says how a test must start it.
//
// It hands out a path and switches, not a chromedp context: libs is built by
// every service, and chromedp with its protocol package would then be a
// dependency of all of them, while only two modules' tests drive a
// browser (both already require chromedp). It lives apart from testkit so
// that a test importing it does not also build the embedded NATS server
// and the MinIO client.
package chromium

import (
	"os"
	"testing"
)

// Path is Debian's chromium, which `make deps` installs.
const Path = "/usr/bin/chromium"

// Find returns the browser's path and the switches (each to be turned on)
// of a headless run in a test: no sandbox (tests run as root in
// containers), no GPU, and none of the background traffic to Google that
// would hang a test on a closed network. It fails the test, naming
// `make deps`, when the browser is missing; it never skips.
func Find(t testing.TB) (path string, switches []string) {
	t.Helper()
	if _, err := os.Stat(Path); err != nil {
		t.Fatalf("the browser test needs Debian's chromium at %s (apt-get install -y chromium, or make deps): %v", Path, err)
	}
	return Path, []string{
		"headless", "no-sandbox", "disable-gpu", "disable-quic", "no-first-run",
		"disable-background-networking", "disable-component-update", "disable-sync",
	}
}
