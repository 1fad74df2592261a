// Tuning: per task key, the policy in force, the tuner's cross-validation per
// rule family, the Pareto frontier of tokens against EM shortfall (a point
// opens its policy), the online tuner's audits, and the policies before.

async function showTuning(main) {
  const g = view.gen;
  append(clear(main), h('h1', {}, 'Tuned tasks'));
  let t;
  try { t = await api('tuning'); } catch (e) { if (alive(g)) append(main, errorBox(e)); return; }
  if (!alive(g)) return;
  if (!t.tasks.length) {
    append(main, h('p', {class: 'muted'}, 'No tuned policies yet: `stopwise tune --data ...` records one per task key.'));
    return;
  }
  append(main, h('div', {class: 'table-wrap'}, h('table', {class: 'grid', id: 'tuning-table'},
    h('thead', {}, h('tr', {}, ['task key', 'policy in force', 'family', 'CV tokens', 'CV shortfall', 'online'].map((n) => h('th', {scope: 'col'}, n)))),
    h('tbody', {}, t.tasks.map((k) => h('tr', {},
      h('td', {}, h('a', {href: '#/tuning/' + encodeURIComponent(k.key)}, k.key)),
      h('td', {}, h('code', {}, k.latest ? k.latest.policy : '–')), h('td', {}, k.latest ? k.latest.family || '–' : '–'),
      h('td', {class: 'num'}, k.latest ? fmtPct(k.latest.cv_tokens_fraction) : '–'),
      h('td', {class: 'num'}, k.latest ? fmtEm(k.latest.cv_shortfall) : '–'), h('td', {}, k.online ? 'yes' : 'no')))))));
}

function table(cols, rows, attrs) {
  return h('div', {class: 'table-wrap'}, h('table', Object.assign({class: 'grid'}, attrs || {}),
    h('thead', {}, h('tr', {}, cols.map((c) => h('th', {scope: 'col', class: c.num ? 'num' : ''}, c.label)))),
    h('tbody', {}, rows.map((r) => h('tr', {class: r.__chosen ? 'chosen' : ''}, cols.map((c) => h('td', {class: c.num ? 'num' : 'wrap'}, c.cell(r))))))));
}

async function showTask(main, key) {
  const g = view.gen;
  append(clear(main), h('h1', {}, 'Tuning of ', h('code', {}, key)));
  let t;
  try { t = await api('task', {key}); } catch (e) { if (alive(g)) append(main, errorBox(e)); return; }
  if (!alive(g)) return;
  const rep = t.latest && t.latest.report && typeof t.latest.report === 'object' ? t.latest.report : null;
  if (t.latest) {
    append(main, h('div', {class: 'selected-policy'}, h('div', {class: 'muted'}, 'policy in force (' + fmtTime(t.latest.created) + ')'),
      h('code', {id: 'policy-in-force'}, t.latest.policy)));
  }
  if (rep) {
    append(main, h('div', {class: 'cards'},
      card('objective', rep.objective + (isNum(rep.epsilon) ? ' ε=' + rep.epsilon : '')), card('curves', String(rep.n_curves)),
      card('folds', String(rep.folds)), card('CV tokens', fmtPct(rep.cv_tokens_fraction)), card('CV shortfall', fmtEm(rep.cv_shortfall)),
      card('CV worst shortfall', fmtEm(rep.cv_worst_shortfall)), card('candidates', String(rep.n_candidates))));
    const fam = Object.entries(rep.families || {}).map(([name, f]) => Object.assign({name, __chosen: name === rep.family}, f));
    append(main, h('h2', {}, 'Cross-validation per rule family'),
      h('p', {class: 'legend-note'}, 'Each family tuned alone; CV: chosen on the other folds, scored on the held-out one. Tokens: T_stop / budget. Shortfall: EM points lost against the best checkpoint of the full curve.'),
      table([{label: 'family', cell: (f) => f.name}, {label: 'policy', cell: (f) => h('code', {}, f.policy)},
        {label: 'CV tokens', num: true, cell: (f) => fmtPct(f.cv_tokens_fraction)}, {label: 'CV shortfall', num: true, cell: (f) => fmtEm(f.cv_shortfall)},
        {label: 'CV worst', num: true, cell: (f) => fmtEm(f.cv_worst_shortfall)}, {label: 'tokens (all curves)', num: true, cell: (f) => fmtPct(f.tokens_fraction)},
        {label: 'shortfall (all curves)', num: true, cell: (f) => fmtEm(f.shortfall)}, {label: 'candidates', num: true, cell: (f) => f.n_candidates}], fam, {id: 'cv-table'}));
    if ((rep.cv_folds || []).length)
      append(main, h('h2', {}, 'Folds'), table([{label: 'fold', num: true, cell: (f) => f.__i}, {label: 'held-out curves', cell: (f) => f.held_out.join(', ')},
        {label: 'policy chosen on the others', cell: (f) => h('code', {}, f.policy)}, {label: 'tokens', num: true, cell: (f) => fmtPct(f.tokens_fraction)},
        {label: 'shortfall', num: true, cell: (f) => fmtEm(f.shortfall)}], rep.cv_folds.map((f, i) => Object.assign({__i: i + 1}, f))));
    if ((rep.pareto || []).length) paretoSection(main, rep);
  }
  if (t.state && typeof t.state === 'object') onlineSection(main, t.state);
  if (t.history.length > 1)
    append(main, h('h2', {}, 'Policies recorded for this key (newest first)'),
      table([{label: 'recorded', cell: (p) => fmtTime(p.created)}, {label: 'policy', cell: (p) => h('code', {}, p.policy)}, {label: 'family', cell: (p) => p.family || '–'},
        {label: 'CV tokens', num: true, cell: (p) => fmtPct(p.cv_tokens_fraction)}, {label: 'CV shortfall', num: true, cell: (p) => fmtEm(p.cv_shortfall)}],
      t.history.map((p, i) => Object.assign({__chosen: i === 0}, p))));
}

function paretoSection(main, rep) {
  // x must ascend for uPlot: the frontier sorted by tokens, each point keeping its policy
  const pts = rep.pareto.map((p, i) => Object.assign({i}, p)).sort((a, b) => a.tokens_fraction - b.tokens_fraction || a.shortfall - b.shortfall);
  const chosenAt = pts.findIndex((p) => p.policy === rep.policy);
  const panel = h('div', {class: 'selected-policy', id: 'pareto-selected', 'aria-live': 'polite'}, h('span', {class: 'muted'}, 'Click a point (or a row below) to see its policy.'));
  const el = h('div', {class: 'plot', id: 'pareto-plot'});
  const rows = [];
  function select(k) {
    const p = pts[k];
    append(clear(panel), h('div', {class: 'muted'}, p.family + ' · ' + fmtPct(p.tokens_fraction) + ' of the budget · shortfall ' + fmtEm(p.shortfall) + ' EM (worst ' + fmtEm(p.worst_shortfall) + ')'),
      h('code', {class: 'policy'}, p.policy), h('div', {class: 'legend-note'}, 'train with it: stopwise train --stop \'' + p.policy + '\' ...'));
    panel.dataset.index = String(k);
    rows.forEach((r, j) => r.classList.toggle('sel', j === k));
  }
  append(main, h('h2', {}, 'Pareto frontier: tokens against EM shortfall'),
    h('p', {class: 'legend-note'}, 'Each point is a policy no other beats on both axes (all curves, in-sample). Filled: the policy chosen. Click a point to open its policy.'),
    el, panel);
  // a margin around the points, so none sits on the plot's edge (half drawn, and hard to click)
  const pad = (u, lo, hi) => { const m = hi > lo ? 0.06 * (hi - lo) : 0.05; return [lo - m, hi + m]; };
  const u = makePlot(el, 'pareto', {height: 300, scales: {x: {time: false, range: pad}, y: {range: pad}},
    cursor: {points: {size: 12}},
    series: [xSeries('tokens', (v) => fmtPct(v)),
      {label: 'frontier', stroke: color(0), width: 1, points: {show: true, size: 8, width: 2, fill: '#fff'}, value: (u, v) => (v === null ? '–' : v.toFixed(2))},
      {label: 'chosen', stroke: '#197a3c', paths: () => null, points: {show: true, size: 12, fill: '#197a3c'}, value: (u, v) => (v === null ? '–' : v.toFixed(2))}],
    axes: [{label: 'tokens used (share of the budget)', values: (u, v) => v.map((x) => fmtPct(x, 0))}, {label: 'EM shortfall (points)'}]},
  [pts.map((p) => p.tokens_fraction), pts.map((p) => p.shortfall), pts.map((p, k) => (k === chosenAt ? p.shortfall : null))]);
  u.over.addEventListener('click', () => { if (u.cursor.idx !== null && u.cursor.idx !== undefined) select(u.cursor.idx); });
  u.over.style.cursor = 'pointer';
  const list = table([{label: '', cell: (p) => h('button', {type: 'button', onclick: () => select(p.__k), 'aria-label': 'show policy ' + (p.__k + 1)}, 'show')},
    {label: 'tokens', num: true, cell: (p) => fmtPct(p.tokens_fraction)}, {label: 'shortfall', num: true, cell: (p) => fmtEm(p.shortfall)},
    {label: 'family', cell: (p) => p.family}, {label: 'policy', cell: (p) => h('code', {}, p.policy)}], pts.map((p, k) => Object.assign({__k: k, __chosen: k === chosenAt}, p)), {class: 'grid pareto-list'});
  list.querySelectorAll('tbody tr').forEach((r) => rows.push(r));
  append(main, h('details', {}, h('summary', {}, 'The frontier as a table (' + pts.length + ' policies)'), list));
}

function onlineSection(main, s) {
  append(main, h('h2', {}, 'Online tuning'),
    h('p', {}, 'Level ' + (s.level + 1) + ' of ' + (s.ladder || []).length + ' (ceiling ' + (s.ceiling + 1) + '), ' + s.runs + ' runs, an audit every ' + s.audit_every + '; the policy now: ', h('code', {}, s.policy)),
    h('ol', {class: 'ladder'}, (s.ladder || []).map((p, i) => h('li', {class: i === s.level ? 'chosen' : ''}, h('code', {}, p), i === s.level ? ' ← now' : ''))));
  const audits = s.audits || [];
  append(main, h('h3', {}, 'Audits (full-budget runs that check the policy)'),
    audits.length ? table([{label: 'online run', num: true, cell: (a) => '#' + (a.run + 1)},
      {label: 'level', cell: (a) => (a.level_before + 1) + ' → ' + (a.level_after + 1)}, {label: 'shortfall', num: true, cell: (a) => fmtEm(a.shortfall)},
      {label: 'next level\'s shortfall', num: true, cell: (a) => fmtEm(a.next_shortfall)}, {label: 'tokens', num: true, cell: (a) => fmtPct(a.tokens_fraction)}], audits, {id: 'audit-table'})
      : h('p', {class: 'muted'}, 'No audits yet.'));
}
