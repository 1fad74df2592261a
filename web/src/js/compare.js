// Several runs overlaid: validation EM (and loss) against tokens or wall
// time, each run's stop marked, with their rows side by side.

const COMPARE_MAX = 50;

async function showCompare(main, params) {
  const g = view.gen;
  const ids = (params.get('ids') || [...compareSet()].join(',')).split(',').map((s) => parseInt(s, 10)).filter((n) => n > 0).slice(0, COMPARE_MAX);
  const x = params.get('x') === 'wall' ? 'wall' : 'tokens';
  append(clear(main), h('h1', {}, 'Compare runs'));
  if (!ids.length) {
    append(main, h('p', {}, 'Mark runs in the ', h('a', {href: '#/runs'}, 'runs table'), ' (Space, or their checkbox), then come back here.'));
    return;
  }
  let runs;
  try {
    runs = await Promise.all(ids.map(async (id) => { const [d, c] = await Promise.all([api('run', {id}), api('curve', {id})]); return {row: d.run, curve: c}; }));
  } catch (e) { if (alive(g)) append(main, errorBox(e)); return; }
  if (!alive(g)) return;
  const xOf = (c) => (x === 'wall' ? c.wall_s : c.tokens);
  const fmtX = x === 'wall' ? fmtWall : fmtTokens;
  const toggle = h('div', {class: 'controls', role: 'group', 'aria-label': 'x axis'}, 'x axis:',
    ['tokens', 'wall'].map((k) => h('button', {type: 'button', 'aria-pressed': String(k === x),
      onclick: () => { location.hash = '#/compare?ids=' + ids.join(',') + '&x=' + k; }}, k === 'wall' ? 'wall time' : 'tokens')));
  // one x column for all runs (uPlot.join), null where a run has no point
  const tables = runs.map((r) => [xOf(r.curve), r.curve.val_em]);
  const lossTables = runs.map((r) => [xOf(r.curve), r.curve.val_loss]);
  const series = [xSeries(x, fmtX), ...runs.map((r, i) => line('run ' + r.row.id, color(i), {points: {show: runs.length <= 8, size: 4}}))];
  const markers = () => runs.filter((r) => hasStop(r.row)).map((r) => {
    const stopT = isNum(r.row.stop_tokens) ? r.row.stop_tokens : r.row.tokens;
    const k = r.curve.tokens.indexOf(stopT);
    const at = x === 'wall' ? (k >= 0 ? r.curve.wall_s[k] : null) : stopT;
    return {x: at, cls: 'mk-stop', label: 'stop ' + r.row.id, title: 'run ' + r.row.id + ': ' + (r.row.stop_reason || r.row.status)};
  });
  const emEl = h('div', {class: 'plot', id: 'compare-plot'}), lossEl = h('div', {class: 'plot', id: 'compare-loss'});
  append(main, toggle, h('div', {class: 'plot-title'}, 'Validation EM against ' + (x === 'wall' ? 'wall time' : 'training tokens')), emEl,
    h('div', {class: 'plot-title'}, 'Validation loss'), lossEl, h('h2', {}, 'The runs'), compareTable(runs));
  const xAxis = x === 'wall' ? {label: 'wall time', values: (u, v) => v.map(fmtWall)} : tokenAxis('training tokens');
  makePlot(emEl, 'compare', {series, scales: {x: {time: false}}, axes: [xAxis, {label: 'EM (%)'}], plugins: [markersPlugin(markers)]}, uPlot.join(tables));
  makePlot(lossEl, 'compareLoss', {series: series.map((s, i) => (i ? Object.assign({}, s, {points: {show: false}}) : s)), scales: {x: {time: false}},
    axes: [xAxis, {label: 'loss'}]}, uPlot.join(lossTables));
}

function compareTable(runs) {
  return h('div', {class: 'table-wrap'}, h('table', {class: 'grid'},
    h('thead', {}, h('tr', {}, h('th', {}, ''), RUN_COLUMNS.map((c) => h('th', {scope: 'col', class: c.num ? 'num' : ''}, c.label)))),
    h('tbody', {}, runs.map((r, i) => {
      const sw = h('span', {class: 'badge', 'aria-hidden': 'true'}, '■');
      sw.style.color = color(i);
      return h('tr', {}, h('td', {}, sw), RUN_COLUMNS.map((c) => h('td', {class: c.num ? 'num' : ''}, c.cell(r.row))));
    }))));
}
