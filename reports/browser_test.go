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

// screenshotPath is where the README's picture of a report comes from.
var screenshotPath = filepath.Join("..", "docs", "report.png")

var _ = Describe("The HTML report in a browser", Label("browser"), func() {
	It("renders every chart, logs no console error, and is photographed", func(sctx SpecContext) {
		if _, err := os.Stat(chromium); err != nil {
			if os.Getenv("SHAKEDOWN_REQUIRE_CHROMIUM") == "1" {
				Fail("chromium is not installed and SHAKEDOWN_REQUIRE_CHROMIUM=1: scripts/apt-install.sh chromium")
			}
			Skip("chromium is not installed (scripts/apt-install.sh chromium); SHAKEDOWN_REQUIRE_CHROMIUM=1 makes this a failure")
		}
		if _, err := reports.ChartLibrary(); err != nil {
			if os.Getenv("SHAKEDOWN_REQUIRE_CHROMIUM") == "1" {
				Fail("the chart library is not installed: run scripts/report-assets.sh")
			}
			Skip("the chart library is not installed: run scripts/report-assets.sh")
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
		charts, err := chromedp.Run(bctx, chromedp.Evaluate[int](`document.querySelectorAll("canvas[data-chart]").length`))
		Expect(err).NotTo(HaveOccurred())
		rendered, err := chromedp.Run(bctx, chromedp.Evaluate[int](`document.querySelectorAll("canvas[data-rendered='1']").length`))
		Expect(err).NotTo(HaveOccurred())
		// A drawn canvas has pixels that are not transparent.
		painted, err := chromedp.Run(bctx, chromedp.Evaluate[int](`Array.from(document.querySelectorAll("canvas")).filter(function (c) {
			var d = c.getContext("2d").getImageData(0, 0, c.width, c.height).data;
			for (var i = 3; i < d.length; i += 4) { if (d[i] !== 0) return true; }
			return false;
		}).length`))
		Expect(err).NotTo(HaveOccurred())
		shot, err := chromedp.Run(bctx, chromedp.FullScreenshot(100))
		Expect(err).NotTo(HaveOccurred())

		Expect(charts).To(Equal(4))
		Expect(rendered).To(Equal(charts))
		Expect(painted).To(Equal(charts))
		Expect(seen()).To(BeEmpty())
		// The listener does see console errors: one made on purpose shows.
		_, err = chromedp.Run(bctx, chromedp.Evaluate[chromedp.Void](`console.error("probe")`))
		Expect(err).NotTo(HaveOccurred())
		Eventually(seen).Should(Equal([]string{"console.error"}))
		Expect(len(shot)).To(BeNumerically(">", 10_000))
		Expect(os.WriteFile(screenshotPath, shot, 0o644)).To(Succeed())
	})
})
