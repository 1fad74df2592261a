// Studies (hyperparameter searches): their trials, the trials' EM curves with
// where each pruned one was stopped, and how much each parameter matters.

async function showStudies(main) {
  const g = view.gen;
  append(clear(main), h('h1', {}, 'Studies'));
  let s;
  try { s = await api('studies'); } catch (e) { if (alive(g)) append(main, errorBox(e)); return; }
  if (!alive(g)) return;
  if (!s.studies.length) {
    append(main, h('p', {class: 'muted'}, 'No studies in this store yet: a hyperparameter search records its trials as a study.'));
    return;
  }
  append(main, table([{label: 'study', cell: (x) => h('a', {href: '#/study/' + encodeURIComponent(x.name)}, x.name)},
    {label: 'direction', cell: (x) => x.direction}, {label: 'trials', num: true, cell: (x) => x.n_trials},
    {label: 'created', cell: (x) => fmtTime(x.created)}], s.studies, {id: 'studies-table'}));
}

// η² of the best EM grouped by a parameter's values: the share of the
// trials' variance the grouping explains (numbers with many values in four
// quantile bins). A screening measure, optimistic with few trials per group.
function importance(trials) {
  const ys = trials.map((t) => t.run.best_em);
  const ok = trials.filter((t, i) => isNum(ys[i]));
  if (ok.length < 3) return [];
  const y = ok.map((t) => t.run.best_em), mean = y.reduce((a, b) => a + b, 0) / y.length;
  const total = y.reduce((a, b) => a + (b - mean) ** 2, 0);
  const names = [...new Set(ok.flatMap((t) => Object.keys(t.params)))];
  return names.map((name) => {
    const raw = ok.map((t) => t.params[name]);
    const nums = raw.map((v) => (v === undefined ? NaN : Number(v)));
    const distinct = new Set(raw).size;
    let group = raw.map((v) => (v === undefined ? '(unset)' : v));
    if (nums.every(isFinite) && distinct > 6) {
      const sorted = [...nums].sort((a, b) => a - b), q = [1, 2, 3].map((k) => sorted[Math.floor((k * sorted.length) / 4)]);
      group = nums.map((v) => String(q.filter((c) => v >= c).length));
    }
    const by = new Map();
    group.forEach((k, i) => { const a = by.get(k) || []; a.push(y[i]); by.set(k, a); });
    let between = 0;
    for (const a of by.values()) { const m = a.reduce((s, v) => s + v, 0) / a.length; between += a.length * (m - mean) ** 2; }
    return {name, eta2: total > 0 ? between / total : 0, groups: by.size};
  }).sort((a, b) => b.eta2 - a.eta2);
}

async function showStudy(main, name) {
  const g = view.gen;
  append(clear(main), h('h1', {}, 'Study ', h('code', {}, name)));
  let s;
  try { s = await api('study', {name}); } catch (e) { if (alive(g)) append(main, errorBox(e)); return; }
  if (!alive(g)) return;
  const trials = s.trials;
  const pruned = trials.filter((t) => t.run.status === 'pruned');
  append(main, h('p', {}, trials.length + ' trials (' + s.study.direction + ' EM), ' + pruned.length + ' pruned' + (s.truncated ? '; only the first ' + trials.length + ' are shown' : '') + '.'));
  if (!trials.length) return;
  const el = h('div', {class: 'plot', id: 'study-plot'});
  append(main, h('div', {class: 'plot-title'}, 'The trials\' validation EM against tokens (a red line: where a pruned trial was ended)'), el);
  const shown = trials.slice(0, 200);
  makePlot(el, 'study', {scales: {x: {time: false}}, legend: {show: shown.length <= 12},
    series: [xSeries('tokens', fmtTokens), ...shown.map((t, i) => line('trial ' + t.number, color(i), {width: 1}))],
    axes: [tokenAxis('training tokens'), {label: 'EM (%)'}],
    plugins: [markersPlugin(() => shown.filter((t) => t.run.status === 'pruned').map((t) => ({x: t.run.tokens, cls: 'mk-stop', label: '', title: 'trial ' + t.number + ' pruned at ' + fmtTokens(t.run.tokens)})))]},
  uPlot.join(shown.map((t) => [t.tokens, t.val_em])));
  // A search study's importance comes from the server, as `stopwise search`
  // reports it; a study of runs added by other tools gets the page's η².
  const searched = Array.isArray(s.importance);
  const imp = searched ? [...s.importance].sort((a, b) => b.share - a.share).map((p) => ({name: p.name, eta2: p.share}))
    : importance(trials);
  if (imp.length) {
    const note = searched ? 'As stopwise search reports it: each dimension\'s share of the spread of the finished trials\' ranks (ε² of the ranks grouped by the dimension\'s value, normalised to sum to 1).'
      : 'η²: the share of the best EM\'s variance across trials explained by grouping on the parameter (numbers with many values in quartiles); a screening measure, optimistic with few trials.';
    append(main, h('h2', {}, 'Parameter importance'), h('p', {class: 'legend-note'}, note),
      h('table', {class: 'grid importance', id: 'importance-table'}, h('tbody', {}, imp.map((p) => {
        const bar = h('span', {class: 'bar'});
        bar.style.width = Math.round(200 * p.eta2) + 'px';
        return h('tr', {'data-name': p.name}, h('th', {scope: 'row'}, p.name), h('td', {}, bar, (searched ? Math.round(100 * p.eta2) + '%' : p.eta2.toFixed(2))),
          h('td', {class: 'muted'}, searched ? '' : p.groups + ' groups'));
      }))));
  }
  const pnames = [...new Set(trials.flatMap((t) => Object.keys(t.params)))].slice(0, 8);
  append(main, h('h2', {}, 'Trials'), table([{label: 'trial', num: true, cell: (t) => t.number}, {label: 'run', cell: (t) => h('a', {href: '#/run/' + t.run.id}, String(t.run.id))},
    {label: 'status', cell: (t) => statusBadge(t.run.status)}, {label: 'best EM', num: true, cell: (t) => fmtEm(t.run.best_em)},
    {label: 'tokens', num: true, cell: (t) => fmtTokens(t.run.tokens)}, {label: 'pruned at', num: true, cell: (t) => (t.run.status === 'pruned' ? fmtTokens(t.run.tokens) : '')},
    ...pnames.map((n) => ({label: n, cell: (t) => (t.params[n] === undefined ? '' : t.params[n])}))], trials, {id: 'trials-table'}));
}
