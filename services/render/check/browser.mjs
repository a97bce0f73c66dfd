// browser.mjs drives Debian's chromium with puppeteer-core: for every page
// given it injects axe-core and records its violations, records any request
// to a host other than the site's (and blocks it), and takes full-page
// screenshots at 360 px and 1440 px.
//
//   node browser.mjs <artefacts dir> name=url …   → <artefacts dir>/axe.json
import fs from "node:fs";
import path from "node:path";
import { createRequire } from "node:module";
import puppeteer from "puppeteer-core";

const require = createRequire(import.meta.url);
const axeSource = fs.readFileSync(require.resolve("axe-core/axe.min.js"), "utf8");
const [outDir, ...pairs] = process.argv.slice(2);
const pages = pairs.map((p) => { const i = p.indexOf("="); return { name: p.slice(0, i), url: p.slice(i + 1) }; });
const loopback = new Set(["localhost", "127.0.0.1", "[::1]"]);

const browser = await puppeteer.launch({
  executablePath: process.env.CHROME_PATH || "/usr/bin/chromium",
  headless: true,
  args: ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking",
    "--disable-component-update", "--disable-sync", "--hide-scrollbars"],
});
const results = [];
try {
  for (const { name, url } of pages) {
    const page = await browser.newPage();
    const foreign = [], consoleErrors = [];
    await page.setRequestInterception(true);
    page.on("request", (req) => {
      const u = new URL(req.url());
      if ((u.protocol === "http:" || u.protocol === "https:") && !loopback.has(u.hostname)) {
        foreign.push(req.url());
        req.abort();
        return;
      }
      req.continue();
    });
    page.on("console", (m) => { if (m.type() === "error") consoleErrors.push(m.text()); });
    page.on("pageerror", (e) => consoleErrors.push(String(e)));
    await page.setViewport({ width: 1440, height: 900 });
    const resp = await page.goto(url, { waitUntil: "networkidle0", timeout: 30000 });
    await page.evaluate(axeSource);
    const axe = await page.evaluate(async () => {
      const r = await window.axe.run(document, { resultTypes: ["violations"] });
      return r.violations.map((v) => ({ id: v.id, impact: v.impact, help: v.help,
        nodes: v.nodes.map((n) => ({ target: n.target.join(" "), summary: n.failureSummary })) }));
    });
    const shots = [];
    for (const width of [1440, 360]) {
      await page.setViewport({ width, height: width === 360 ? 740 : 900, deviceScaleFactor: 1, isMobile: width === 360, hasTouch: width === 360 });
      await page.reload({ waitUntil: "networkidle0" });
      const overflow = await page.evaluate(() => document.documentElement.scrollWidth > window.innerWidth);
      const file = path.join(outDir, `${name}-${width}.png`);
      await page.screenshot({ path: file, fullPage: true });
      // The first screen alone, as a reader sees it before scrolling.
      await page.screenshot({ path: path.join(outDir, `${name}-${width}-top.png`) });
      shots.push({ width, file, overflow });
    }
    results.push({ name, url, status: resp ? resp.status() : 0, violations: axe, foreign, consoleErrors, shots });
    await page.close();
  }
} finally {
  await browser.close();
}
fs.writeFileSync(path.join(outDir, "axe.json"), JSON.stringify(results, null, 1));
for (const r of results) {
  for (const v of r.violations) {
    console.log(`axe ${r.name}: ${v.id} (${v.impact}) ${v.help}`);
    for (const n of v.nodes.slice(0, 5)) console.log(`    ${n.target}`);
  }
  for (const f of r.foreign) console.log(`foreign request ${r.name}: ${f}`);
  for (const e of r.consoleErrors) console.log(`console error ${r.name}: ${e}`);
  for (const s of r.shots) if (s.overflow) console.log(`horizontal overflow ${r.name} at ${s.width}px`);
}
