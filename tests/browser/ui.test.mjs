// The dashboard in a real browser: Debian's chromium, headless, driven by
// playwright-core (ctest: ui_browser). A store is filled by real short
// trainings and a real tune of Fashion-MNIST; `stopwise ui` serves it; the
// test opens the runs table, sorts it, walks it with the keyboard, opens a
// stopped run and checks that the stop marker sits at the run's recorded stop
// tokens, watches a live training add points without a reload, opens the
// Pareto plot and clicks a point, compares two runs, and opens a static
// report offline. Screenshots go to bench/results/ui/.
//
// Environment: STOPWISE_CLI (the binary), STOPWISE_SOURCE_DIR, CHROMIUM
// (default /usr/bin/chromium). Exit 0: passed; 1: failed; 77: skipped (no
// chromium, or no node_modules: said loudly on stderr).
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import assert from 'node:assert/strict';

const here = dirname(fileURLToPath(import.meta.url));
const SKIP = 77;
function skip(why) {
  console.error('\n**************** SKIPPED: the dashboard\'s browser tests did not run ****************');
  console.error('  ' + why);
  console.error('**********************************************************************************\n');
  process.exit(SKIP);
}

const chromiumPath = process.env.CHROMIUM || '/usr/bin/chromium';
if (!existsSync(chromiumPath)) skip(`no chromium at ${chromiumPath} (scripts/setup.sh installs Debian's chromium)`);
const driver = join(here, 'node_modules', 'playwright-core', 'index.mjs');
if (!existsSync(driver)) skip(`no ${driver}: run scripts/web.sh (npm ci in tests/browser/)`);
const { chromium } = await import(pathToFileURL(driver).href);

const CLI = process.env.STOPWISE_CLI;
const SRC = process.env.STOPWISE_SOURCE_DIR || join(here, '..', '..');
assert.ok(CLI && existsSync(CLI), 'STOPWISE_CLI must name the stopwise binary');
const shots = join(SRC, 'bench', 'results', 'ui');
mkdirSync(shots, { recursive: true });
const dir = mkdtempSync(join(tmpdir(), 'sw-ui-browser-'));
const store = join(dir, 'store.db');
const env = { ...process.env, OMP_WAIT_POLICY: 'passive' };
const children = [];
// however it ends (a skip, a failure, an exception), no server or training outlives the test
process.on('exit', () => {
  for (const c of children) c.kill('SIGKILL');
  rmSync(dir, { recursive: true, force: true });
});

function cli(args, what) {
  const r = spawnSync(CLI, args, { cwd: dir, env, encoding: 'utf8', maxBuffer: 1 << 26 });
  if (r.status !== 0) throw new Error(`${what}: stopwise ${args.join(' ')} exited ${r.status}: ${r.stderr}`);
  return r.stdout;
}
const json = (args, what) => JSON.parse(cli([...args, '--json'], what));
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
const train = (args) => ['train', '--data', 'fashion-mnist', '--threads', '1', '--store', store, '--quiet', ...args];

// ---- the store: real trainings and a real tune, the server beside them ------------
const t0 = Date.now();
console.error('# filling the store with real trainings (fashion-mnist) and a tune');
json(train(['--budget', '60k', '--seed', '1', '--stop', 'patience=3,diverge', '--out', join(dir, 'r1')]), 'train 1');
function startUi() {
  return new Promise((resolve, reject) => {
    const p = spawn(CLI, ['ui', '--store', store, '--port', '0'], { cwd: dir, env });
    children.push(p);
    let out = '';
    p.stdout.on('data', (d) => {
      out += d;
      const m = out.match(/ at (http:\/\/\S+)\n/);
      if (m) resolve(m[1]);
    });
    p.stderr.on('data', (d) => process.stderr.write('[ui] ' + d));
    p.on('exit', (code) => reject(new Error('stopwise ui exited ' + code + ': ' + out)));
  });
}
const base = await startUi();
const info = await (await fetch(base + 'api/info')).json();
if (!info.page_built) skip('this stopwise was built without its page (web/node_modules was absent: run scripts/web.sh and rebuild)');

// the ui reads the store while the other trainings write it
json(train(['--budget', '60k', '--seed', '2', '--stop', 'patience=2:min_delta=1,diverge', '--out', join(dir, 'r2')]), 'train 2');
const tuned = json(['tune', '--data', 'fashion-mnist', '--budget', '30k', '--folds', '2', '--eval-every', '3k', '--threads', '1',
  '--families', 'patience,gain', '--store', store, '--out', join(dir, 'tune'), '--quiet'], 'tune');
// a real search: its study page shows the search's own dimensions and importance
writeFileSync(join(dir, 'space.txt'), 'data = fashion-mnist\nmodel = mlp:hidden={hidden}\nhidden = choice(16, 64)\n' +
  'schedule = cosine:lr={lr}\nlr = range(1e-4, 3e-2, log)\n');
const searched = json(['search', '--space', join(dir, 'space.txt'), '--study', 'fm-search', '--budget', '20k', '--trials', '5',
  '--sampler', 'halton', '--pruner', 'none', '--store', store, '--out', join(dir, 'search'), '--quiet'], 'search');
console.error(`# store ready in ${((Date.now() - t0) / 1000).toFixed(0)} s`);
// the table hides branch runs by default (the tune's trunks carry cooldown
// branches under the default wsd): compare with runs ls's other runs
const listed = json(['runs', 'ls', '--limit', '0', '--store', store], 'runs ls');
const branchRuns = listed.runs.filter((r) => r.parent_run_id);
if (!branchRuns.length) throw new Error('the tune recorded no branch runs: the default schedule is no longer a wsd?');
const runsLs = { runs: listed.runs.filter((r) => !r.parent_run_id) };
runsLs.count = runsLs.runs.length;

const browser = await chromium.launch({ executablePath: chromiumPath, headless: true, args: ['--no-sandbox'] });
const page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
const problems = [];
page.on('console', (m) => { if (m.type() === 'error' || m.type() === 'warning') problems.push(m.type() + ': ' + m.text()); });
page.on('pageerror', (e) => problems.push('page error: ' + e.message));

let failed = 0, n = 0;
async function check(name, fn) {
  n++;
  const t = Date.now();
  try {
    await fn();
    console.log(`ok ${n} - ${name} (${((Date.now() - t) / 1000).toFixed(1)} s)`);
  } catch (e) {
    failed++;
    console.log(`not ok ${n} - ${name}\n  ${String(e.stack || e).split('\n').join('\n  ')}`);
    await page.screenshot({ path: join(shots, `failed-${n}.png`), fullPage: true }).catch(() => {});
  }
}
const rowIds = () => page.$$eval('#runs-table tbody tr[data-id]', (trs) => trs.map((tr) => +tr.dataset.id));

try {
  await check('the runs table shows every run of the store', async () => {
    await page.goto(base + '#/runs');
    await page.waitForSelector('#runs-table tbody tr[data-id]');
    assert.deepEqual(await rowIds(), runsLs.runs.map((r) => r.id), 'newest first, as runs ls lists them');
    assert.match(await page.textContent('#runs-count'), new RegExp(`of ${runsLs.count} runs`));
    await page.screenshot({ path: join(shots, 'runs.png'), fullPage: true });
  });

  await check('sorting by a column, both ways, on the server', async () => {
    const byTokens = [...runsLs.runs].sort((a, b) => b.tokens - a.tokens || b.id - a.id).map((r) => r.id);
    await page.click('th[data-key="tokens"] button');
    await page.waitForSelector('th[data-key="tokens"][aria-sort="descending"]');
    await page.waitForFunction((want) => [...document.querySelectorAll('#runs-table tbody tr[data-id]')].map((tr) => +tr.dataset.id).join() === want, byTokens.join());
    assert.deepEqual(await rowIds(), byTokens);
    await page.click('th[data-key="tokens"] button');
    await page.waitForSelector('th[data-key="tokens"][aria-sort="ascending"]');
    await page.waitForFunction((want) => [...document.querySelectorAll('#runs-table tbody tr[data-id]')].map((tr) => +tr.dataset.id).join() === want, [...byTokens].reverse().join());
    assert.match(page.url(), /sort=tokens&dir=asc/, 'the sort is kept in the address');
    const byBest = [...runsLs.runs].sort((a, b) => b.best_em - a.best_em || b.id - a.id).map((r) => r.id);
    await page.click('th[data-key="best_em"] button');
    await page.waitForFunction((want) => [...document.querySelectorAll('#runs-table tbody tr[data-id]')].map((tr) => +tr.dataset.id).join() === want, byBest.join());
    await page.screenshot({ path: join(shots, 'runs-sorted.png'), fullPage: true });
  });

  await check('the table works from the keyboard alone', async () => {
    const ids = await rowIds();
    await page.focus('#runs-table tbody tr[data-id]');
    await page.keyboard.press('ArrowDown');
    assert.equal(await page.evaluate(() => document.activeElement.dataset.id), String(ids[1]), 'ArrowDown moves to the next row');
    await page.keyboard.press(' ');
    assert.ok(await page.isChecked(`#runs-table tr[data-id="${ids[1]}"] input[type=checkbox]`), 'Space marks the row');
    await page.keyboard.press('ArrowUp');
    await page.keyboard.press(' ');
    assert.match(await page.textContent('.controls button'), /Compare marked \(2\)/);
    await page.keyboard.press('Enter');
    await page.waitForURL(new RegExp(`#/run/${ids[0]}$`));
    await page.waitForSelector('#em-plot canvas');
  });

  const stopped = runsLs.runs.find((r) => r.status === 'stopped');
  await check('a stopped run\'s stop marker sits at its recorded stop tokens', async () => {
    assert.ok(stopped, 'a run the patience rule stopped');
    const shown = json(['runs', 'show', String(stopped.id), '--store', store], 'runs show');
    await page.goto(base + '#/run/' + stopped.id);
    const mk = await page.waitForSelector('#em-plot .mk-stop');
    assert.equal(Number(await mk.getAttribute('data-tokens')), shown.tokens, 'the marker is the stored stop tokens');
    // and where the plot draws those tokens, to the pixel
    const geo = await page.evaluate((tokens) => {
      const u = window.swPlots.em, m = u.over.querySelector('.mk-stop');
      return { left: m.getBoundingClientRect().left - u.over.getBoundingClientRect().left, want: u.valToPos(tokens, 'x'),
        lastX: u.valToPos(u.data[0][u.data[0].length - 1], 'x'), n: u.data[0].length };
    }, shown.tokens);
    assert.ok(Math.abs(geo.left - geo.want) <= 1.5, `marker at ${geo.left}px, tokens at ${geo.want}px`);
    assert.ok(Math.abs(geo.lastX - geo.want) <= 1.5, 'a rule stops at an evaluation: the last point');
    assert.equal(geo.n, shown.evaluations, 'every evaluation is a point');
    const best = await page.$eval('#em-plot .mk-best', (e) => Number(e.dataset.tokens));
    assert.equal(best, shown.best_tokens, 'the best checkpoint marker');
    assert.match(await page.textContent('#stop-line'), new RegExp(shown.stop_rule));
    await page.screenshot({ path: join(shots, 'run-stopped.png'), fullPage: true });
  });

  await check('a live run adds points without a page reload', async () => {
    const live = spawn(CLI, train(['--budget', '2M', '--eval-every', '4k', '--seed', '7', '--stop', 'none', '--out', join(dir, 'live')]), { cwd: dir, env });
    children.push(live);
    let id = null;
    for (let k = 0; k < 600 && id === null; k++) { // the run appears once it has begun and flushed
      await sleep(250);
      const r = json(['runs', 'ls', '--store', store, '--status', 'running'], 'runs ls').runs.find((x) => x.evaluations > 0);
      if (r) id = r.id;
    }
    assert.ok(id, 'the live run shows in the store');
    await page.goto(base + '#/run/' + id);
    await page.waitForSelector('#em-plot canvas');
    await page.evaluate(() => { window.__sameDocument = true; });
    const n0 = await page.evaluate(() => window.swPlots.em.data[0].length);
    await page.waitForFunction((n) => window.swPlots.em && window.swPlots.em.data[0].length > n, n0, { timeout: 120000, polling: 250 });
    const n1 = await page.evaluate(() => window.swPlots.em.data[0].length);
    assert.ok(n1 > n0, `${n0} -> ${n1} points`);
    assert.equal(await page.evaluate(() => window.__sameDocument), true, 'the same document: no reload');
    assert.match(await page.textContent('#live'), /live/);
    assert.equal(Number(await page.textContent('#run-evals')), n1, 'the summary follows too');
    await page.screenshot({ path: join(shots, 'run-live.png'), fullPage: true });
    live.kill('SIGKILL');
  });

  await check('the Pareto plot of a real tune, a point opens its policy', async () => {
    await page.goto(base + '#/tuning');
    await page.click(`#tuning-table a`);
    await page.waitForSelector('#pareto-plot canvas');
    const want = [...tuned.pareto].sort((a, b) => a.tokens_fraction - b.tokens_fraction || a.shortfall - b.shortfall);
    const pts = await page.evaluate(() => window.swPlots.pareto.data[0].length);
    assert.equal(pts, want.length, 'one point per frontier policy');
    assert.equal(await page.textContent('#policy-in-force'), tuned.policy);
    const k = Math.floor(want.length / 2);
    const at = await page.evaluate((i) => {
      const u = window.swPlots.pareto, r = u.over.getBoundingClientRect();
      return { x: r.left + u.valToPos(u.data[0][i], 'x'), y: r.top + u.valToPos(u.data[1][i], 'y') };
    }, k);
    await page.mouse.move(at.x, at.y);
    await page.mouse.click(at.x, at.y);
    await page.waitForSelector('#pareto-selected code.policy');
    assert.equal(await page.textContent('#pareto-selected code.policy'), want[k].policy, 'the clicked point\'s policy');
    assert.equal(await page.$$eval('#cv-table tbody tr', (trs) => trs.length), Object.keys(tuned.families).length, 'a CV row per family');
    await page.screenshot({ path: join(shots, 'tuning-pareto.png'), fullPage: true });
  });

  await check('comparing the two marked runs overlays their curves', async () => {
    await page.goto(base + '#/compare');
    await page.waitForSelector('#compare-plot canvas');
    assert.equal(await page.evaluate(() => window.swPlots.compare.series.length), 3, 'x and two runs');
    await page.click('text=wall time');
    await page.waitForURL(/x=wall/);
    await page.waitForSelector('#compare-plot canvas');
    await page.screenshot({ path: join(shots, 'compare.png'), fullPage: true });
  });

  await check('a report is one file that opens offline', async () => {
    const file = join(dir, 'report.html');
    cli(['report', String(stopped.id), '-o', file, '--store', store], 'report');
    const off = await browser.newPage({ viewport: { width: 1280, height: 900 } });
    const fetched = [];
    off.on('request', (r) => { if (!r.url().startsWith('file:') && !r.url().startsWith('data:')) fetched.push(r.url()); });
    off.on('pageerror', (e) => problems.push('report page error: ' + e.message));
    await off.goto(pathToFileURL(file).href);
    const mk = await off.waitForSelector('#em-plot .mk-stop');
    assert.equal(Number(await mk.getAttribute('data-tokens')), stopped.tokens);
    assert.deepEqual(fetched, [], 'nothing fetched');
    await off.screenshot({ path: join(shots, 'report.png'), fullPage: true });
    await off.close();
  });

  await check('a search study shows its trials and the search\'s importance', async () => {
    await page.goto(base + '#/study/fm-search');
    await page.waitForSelector('#importance-table tr[data-name]');
    const names = await page.$$eval('#importance-table tr[data-name]', (trs) => trs.map((tr) => tr.dataset.name).sort());
    assert.deepEqual(names, ['hidden', 'lr'], 'the search\'s dimensions, not the runs\' composed options');
    const cli = searched.importance; // {name: share}
    for (const name of names) {
      const shown = await page.textContent(`#importance-table tr[data-name="${name}"] td`);
      assert.equal(shown.trim(), Math.round(100 * cli[name]) + '%', `${name}: the page shows what stopwise search reported`);
    }
    assert.equal(await page.$$eval('#trials-table tbody tr', (trs) => trs.length), 5);
    await page.screenshot({ path: join(shots, 'study.png'), fullPage: true });
  });

  await check('no console errors (a blocked script or style would show here)', async () => {
    assert.deepEqual(problems, []);
  });
} finally {
  await browser.close();
}
console.log(`1..${n}`);
console.error(`# screenshots in ${shots}`);
process.exit(failed ? 1 : 0);
