// The dashboard's page at scale in headless chromium (bench/ui.sh): against a
// running `stopwise ui` on the 10,000-run store, the median (of REPS) time
// from navigation to a rendered runs table, from a header click to the
// re-sorted table, from a route change to a drawn run view, and to a drawn
// comparison of 50 runs; and the longest task that blocked the page's main
// thread meanwhile (PerformanceObserver "longtask": over 50 ms is a visible
// stall). Prints one JSON object.
//   node bench/ui_browser.mjs URL RUN_ID
import { pathToFileURL } from 'node:url';
import { join, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));
const { chromium } = await import(pathToFileURL(join(here, '..', 'tests', 'browser', 'node_modules', 'playwright-core', 'index.mjs')).href);
const [url, runId] = process.argv.slice(2);
const REPS = 5;
const median = (v) => { const s = [...v].sort((a, b) => a - b); return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2; };
const round = (x) => Math.round(x * 10) / 10;

const browser = await chromium.launch({ executablePath: process.env.CHROMIUM || '/usr/bin/chromium', headless: true, args: ['--no-sandbox'] });
const page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
await page.addInitScript(() => {
  window.__long = 0;
  new PerformanceObserver((l) => { for (const e of l.getEntries()) window.__long = Math.max(window.__long, e.duration); }).observe({ type: 'longtask', buffered: true });
});
const out = { table: [], sort: [], run_view: [], compare_50: [] };
let longest = 0;
const noteLong = async () => { longest = Math.max(longest, await page.evaluate(() => window.__long)); };

for (let i = 0; i < REPS; i++) {
  await page.goto(url + '?load=' + i + '#/runs', { waitUntil: 'commit' });
  await page.waitForSelector('#runs-table tbody tr[data-id]');
  out.table.push(await page.evaluate(() => performance.now()));
  await noteLong();
}
for (let i = 0; i < REPS; i++) {
  const key = ['best_em', 'tokens', 'saved', 'wall_s', 'test_em'][i];
  const dt = await page.evaluate(async (k) => {
    const before = [...document.querySelectorAll('#runs-table tbody tr[data-id]')].map((t) => t.dataset.id).join();
    const t0 = performance.now();
    document.querySelector(`th[data-key="${k}"] button`).click();
    for (;;) {
      await new Promise((r) => requestAnimationFrame(r));
      const th = document.querySelector(`th[data-key="${k}"]`);
      const now = [...document.querySelectorAll('#runs-table tbody tr[data-id]')].map((t) => t.dataset.id).join();
      if (th.getAttribute('aria-sort') !== 'none' && now !== before) return performance.now() - t0;
      if (performance.now() - t0 > 10000) return NaN;
    }
  }, key);
  out.sort.push(dt);
  await noteLong();
}
for (let i = 0; i < REPS; i++) {
  const id = Number(runId) + i;
  const dt = await page.evaluate(async (id) => {
    window.swPlots = {};
    const t0 = performance.now();
    location.hash = '#/run/' + id;
    while (!(window.swPlots.em && window.swPlots.loss)) await new Promise((r) => requestAnimationFrame(r));
    return performance.now() - t0;
  }, id);
  out.run_view.push(dt);
  await noteLong();
}
for (let i = 0; i < 3; i++) {
  const ids = Array.from({ length: 50 }, (_, k) => Number(runId) + 100 * i + k).join(',');
  const dt = await page.evaluate(async (ids) => {
    window.swPlots = {};
    const t0 = performance.now();
    location.hash = '#/compare?ids=' + ids;
    while (!window.swPlots.compareLoss) await new Promise((r) => requestAnimationFrame(r));
    return performance.now() - t0;
  }, ids);
  out.compare_50.push(dt);
  await noteLong();
}
await browser.close();
console.log(JSON.stringify({
  table_rendered: round(median(out.table)), resorted: round(median(out.sort)), run_view_drawn: round(median(out.run_view)),
  compare_50_drawn: round(median(out.compare_50)), longest_task: round(longest), reps: REPS,
}));
