// The runs table: sorted, filtered and paged by the server (stopwise ui) or
// by the page over the report's rows. Keyboard: Tab reaches the table, arrow
// keys (or j/k) move between rows, Enter opens a run, Space marks it for
// comparison, PageDown/PageUp turn pages; column headers are buttons.

const RUN_COLUMNS = [
  {key: 'id', label: 'ID', num: true, cell: (r) => h('a', {href: '#/run/' + r.id, tabindex: -1}, String(r.id))},
  {key: 'name', label: 'Name', cell: (r) => r.name || ''},
  {key: 'task', label: 'Task', cell: (r) => r.task},
  {key: 'status', label: 'Status', cell: (r) => statusBadge(r.status)},
  {key: 'stop_rule', label: 'Stop rule', cell: (r) => h('span', {title: r.stop_reason || ''}, r.stop_rule || '–')},
  {key: 'tokens', label: 'Tokens', num: true, cell: (r) => fmtTokens(r.tokens)},
  {key: 'saved', label: 'Saved', num: true, cell: fmtSaved},
  {key: 'best_em', label: 'Best EM', num: true, cell: (r) => fmtEm(r.best_em)},
  {key: 'stop_em', label: 'At-stop EM', num: true, cell: (r) => fmtEm(r.stop_em)},
  {key: 'test_em', label: 'Test EM', num: true, cell: (r) => fmtEm(r.test_em)},
  {key: 'wall_s', label: 'Wall', num: true, cell: (r) => fmtWall(r.wall_s)},
  {key: 'started', label: 'Started', cell: (r) => fmtTime(r.started)},
];
const RUN_STATUSES = ['running', 'completed', 'stopped', 'pruned', 'diverged', 'failed', 'crashed'];
const PAGE = 50;

// the runs marked for comparison (kept across views in this tab)
function compareSet() {
  try { return new Set(JSON.parse(sessionStorage.getItem('sw-compare') || '[]')); } catch (e) { return new Set(); }
}
function compareSave(set) { try { sessionStorage.setItem('sw-compare', JSON.stringify([...set])); } catch (e) { /* private mode */ } }

function showRuns(main, params) {
  const g = view.gen;
  const st = {
    sort: params.get('sort') || 'started', dir: params.get('dir') || 'desc', q: params.get('q') || '',
    status: params.get('status') || '', task: params.get('task') || '', branches: params.get('branches') || 'no',
    offset: Math.max(0, parseInt(params.get('offset') || '0', 10) || 0),
  };
  const selected = compareSet();
  let rows = [], total = 0, focusRow = 0;

  const search = h('input', {type: 'search', placeholder: 'name, task, policy, stop…', value: st.q, 'aria-label': 'Search runs'});
  const status = h('select', {'aria-label': 'Status'}, h('option', {value: ''}, 'any status'),
    RUN_STATUSES.map((s) => h('option', {value: s, selected: s === st.status}, s)));
  const branches = h('input', {type: 'checkbox', checked: st.branches !== 'no'});
  const compareBtn = h('button', {type: 'button', onclick: () => { location.hash = '#/compare?ids=' + [...selected].join(','); }});
  const count = h('span', {class: 'muted', 'aria-live': 'polite', id: 'runs-count'});
  const prev = h('button', {type: 'button', onclick: () => turn(-1)}, '← Previous');
  const next = h('button', {type: 'button', onclick: () => turn(1)}, 'Next →');
  const thead = h('thead');
  const tbody = h('tbody', {onkeydown: onKey});
  const table = h('table', {class: 'runs grid', id: 'runs-table', 'aria-label': 'Runs'}, thead, tbody);
  const msg = h('div');

  append(clear(main), 
    h('h1', {}, st.task ? 'Runs of ' + st.task : 'Runs'),
    h('div', {class: 'controls'}, search, status, h('label', {}, branches, 'show branches'), compareBtn, count),
    msg, h('div', {class: 'table-wrap'}, table),
    h('div', {class: 'pager'}, prev, next));

  function header() {
    clear(thead).append(h('tr', {}, h('th', {scope: 'col'}, h('span', {class: 'sr-only'}, 'compare')),
      RUN_COLUMNS.map((c) => h('th', {scope: 'col', class: c.num ? 'num' : '', dataset: {key: c.key},
        'aria-sort': st.sort === c.key ? (st.dir === 'asc' ? 'ascending' : 'descending') : 'none'},
      h('button', {type: 'button', class: 'sort', onclick: () => sortBy(c.key)}, c.label)))));
  }
  function updateCompare() {
    compareBtn.textContent = 'Compare marked (' + selected.size + ')';
    compareBtn.disabled = selected.size < 1;
  }
  function sync() { // the state in the address, without a new history entry or a re-render
    const p = new URLSearchParams();
    for (const [k, v] of Object.entries(st)) if (v !== '' && !(k === 'offset' && !v) && !(k === 'branches' && v === 'no')) p.set(k, v);
    history.replaceState(null, '', '#/runs' + (p.toString() ? '?' + p : ''));
  }
  async function load(keepFocus) {
    sync();
    let page;
    try {
      page = await api('runs', {sort: st.sort, dir: st.dir, offset: st.offset, limit: PAGE, q: st.q, status: st.status,
        task: st.task, branches: st.branches});
    } catch (e) { if (alive(g)) clear(msg).append(errorBox(e)); return; }
    if (!alive(g)) return;
    clear(msg);
    rows = page.rows; total = page.total;
    render(keepFocus);
  }
  function render(keepFocus) {
    header();
    const hadFocus = keepFocus && tbody.contains(document.activeElement);
    clear(tbody);
    rows.forEach((r, i) => {
      const box = h('input', {type: 'checkbox', tabindex: -1, checked: selected.has(r.id), 'aria-label': 'mark run ' + r.id + ' for comparison',
        onchange: () => { box.checked ? selected.add(r.id) : selected.delete(r.id); compareSave(selected); updateCompare(); }});
      const tr = h('tr', {tabindex: i === focusRow ? 0 : -1, dataset: {id: r.id},
        onclick: (e) => { if (e.target !== box) location.hash = '#/run/' + r.id; },
        onfocus: () => { focusRow = i; }},
      h('td', {}, box), RUN_COLUMNS.map((c) => h('td', {class: c.num ? 'num' : ''}, c.cell(r))));
      tbody.appendChild(tr);
    });
    if (!rows.length) tbody.appendChild(h('tr', {}, h('td', {colspan: RUN_COLUMNS.length + 1, class: 'muted'},
      total ? 'No runs on this page.' : 'No runs match.')));
    const last = Math.min(st.offset + rows.length, total);
    count.textContent = total ? `${st.offset + 1}–${last} of ${total.toLocaleString('en')} runs` : '0 runs';
    prev.disabled = st.offset <= 0;
    next.disabled = st.offset + PAGE >= total;
    updateCompare();
    if (hadFocus) focusAt(Math.min(focusRow, rows.length - 1));
  }
  function focusAt(i) {
    const trs = tbody.querySelectorAll('tr[data-id]');
    if (!trs.length) return;
    i = Math.max(0, Math.min(i, trs.length - 1));
    trs.forEach((tr, k) => { tr.tabIndex = k === i ? 0 : -1; });
    focusRow = i;
    trs[i].focus();
  }
  function onKey(e) {
    const tr = e.target.closest('tr[data-id]');
    if (!tr || e.altKey || e.ctrlKey || e.metaKey) return;
    const i = [...tbody.querySelectorAll('tr[data-id]')].indexOf(tr);
    const keys = {ArrowDown: () => focusAt(i + 1), j: () => focusAt(i + 1), ArrowUp: () => focusAt(i - 1), k: () => focusAt(i - 1),
      Home: () => focusAt(0), End: () => focusAt(rows.length - 1),
      Enter: () => { location.hash = '#/run/' + tr.dataset.id; },
      ' ': () => { const b = tr.querySelector('input[type=checkbox]'); b.checked = !b.checked; b.dispatchEvent(new Event('change')); },
      PageDown: () => { if (!next.disabled) { focusRow = 0; turn(1, true); } },
      PageUp: () => { if (!prev.disabled) { focusRow = 0; turn(-1, true); } }};
    if (keys[e.key]) { e.preventDefault(); keys[e.key](); }
  }
  function sortBy(key) {
    if (st.sort === key) st.dir = st.dir === 'asc' ? 'desc' : 'asc';
    else { st.sort = key; st.dir = ['name', 'task', 'status', 'stop_rule'].includes(key) ? 'asc' : 'desc'; }
    st.offset = 0;
    load(false);
  }
  function turn(d, keepFocus) { st.offset = Math.max(0, st.offset + d * PAGE); load(keepFocus); }
  let typing = null;
  search.addEventListener('input', () => { clearTimeout(typing); typing = setTimeout(() => { st.q = search.value.trim(); st.offset = 0; load(false); }, 250); });
  status.addEventListener('change', () => { st.status = status.value; st.offset = 0; load(false); });
  branches.addEventListener('change', () => { st.branches = branches.checked ? 'any' : 'no'; st.offset = 0; load(false); });

  load(false);
  // live: while any run on the page trains, the page follows it
  if (!REPORT) every(4000, () => { if (rows.some((r) => r.status === 'running') && !document.hidden) load(true); });
}
