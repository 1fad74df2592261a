// Small helpers: DOM building (text nodes only, never HTML from data), number
// formats, and the view lifecycle (timers and plots end with their view).

// h('td', {class: 'num', dataset: {id: 3}}, 'text', child, ...)
function h(tag, attrs, ...children) {
  const el = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs || {})) {
    if (v === undefined || v === null || v === false) continue;
    if (k === 'class') el.className = v;
    else if (k === 'text') el.textContent = v;
    else if (k === 'dataset') Object.assign(el.dataset, v);
    else if (k.startsWith('on')) el.addEventListener(k.slice(2), v);
    else if (k in el && typeof v !== 'string') el[k] = v;
    else el.setAttribute(k, v === true ? '' : v);
  }
  return append(el, children);
}

function clear(el) { while (el.firstChild) el.removeChild(el.firstChild); return el; }

// el.append that takes arrays and skips null/false, as h() does
function append(el, ...children) {
  for (const c of children.flat(Infinity)) {
    if (c === undefined || c === null || c === false) continue;
    el.append(c instanceof Node ? c : document.createTextNode(String(c)));
  }
  return el;
}

const isNum = (x) => typeof x === 'number' && isFinite(x);

// 1234567 -> "1.23M" (three significant digits), like the CLI's tokens
function fmtTokens(n) {
  if (!isNum(n)) return '–';
  const a = Math.abs(n);
  const unit = a >= 1e9 ? ['G', 1e9] : a >= 1e6 ? ['M', 1e6] : a >= 1e3 ? ['k', 1e3] : null;
  if (!unit) return String(Math.round(n));
  const v = n / unit[1];
  return (Math.abs(v) >= 100 ? v.toFixed(0) : Math.abs(v) >= 10 ? v.toFixed(1) : v.toFixed(2)) + unit[0];
}
const fmtEm = (x) => (isNum(x) ? x.toFixed(2) : '–');
const fmtPct = (x, d = 1) => (isNum(x) ? (100 * x).toFixed(d) + '%' : '–');
const fmtNum = (x, d = 3) => (isNum(x) ? (Math.abs(x) >= 1000 ? x.toFixed(0) : x.toPrecision(d)) : '–');
function fmtWall(s) {
  if (!isNum(s)) return '–';
  if (s < 60) return s.toFixed(1) + ' s';
  if (s < 3600) return Math.floor(s / 60) + ' min ' + Math.round(s % 60) + ' s';
  return Math.floor(s / 3600) + ' h ' + Math.round((s % 3600) / 60) + ' min';
}
function fmtTime(unix) {
  if (!isNum(unix)) return '–';
  const d = new Date(unix * 1000), p = (v) => String(v).padStart(2, '0');
  return `${d.getFullYear()}-${p(d.getMonth() + 1)}-${p(d.getDate())} ${p(d.getHours())}:${p(d.getMinutes())}`;
}

// tokens an ended run saved against its budget, and their share
function fmtSaved(r) {
  if (!isNum(r.saved)) return '–';
  return r.saved > 0 ? fmtTokens(r.saved) + (r.budget ? ' (' + fmtPct(r.saved / r.budget, 0) + ')' : '') : 'none';
}

function statusBadge(status) {
  return h('span', {class: 'badge st-' + status}, status);
}

function errorBox(err) {
  return h('p', {class: 'error', role: 'alert'}, String(err && err.message ? err.message : err));
}

// ---- the view's lifecycle: route() ends the previous view's timers and plots
const view = { gen: 0, timers: [], plots: [] };
function viewEnd() {
  view.gen++;
  view.timers.forEach(clearInterval);
  view.plots.forEach((u) => u.destroy());
  view.timers = [];
  view.plots = [];
  window.swPlots = {};
}
// runs fn every ms while the view that asked is shown
function every(ms, fn) { view.timers.push(setInterval(fn, ms)); }
// true while the view started at generation g is still the one shown
const alive = (g) => g === view.gen;
