// One run: what it used, where and why it stopped, what it kept, and its
// learning curves with the evaluation points, the best checkpoint, the stop,
// the cooldown segment and the forecast band as it stood at each evaluation.
// While the run trains, the view follows it (polling; no reload).

const LIVE_MS = 1500;

// What the curve says beyond the run's row: the cooldown segment (the
// evaluations the trainer marked cooldown = 1) and the forecast columns.
function curveFacts(curve) {
  const m = curve.metrics || {};
  const cool = m.cooldown || [];
  let coolFrom = null, coolTo = null;
  curve.tokens.forEach((t, i) => { if (cool[i] > 0) { if (coolFrom === null) coolFrom = i; coolTo = i; } });
  return {
    cooldown: coolFrom === null ? null : {from: coolFrom > 0 ? curve.tokens[coolFrom - 1] : curve.tokens[coolFrom], to: curve.tokens[coolTo], n: coolTo - coolFrom + 1},
    forecast: m.forecast_lo && m.forecast_hi && m.forecast_lo.some(isNum) ? {lo: m.forecast_lo, hi: m.forecast_hi, mean: m.forecast_em} : null,
    test: m.test_em && m.test_em.some(isNum) ? m.test_em : null,
  };
}

// A run still training has no recorded best yet: the curve's best so far
// (the first evaluation with the highest EM outside the cooldown).
function withBestSoFar(run, curve) {
  if (isNum(run.best_em)) return run;
  const cool = (curve.metrics || {}).cooldown || [];
  let k = -1;
  curve.val_em.forEach((v, i) => { if (isNum(v) && !(cool[i] > 0) && (k < 0 || v > curve.val_em[k])) k = i; });
  return k < 0 ? run : Object.assign({}, run, {best_em: curve.val_em[k], best_tokens: curve.tokens[k], best_so_far: true});
}

// true when the run ended by a rule (or a pruner, or divergence): it has a stop point
const hasStop = (r) => !!r.stop_rule || ['stopped', 'pruned', 'diverged'].includes(r.status);

function runMarkers(run, facts) {
  const out = [];
  if (isNum(run.best_em) && isNum(run.best_tokens))
    out.push({x: run.best_tokens, cls: 'mk-best', label: (run.best_so_far ? 'best so far ' : 'best ') + fmtEm(run.best_em), title: 'best checkpoint: EM ' + fmtEm(run.best_em) + ' at ' + fmtTokens(run.best_tokens) + ' tokens'});
  if (hasStop(run)) {
    const x = isNum(run.stop_tokens) ? run.stop_tokens : run.tokens;
    out.push({x, cls: 'mk-stop', label: 'stop' + (run.stop_rule ? ': ' + run.stop_rule : ''), title: run.stop_reason || run.status});
  }
  if (facts.cooldown)
    out.push({x: facts.cooldown.from, x2: facts.cooldown.to, cls: 'mk-seg', label: 'cooldown', title: 'cooldown: ' + facts.cooldown.n + ' evaluation(s) while the learning rate decays'});
  return out;
}

function card(k, v, id) { return h('div', {class: 'card'}, h('div', {class: 'k'}, k), h('div', {class: 'v', id}, v)); }

function runSummary(d, curve, facts) {
  const r = d.run;
  const saved = fmtSaved(r);
  const stop = hasStop(r)
    ? h('div', {class: 'stopline', id: 'stop-line'}, h('strong', {}, 'Stopped at ' + fmtTokens(isNum(r.stop_tokens) ? r.stop_tokens : r.tokens) + ' tokens'),
      r.stop_rule ? ' by ' + r.stop_rule : '', r.stop_reason ? ': ' + r.stop_reason : '',
      facts.cooldown ? h('div', {class: 'muted'}, 'then a cooldown of ' + fmtTokens(facts.cooldown.to - facts.cooldown.from) + ' tokens to ' + fmtTokens(facts.cooldown.to)) : null)
    : null;
  return [
    stop,
    h('div', {class: 'cards'},
      card('tokens used', fmtTokens(r.tokens), 'run-tokens'), card('budget', fmtTokens(r.budget)), card('saved', saved),
      card(r.best_so_far ? 'best EM so far' : 'best EM', fmtEm(r.best_em) + (isNum(r.best_em) ? ' @ ' + fmtTokens(r.best_tokens) : '')),
      card('at-stop EM', fmtEm(r.stop_em)), card('kept checkpoint EM', fmtEm(r.val_em)), card('test EM', fmtEm(r.test_em)),
      card('evaluations', String(curve.n), 'run-evals'), card('wall', fmtWall(r.wall_s))),
    h('dl', {class: 'facts'},
      h('dt', {}, 'task'), h('dd', {}, h('a', {href: '#/runs?task=' + encodeURIComponent(r.task)}, r.task)),
      h('dt', {}, 'policy'), h('dd', {}, h('code', {}, r.policy || '–')),
      r.parent_run_id ? [h('dt', {}, 'branch of'), h('dd', {}, h('a', {href: '#/run/' + r.parent_run_id}, 'run ' + r.parent_run_id), ' at ' + fmtTokens(r.fork_tokens) + ' tokens')] : null,
      h('dt', {}, 'started'), h('dd', {}, fmtTime(r.started) + (isNum(r.ended) ? ', ended ' + fmtTime(r.ended) : '')),
      h('dt', {}, 'host'), h('dd', {}, (d.host || '–') + ' pid ' + d.pid)),
  ];
}

function emPlotData(curve, facts, run) {
  const best = curve.tokens.map((t, i) => (t === run.best_tokens && isNum(curve.val_em[i]) ? curve.val_em[i] : null));
  const data = [curve.tokens, curve.val_em, best];
  const series = [xSeries('tokens', fmtTokens),
    line('val EM', color(0), {points: {show: true, size: 5}}),
    {label: 'best', stroke: '#197a3c', width: 0, paths: () => null, points: {show: true, size: 11, width: 2, fill: 'transparent'}, value: (u, v) => (v === null ? '–' : v.toFixed(2))}];
  const bands = [];
  if (facts.test) { data.push(facts.test); series.push(line('test EM', color(2), {dash: [4, 3]})); }
  if (facts.forecast) {
    const hi = data.length;
    data.push(facts.forecast.hi, facts.forecast.lo);
    series.push(line('forecast high', 'rgba(31,95,191,.35)', {width: 1}), line('forecast low', 'rgba(31,95,191,.35)', {width: 1}));
    bands.push({series: [hi, hi + 1], fill: 'rgba(31,95,191,.10)'});
    if (facts.forecast.mean) { data.push(facts.forecast.mean); series.push(line('forecast', 'rgba(31,95,191,.7)', {dash: [2, 4], width: 1})); }
  }
  return {data, series, bands};
}

async function showRun(main, id) {
  const g = view.gen;
  let d, curve;
  try { [d, curve] = await Promise.all([api('run', {id}), api('curve', {id})]); } catch (e) {
    if (alive(g)) append(clear(main), h('h1', {}, 'Run ' + id), errorBox(e));
    return;
  }
  if (!alive(g)) return;
  d.run = withBestSoFar(d.run, curve);
  let facts = curveFacts(curve);
  const live = h('span', {class: 'live', id: 'live', 'aria-live': 'polite'});
  const title = h('h1', {}, 'Run ' + d.run.id + (d.run.name ? ' · ' + d.run.name : '') + ' ', statusBadge(d.run.status), live);
  const summary = h('div', {id: 'run-summary'}, runSummary(d, curve, facts));
  const emEl = h('div', {class: 'plot', id: 'em-plot'});
  const lossEl = h('div', {class: 'plot', id: 'loss-plot'});
  const evalsBox = h('details', {}, h('summary', {}, 'Evaluations (table)'));
  append(clear(main), title, summary,
    h('div', {class: 'plot-title'}, 'Validation EM against training tokens'),
    h('p', {class: 'legend-note'}, 'Points: evaluations. Green ring and line: the best checkpoint. Red line: the stop. Shaded: the cooldown. ' +
      'Blue band: the forecast of the best EM by the budget, as it stood at each evaluation.'),
    emEl, h('div', {class: 'plot-title'}, 'Loss against training tokens'), lossEl, evalsBox,
    h('h2', {}, 'Configuration'), h('pre', {}, JSON.stringify(d.config, null, 2)),
    Object.keys(d.params).length ? [h('h2', {}, 'Parameters'), kvTable(d.params)] : null,
    Object.keys(d.tags).length ? [h('h2', {}, 'Tags'), kvTable(d.tags)] : null,
    d.artifacts.length ? [h('h2', {}, 'Artifacts'), h('table', {class: 'grid'}, h('thead', {}, h('tr', {}, h('th', {}, 'kind'), h('th', {}, 'path'), h('th', {}, 'sha256'))),
      h('tbody', {}, d.artifacts.map((a) => h('tr', {}, h('td', {}, a.kind), h('td', {class: 'mono'}, a.path), h('td', {class: 'mono'}, a.sha256.slice(0, 16) + '…')))))] : null);

  let run = d.run;
  const em = emPlotData(curve, facts, run);
  let emPlot = makePlot(emEl, 'em', {series: em.series, bands: em.bands, scales: {x: {time: false}},
    axes: [tokenAxis('training tokens'), {label: 'EM (%)'}], plugins: [markersPlugin(() => runMarkers(run, facts))]}, em.data);
  const lossPlot = makePlot(lossEl, 'loss', {series: [xSeries('tokens', fmtTokens), line('val loss', color(1), {points: {show: true, size: 4}}), line('train loss', color(3))],
    scales: {x: {time: false}}, axes: [tokenAxis('training tokens'), {label: 'loss'}],
    plugins: [markersPlugin(() => runMarkers(run, facts).filter((m) => m.cls !== 'mk-best'))]}, [curve.tokens, curve.val_loss, curve.train_loss]);
  evalsBox.addEventListener('toggle', () => { if (evalsBox.open && !evalsBox.querySelector('table')) evalsBox.append(evalTable(curve)); });

  if (run.status !== 'running' || REPORT) return;
  // live: poll the run and its curve; redraw when evaluations arrive
  live.textContent = 'live';
  let busy = false;
  every(LIVE_MS, async () => {
    if (busy || document.hidden) return;
    busy = true;
    try {
      const [d2, c2] = await Promise.all([api('run', {id}), api('curve', {id})]);
      if (!alive(g)) return;
      const changed = c2.n !== curve.n || d2.run.status !== run.status;
      d2.run = withBestSoFar(d2.run, c2);
      d = d2; run = d2.run; curve = c2; facts = curveFacts(curve);
      if (!changed) return;
      const e2 = emPlotData(curve, facts, run);
      if (e2.series.length !== emPlot.series.length) { // a forecast or test column appeared: a new plot
        emPlot.destroy();
        view.plots = view.plots.filter((p) => p !== emPlot);
        clear(emEl);
        emPlot = makePlot(emEl, 'em', {series: e2.series, bands: e2.bands, scales: {x: {time: false}},
          axes: [tokenAxis('training tokens'), {label: 'EM (%)'}], plugins: [markersPlugin(() => runMarkers(run, facts))]}, e2.data);
      } else emPlot.setData(e2.data);
      lossPlot.setData([curve.tokens, curve.val_loss, curve.train_loss]);
      append(clear(summary), runSummary(d, curve, facts));
      title.replaceChild(statusBadge(run.status), title.querySelector('.badge'));
      live.textContent = run.status === 'running' ? 'live · ' + curve.n + ' evaluations' : 'finished';
      if (run.status !== 'running') view.timers.forEach(clearInterval);
    } catch (e) {
      live.textContent = 'live (retrying: ' + e.message + ')';
    } finally { busy = false; }
  });
}

function kvTable(obj) {
  return h('table', {class: 'grid'}, h('tbody', {}, Object.entries(obj).map(([k, v]) => h('tr', {}, h('th', {scope: 'row'}, k), h('td', {class: 'wrap'}, v)))));
}

function evalTable(c) {
  const names = Object.keys(c.metrics || {});
  return h('div', {class: 'table-wrap'}, h('table', {class: 'grid'},
    h('thead', {}, h('tr', {}, ['tokens', 'step', 'wall', 'val EM', 'val loss', 'train loss', ...names].map((n) => h('th', {scope: 'col', class: 'num'}, n)))),
    h('tbody', {}, c.tokens.map((t, i) => h('tr', {},
      h('td', {class: 'num'}, fmtTokens(t)), h('td', {class: 'num'}, c.step[i]), h('td', {class: 'num'}, fmtWall(c.wall_s[i])),
      h('td', {class: 'num'}, fmtEm(c.val_em[i])), h('td', {class: 'num'}, fmtNum(c.val_loss[i], 4)), h('td', {class: 'num'}, fmtNum(c.train_loss[i], 4)),
      names.map((n) => h('td', {class: 'num'}, fmtNum(c.metrics[n][i], 4))))))));
}
