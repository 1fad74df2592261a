// The router: #/runs, #/run/ID, #/compare?ids=..., #/tuning, #/tuning/KEY,
// #/studies, #/study/NAME. A report opens on the view it was written for.

const ROUTES = [
  [/^#\/runs(?:\?(.*))?$/, (m, main) => showRuns(main, new URLSearchParams(m[1] || ''))],
  [/^#\/run\/(\d+)$/, (m, main) => showRun(main, parseInt(m[1], 10))],
  [/^#\/compare(?:\?(.*))?$/, (m, main) => showCompare(main, new URLSearchParams(m[1] || ''))],
  [/^#\/tuning\/?$/, (m, main) => showTuning(main)],
  [/^#\/tuning\/(.+)$/, (m, main) => showTask(main, decodeURIComponent(m[1]))],
  [/^#\/studies\/?$/, (m, main) => showStudies(main)],
  [/^#\/study\/(.+)$/, (m, main) => showStudy(main, decodeURIComponent(m[1]))],
];

function reportRoute() {
  const r = REPORT.route || {};
  if (r.view === 'run') return '#/run/' + r.id;
  if (r.view === 'task') return '#/tuning/' + encodeURIComponent(r.key);
  return '#/runs';
}

function route() {
  viewEnd();
  const main = document.getElementById('main');
  let hash = location.hash;
  if (!ROUTES.some(([re]) => re.test(hash))) {
    hash = REPORT ? reportRoute() : '#/runs';
    history.replaceState(null, '', hash);
  }
  const name = hash.slice(2).split(/[/?]/)[0];
  const nav = {runs: 'runs', run: 'runs', compare: 'compare', tuning: 'tuning', studies: 'studies', study: 'studies'}[name];
  document.querySelectorAll('.top nav a').forEach((a) => {
    if (a.dataset.view === nav) a.setAttribute('aria-current', 'page');
    else a.removeAttribute('aria-current');
  });
  for (const [re, show] of ROUTES) {
    const m = hash.match(re);
    if (m) { show(m, main); break; }
  }
}

async function start() {
  if (REPORT) {
    document.body.classList.add('report');
    const d = REPORT.data;
    const has = {runs: !!d.runs, compare: !!d.runs, tuning: !!d.task, studies: false};
    document.querySelectorAll('.top nav a').forEach((a) => { if (has[a.dataset.view]) a.classList.add('in-report'); });
    document.getElementById('foot').textContent = 'stopwise report of ' + REPORT.what + ', written ' + fmtTime(REPORT.generated) +
      ' from ' + d.info.store + ' (stopwise ' + d.info.version + ')';
  }
  window.addEventListener('hashchange', route);
  route();
  if (REPORT) return;
  try {
    const info = await api('info');
    document.getElementById('store-name').textContent = info.store + ' · ' + info.backend + ' · read-only';
    append(clear(document.getElementById('foot')), 'stopwise ' + info.version + ' · ', h('a', {href: 'licenses.txt'}, 'uPlot\'s license'));
  } catch (e) {
    document.getElementById('foot').textContent = 'cannot reach the server: ' + e.message;
  }
}

window.swDebug = { view, api, localPage };
start();
