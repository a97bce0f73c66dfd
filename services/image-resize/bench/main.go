// Command bench measures image-resize's rendition code against libvips's
// vipsthumbnail on a corpus of photographs (see run.sh, which fetches it).
//
// For each photo it runs, as separate processes so that each one's peak
// memory can be read from the kernel (getrusage of the child):
//   - ours: this binary in -worker mode, which reads the file, calls
//     photo.Render — the same function the service calls — with the
//     service's default settings and writes every output;
//   - libvips: vipsthumbnail once per output, with the same widths, format
//     and quality, auto-rotated and stripped of metadata.
//
// It prints per photo and in total the wall time, CPU time and peak RSS of
// both and the ratios (ours / libvips). Other modes evaluate choices with
// figures: -eval (resampling filter and DCT-scale headroom: quality against
// a full-resolution Lanczos reference, and time), -webp (a pure-Go WebP
// encoder against our JPEGs: time and bytes at matched quality), -crop
// (smart crop against centre and against libvips's attention crop).
package main

import (
	"bytes"
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/blocpress/blocpress/services/image-resize/internal/photo"
)

var (
	widthsFlag = flag.String("widths", "320,640,1024,1600", "rendition widths")
	cropsFlag  = flag.String("crop-widths", "", "16:9 crop widths for ours (empty: plain renditions only, the set vipsthumbnail makes)")
	quality    = flag.Int("quality", 82, "JPEG quality")
	outDir     = flag.String("out", os.TempDir()+"/blocpress-bench-out", "where outputs are written")
	vipsBin    = flag.String("vips", "vipsthumbnail", "vipsthumbnail binary")
	worker     = flag.Bool("worker", false, "internal: render one file (the argument) and print its outputs")
	eval       = flag.Bool("eval", false, "evaluate resampling filters and DCT-scale headroom")
	webpMode   = flag.Bool("webp", false, "evaluate a pure-Go WebP encoder against our JPEGs")
	cropMode   = flag.Bool("crop", false, "evaluate smart crop against centre and libvips attention")
	repeat     = flag.Int("repeat", 1, "runs per photo and tool; the fastest counts")
)

func main() {
	flag.Parse()
	files := flag.Args()
	var err error
	switch {
	case *worker:
		err = runWorker(files[0])
	case *eval:
		err = runEval(files)
	case *webpMode:
		err = runWebP(files)
	case *cropMode:
		err = runCrop(files)
	default:
		err = runCompare(files)
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "bench:", err)
		os.Exit(1)
	}
}

func intList(s string) []int {
	var out []int
	for p := range strings.SplitSeq(s, ",") {
		if n, err := strconv.Atoi(strings.TrimSpace(p)); err == nil && n > 0 {
			out = append(out, n)
		}
	}
	slices.Sort(out)
	return slices.Compact(out)
}

// serviceOptions are the service's defaults (config.go).
func serviceOptions() photo.Options {
	return photo.Options{
		Widths: intList(*widthsFlag), CropWidths: intList(*cropsFlag), JPEGQuality: *quality,
		MaxPixels: 40_000_000, DefaultCrop: photo.CropSmart,
	}
}

// output is one file a worker wrote.
type output struct {
	Format string `json:"format"`
	Kind   string `json:"kind"`
	Width  int    `json:"width"`
	Height int    `json:"height"`
	Bytes  int    `json:"bytes"`
}

type workerResult struct {
	Outputs []output `json:"outputs"`
	Scale   int      `json:"scale"`
	Pixels  int64    `json:"pixels"`
	Error   string   `json:"error,omitempty"`
}

// runWorker is what the service does with one photo, minus the network.
func runWorker(file string) error {
	data, err := os.ReadFile(file)
	if err != nil {
		return err
	}
	res, err := photo.Render(data, serviceOptions())
	var wr workerResult
	if err != nil {
		wr.Error = err.Error()
	} else {
		wr.Scale, wr.Pixels = res.Scale, res.Header.Pixels
		dir := filepath.Join(*outDir, "go")
		if err := os.MkdirAll(dir, 0o755); err != nil {
			return err
		}
		base := filepath.Base(file)
		for _, r := range res.Renditions {
			name := fmt.Sprintf("%s-%s-%d.%s", base, r.Kind, r.Width, ext(r.Format))
			if err := os.WriteFile(filepath.Join(dir, name), r.Data, 0o644); err != nil {
				return err
			}
			wr.Outputs = append(wr.Outputs, output{Format: r.Format, Kind: string(r.Kind), Width: r.Width, Height: r.Height, Bytes: len(r.Data)})
		}
	}
	return json.NewEncoder(os.Stdout).Encode(wr)
}

func ext(format string) string {
	if format == "jpeg" {
		return "jpg"
	}
	return format
}

// measured is one tool's cost for one photo.
type measured struct {
	wall, cpu time.Duration
	maxRSS    int64 // bytes, the largest of its processes
	bytes     int   // output bytes
}

func (m *measured) add(o measured) {
	m.wall += o.wall
	m.cpu += o.cpu
	m.maxRSS = max(m.maxRSS, o.maxRSS)
	m.bytes += o.bytes
}

// run runs a command and measures it.
func run(name string, args ...string) (measured, []byte, error) {
	cmd := exec.Command(name, args...)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	start := time.Now()
	err := cmd.Run()
	wall := time.Since(start)
	if err != nil {
		return measured{}, nil, fmt.Errorf("%s %s: %v: %s", name, strings.Join(args, " "), err, stderr.String())
	}
	ru := cmd.ProcessState.SysUsage().(*syscall.Rusage)
	cpu := time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
	return measured{wall: wall, cpu: cpu, maxRSS: ru.Maxrss * 1024}, stdout.Bytes(), nil
}

// best keeps the fastest of several runs (wall time), and the largest peak.
func best(runs []measured) measured {
	b := runs[0]
	for _, r := range runs[1:] {
		if r.wall < b.wall {
			b.wall, b.cpu = r.wall, r.cpu
		}
		b.maxRSS = max(b.maxRSS, r.maxRSS)
	}
	return b
}

func runCompare(files []string) error {
	self, err := os.Executable()
	if err != nil {
		return err
	}
	if err := os.MkdirAll(filepath.Join(*outDir, "vips"), 0o755); err != nil {
		return err
	}
	fmt.Printf("widths %s, JPEG quality %d, crops %q, GOMAXPROCS=%s, best of %d\n",
		*widthsFlag, *quality, *cropsFlag, envOr("GOMAXPROCS", "all CPUs"), *repeat)
	fmt.Printf("%-44s %6s %5s | %8s %8s %7s | %8s %8s %7s | %6s %6s %6s\n",
		"photo", "MP", "scale", "go ms", "go cpu", "go MB", "vips ms", "vips cpu", "vips MB", "time×", "cpu×", "mem×")
	var totGo, totVips measured
	byFormat := map[string]*[2]measured{}
	var worstMem float64
	for _, f := range files {
		var goRuns []measured
		var wr workerResult
		for range *repeat {
			m, out, err := run(self, "-worker", "-widths", *widthsFlag, "-crop-widths", *cropsFlag,
				"-quality", strconv.Itoa(*quality), "-out", *outDir, f)
			if err != nil {
				return err
			}
			if err := json.Unmarshal(out, &wr); err != nil {
				return fmt.Errorf("worker output for %s: %w", f, err)
			}
			goRuns = append(goRuns, m)
		}
		if wr.Error != "" {
			fmt.Printf("%-44s refused: %s\n", short(f), wr.Error)
			continue
		}
		g := best(goRuns)
		for _, o := range wr.Outputs {
			g.bytes += o.Bytes
		}
		var vipsRuns []measured
		vbytes := 0
		for range *repeat {
			var v measured
			vbytes = 0
			for _, o := range wr.Outputs {
				if o.Kind == string(photo.KindCrop) {
					continue // vipsthumbnail's crops are not comparable (see -crop)
				}
				dst := filepath.Join(*outDir, "vips", fmt.Sprintf("%s-%d.%s", filepath.Base(f), o.Width, ext(o.Format)))
				opts := "[strip]" // PNG
				switch o.Format {
				case "jpeg":
					opts = fmt.Sprintf("[Q=%d,strip]", *quality)
				case "webp":
					opts = "[lossless,strip]"
				}
				m, _, err := run(*vipsBin, f, "--size", fmt.Sprintf("%dx%d", o.Width, o.Height+1), "-o", dst+opts)
				if err != nil {
					return err
				}
				st, err := os.Stat(dst)
				if err != nil {
					return err
				}
				vbytes += int(st.Size())
				v.add(m)
			}
			vipsRuns = append(vipsRuns, v)
		}
		v := best(vipsRuns)
		v.bytes = vbytes
		tr := float64(g.wall) / float64(v.wall)
		mr := float64(g.maxRSS) / float64(v.maxRSS)
		fmt.Printf("%-44s %6.1f %5d | %8.0f %8.0f %7.1f | %8.0f %8.0f %7.1f | %6.2f %6.2f %6.2f\n",
			short(f), float64(wr.Pixels)/1e6, wr.Scale,
			ms(g.wall), ms(g.cpu), mb(g.maxRSS), ms(v.wall), ms(v.cpu), mb(v.maxRSS),
			tr, float64(g.cpu)/float64(v.cpu), mr)
		totGo.add(g)
		totVips.add(v)
		format := strings.ToLower(strings.TrimPrefix(filepath.Ext(f), "."))
		if byFormat[format] == nil {
			byFormat[format] = &[2]measured{}
		}
		byFormat[format][0].add(g)
		byFormat[format][1].add(v)
		if wr.Pixels >= 20e6 {
			worstMem = max(worstMem, mr)
		}
	}
	fmt.Printf("\n%-44s %6s %5s | %8.0f %8.0f %7.1f | %8.0f %8.0f %7.1f | %6.2f %6.2f %6.2f\n", "TOTAL (time: sum; MB: largest peak)", "", "",
		ms(totGo.wall), ms(totGo.cpu), mb(totGo.maxRSS), ms(totVips.wall), ms(totVips.cpu), mb(totVips.maxRSS),
		float64(totGo.wall)/float64(totVips.wall), float64(totGo.cpu)/float64(totVips.cpu), float64(totGo.maxRSS)/float64(totVips.maxRSS))
	for _, fm := range []string{"jpg", "jpeg", "png"} {
		if t := byFormat[fm]; t != nil {
			fmt.Printf("%-44s %6s %5s | %8.0f %8.0f %7.1f | %8.0f %8.0f %7.1f | %6.2f %6.2f %6.2f\n", "  "+fm+" only", "", "",
				ms(t[0].wall), ms(t[0].cpu), mb(t[0].maxRSS), ms(t[1].wall), ms(t[1].cpu), mb(t[1].maxRSS),
				float64(t[0].wall)/float64(t[1].wall), float64(t[0].cpu)/float64(t[1].cpu), float64(t[0].maxRSS)/float64(t[1].maxRSS))
		}
	}
	fmt.Printf("output bytes: go %d, vips %d (%.2f×)\n", totGo.bytes, totVips.bytes, float64(totGo.bytes)/float64(totVips.bytes))
	if worstMem > 0 {
		fmt.Printf("largest peak-memory ratio on a photo of 20 MP or more: %.2f×\n", worstMem)
	}
	return nil
}

func envOr(k, def string) string {
	if v := os.Getenv(k); v != "" {
		return v
	}
	return def
}

func short(f string) string {
	f = strings.TrimPrefix(f, filepath.Dir(filepath.Dir(f))+"/")
	if len(f) > 44 {
		f = "…" + f[len(f)-43:]
	}
	return f
}

func ms(d time.Duration) float64 { return float64(d) / 1e6 }
func mb(b int64) float64         { return float64(b) / (1 << 20) }
