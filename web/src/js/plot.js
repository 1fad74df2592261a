// Plots with uPlot: chosen because it is small (about 50 kB), draws tens of
// thousands of points on a canvas without slowing the page, and needs no
// framework. Markers (the stop, the best checkpoint, the cooldown) are
// elements laid over the canvas at uPlot's own pixel positions, so that they
// can carry a label and be checked by the browser tests.

const PALETTE = ['#1f5fbf', '#d1495b', '#2e933c', '#8e44ad', '#e67e22', '#16a085', '#7f8c8d', '#c0392b',
  '#2c3e50', '#b7950b', '#1abc9c', '#9b59b6'];
const color = (i) => PALETTE[i % PALETTE.length];

// markers: () => [{x, x2?, cls, label, title}] in x's units, drawn after each redraw
function markersPlugin(markers) {
  let layer = null;
  return {
    hooks: {
      init: (u) => { layer = h('div', {class: 'markers'}); u.over.appendChild(layer); },
      draw: (u) => {
        clear(layer);
        for (const m of markers()) {
          if (!isNum(m.x)) continue;
          const left = u.valToPos(m.x, 'x');
          const right = isNum(m.x2) ? u.valToPos(m.x2, 'x') : left;
          if (right < 0 || left > u.over.clientWidth + 1) continue;
          // a label near the right edge goes to the line's left, inside the plot
          const flip = !isNum(m.x2) && left > 0.6 * u.over.clientWidth;
          const el = h('div', {class: 'mk ' + m.cls + (flip ? ' flip' : ''), title: m.title || m.label || '', dataset: {tokens: String(m.x)}},
            m.label ? h('span', {}, m.label) : null);
          el.style.left = Math.max(0, left) + 'px';
          if (isNum(m.x2)) el.style.width = Math.max(2, right - Math.max(0, left)) + 'px';
          layer.appendChild(el);
        }
      },
    },
  };
}

// A plot in el, as wide as el, following its width; registered under name
// for the tests (window.swPlots) and destroyed with the view.
function makePlot(el, name, opts, data) {
  const width = () => Math.max(320, el.clientWidth || 800);
  const u = new uPlot(Object.assign({width: width(), height: 280}, opts), data, el);
  view.plots.push(u);
  window.swPlots = window.swPlots || {};
  window.swPlots[name] = u;
  if (window.ResizeObserver) {
    let last = width();
    const ro = new ResizeObserver(() => { const w = width(); if (w !== last) { last = w; u.setSize({width: w, height: u.height}); } });
    ro.observe(el);
    const destroy = u.destroy.bind(u);
    u.destroy = () => { ro.disconnect(); destroy(); };
  }
  return u;
}

const tokenAxis = (label) => ({label, values: (u, vals) => vals.map(fmtTokens)});
const xSeries = (label, fmt) => ({label, value: (u, v) => (v === null || v === undefined ? '–' : fmt(v))});
const line = (label, stroke, extra) => Object.assign({label, stroke, width: 1.5, spanGaps: true,
  value: (u, v) => (v === null || v === undefined ? '–' : v.toFixed(3))}, extra || {});
