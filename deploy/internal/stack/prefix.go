package stack

import (
	"bytes"
	"fmt"
	"io"
	"sync"
)

var writeMu sync.Mutex

// prefixed returns a writer that prefixes every line with "[name] ", so the
// interleaved output of many processes stays readable. Writes from all
// prefixed writers are serialised line by line.
func prefixed(w io.Writer, name string) io.Writer {
	return &prefixWriter{w: w, prefix: []byte(fmt.Sprintf("%-13s| ", name))}
}

type prefixWriter struct {
	w      io.Writer
	prefix []byte
	buf    []byte
	mu     sync.Mutex
}

func (p *prefixWriter) Write(b []byte) (int, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.buf = append(p.buf, b...)
	for {
		i := bytes.IndexByte(p.buf, '\n')
		if i < 0 {
			break
		}
		writeMu.Lock()
		_, err := p.w.Write(append(append([]byte{}, p.prefix...), p.buf[:i+1]...))
		writeMu.Unlock()
		if err != nil {
			return len(b), err
		}
		p.buf = p.buf[i+1:]
	}
	return len(b), nil
}
