package reports_test

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"sync"
	"time"

	"github.com/chromedp/cdproto/runtime"
	"github.com/chromedp/chromedp"
	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"

	"shakedown/reports"
)

// chromium is Debian's headless browser (scripts/apt-install.sh chromium).
const chromium = "/usr/bin/chromium"

// screenshotPath is where the README's picture of a report comes from. The
// spec writes it only when SHAKEDOWN_UPDATE_SCREENSHOT=1 (make screenshot):
// a test run leaves the checkout as it found it.
var screenshotPath = filepath.Join("..", "docs", "report.png")

var _ = Describe("The HTML report in a browser", Label("browser"), func() {
	It("draws every chart at a real size with nothing clipped, logs no console error, and is photographed", func(sctx SpecContext) {
		if _, err := os.Stat(chromium); err != nil {
			if os.Getenv("SHAKEDOWN_REQUIRE_CHROMIUM") == "1" {
				Fail("chromium is not installed and SHAKEDOWN_REQUIRE_CHROMIUM=1: scripts/apt-install.sh chromium")
			}
			Skip("chromium is not installed (scripts/apt-install.sh chromium); SHAKEDOWN_REQUIRE_CHROMIUM=1 makes this a failure")
		}
		dir := GinkgoT().TempDir()
		page := filepath.Join(dir, "report.html")
		f, err := os.Create(page)
		Expect(err).NotTo(HaveOccurred())
		Expect(reports.WriteHTML(f, sampleRun())).To(Succeed())
		Expect(f.Close()).To(Succeed())

		opts := []chromedp.ExecAllocatorOption{
			chromedp.ExecPath(chromium), chromedp.Headless, chromedp.NoSandbox, chromedp.DisableGPU,
			chromedp.NoFirstRun, chromedp.NoDefaultBrowserCheck, chromedp.UserDataDir(filepath.Join(dir, "profile")),
			chromedp.Flag("disable-quic", true), chromedp.Flag("disable-background-networking", true),
			chromedp.Flag("disable-component-update", true), chromedp.Flag("disable-sync", true),
			chromedp.WindowSize(1400, 1000),
		}
		ctx, cancel := context.WithTimeout(sctx, 60*time.Second)
		defer cancel()
		actx, cancelAlloc := chromedp.NewExecAllocator(ctx, opts...)
		defer cancelAlloc()
		var mu sync.Mutex
		var problems []string
		listen := func(ev any) {
			mu.Lock()
			defer mu.Unlock()
			switch e := ev.(type) {
			case *runtime.EventConsoleAPICalled:
				if e.Type == runtime.ConsoleAPICalledTypeError || e.Type == runtime.ConsoleAPICalledTypeAssert || e.Type == runtime.ConsoleAPICalledTypeWarning {
					problems = append(problems, fmt.Sprintf("console.%s", e.Type))
				}
			case *runtime.EventExceptionThrown:
				problems = append(problems, "exception: "+e.ExceptionDetails.Text)
			}
		}
		bctx, cancelBrowser := chromedp.NewContext(actx, chromedp.WithListener(listen))
		defer cancelBrowser()
		seen := func() []string {
			mu.Lock()
			defer mu.Unlock()
			return append([]string(nil), problems...)
		}

		Expect(chromedp.Do(bctx, chromedp.Navigate("file://"+page), chromedp.WaitReady(chromedp.CSS("footer")))).To(Succeed())
		charts, err := chromedp.Run(bctx, chromedp.Evaluate[int](`document.querySelectorAll("figure.chart svg[data-chart]").length`))
		Expect(err).NotTo(HaveOccurred())
		// Drawn: every chart is laid out at a real size and has visible marks.
		drawn, err := chromedp.Run(bctx, chromedp.Evaluate[int](`Array.from(document.querySelectorAll("svg[data-chart]")).filter(function (svg) {
			var r = svg.getBoundingClientRect();
			var marks = Array.from(svg.querySelectorAll("rect.bar, path.line")).filter(function (m) {
				var b = m.getBBox(); return b.width > 0 && b.height > 0;
			});
			return r.width > 300 && r.height > 150 && marks.length > 0;
		}).length`))
		Expect(err).NotTo(HaveOccurred())
		// Laid out: in the browser's own font, no text leaves its chart,
		// no two legend entries overlap, and no category name runs into
		// the bars.
		clipped, err := chromedp.Run(bctx, chromedp.Evaluate[[]string](`(function () {
			var out = [];
			document.querySelectorAll("svg[data-chart]").forEach(function (svg) {
				var vb = svg.viewBox.baseVal;
				svg.querySelectorAll("text").forEach(function (t) {
					var b = t.getBBox();
					if (t.getAttribute("transform")) { return; } // the turned axis titles sit in their margin
					if (b.x < -0.5 || b.x + b.width > vb.width + 0.5) { out.push(svg.dataset.chart + ": " + t.textContent); }
				});
				var items = Array.from(svg.querySelectorAll("g.legend-item")).map(function (g) { return g.getBBox(); });
				for (var i = 0; i < items.length; i++) {
					for (var j = i + 1; j < items.length; j++) {
						var a = items[i], b = items[j];
						if (a.x < b.x + b.width && b.x < a.x + a.width && a.y < b.y + b.height && b.y < a.y + a.height) {
							out.push(svg.dataset.chart + ": legend entries " + i + " and " + j + " overlap");
						}
					}
				}
				var bars = Array.from(svg.querySelectorAll("rect.bar")).map(function (r) { return r.getBBox().x; });
				var left = Math.min.apply(null, bars);
				svg.querySelectorAll("g.bars > text").forEach(function (t) {
					var b = t.getBBox();
					if (svg.querySelector("rect.bar") && b.x + b.width > left + 0.5 && t.getAttribute("text-anchor") === "end") {
						out.push("category name over the bars: " + t.textContent);
					}
				});
			});
			return out;
		})()`))
		Expect(err).NotTo(HaveOccurred())
		shot, err := chromedp.Run(bctx, chromedp.FullScreenshot(100))
		Expect(err).NotTo(HaveOccurred())

		Expect(charts).To(Equal(4))
		Expect(drawn).To(Equal(charts))
		Expect(clipped).To(BeEmpty())
		Expect(seen()).To(BeEmpty())
		// The listener does see console errors: one made on purpose shows.
		_, err = chromedp.Run(bctx, chromedp.Evaluate[chromedp.Void](`console.error("probe")`))
		Expect(err).NotTo(HaveOccurred())
		Eventually(seen).Should(Equal([]string{"console.error"}))
		Expect(len(shot)).To(BeNumerically(">", 10_000))
		out := filepath.Join(dir, "report.png")
		if os.Getenv("SHAKEDOWN_UPDATE_SCREENSHOT") == "1" {
			out = screenshotPath
		}
		Expect(os.WriteFile(out, shot, 0o644)).To(Succeed())
	})
})
