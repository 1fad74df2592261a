// Where the views' data comes from: the server's JSON endpoints (stopwise
// ui), or the data inlined in a static report (stopwise report), answered the
// same way so that one set of views serves both.
const REPORT = window.SW_REPORT || null;

async function api(kind, params) {
  if (REPORT) return reportAnswer(kind, params || {});
  const qs = new URLSearchParams();
  for (const [k, v] of Object.entries(params || {}))
    if (v !== undefined && v !== null && v !== '') qs.set(k, v);
  const q = qs.toString();
  const r = await fetch('api/' + kind + (q ? '?' + q : ''), { credentials: 'same-origin', cache: 'no-store' });
  let body = null;
  try { body = await r.json(); } catch (e) { body = null; }
  if (!r.ok) throw new Error((body && body.error) || 'HTTP ' + r.status + ' ' + r.statusText);
  return body;
}

// The runs table's keys as row fields (the server sorts by the same names).
const RUN_KEYS = ['started', 'id', 'name', 'task', 'status', 'stop_rule', 'tokens', 'saved', 'best_em', 'stop_em',
  'val_em', 'test_em', 'wall_s'];

// A page of the report's rows, filtered and sorted here as the server would:
// unknown values last either way, then by id.
function localPage(rows, p) {
  const text = (p.q || '').toLowerCase();
  let out = rows.filter((r) =>
    (!p.task || r.task === p.task) && (!p.status || r.status === p.status) &&
    (p.branches !== 'no' || r.parent_run_id === null) && (p.branches !== 'only' || r.parent_run_id !== null) &&
    (!text || [r.name, r.task, r.policy, r.stop_rule || '', r.stop_reason || ''].join(' ').toLowerCase().includes(text)));
  const key = RUN_KEYS.includes(p.sort) ? p.sort : 'started', asc = p.dir === 'asc';
  out.sort((a, b) => {
    const x = a[key], y = b[key];
    const nx = x === null || x === undefined, ny = y === null || y === undefined;
    if (nx !== ny) return nx ? 1 : -1;
    let c = nx ? 0 : x < y ? -1 : x > y ? 1 : 0;
    if (!c) c = a.id - b.id;
    return asc ? c : -c;
  });
  const offset = +p.offset || 0, limit = +p.limit || 50;
  return { total: out.length, offset, limit, sort: key, dir: asc ? 'asc' : 'desc', rows: out.slice(offset, offset + limit) };
}

function reportAnswer(kind, p) {
  const d = REPORT.data;
  const pick = (group, key) => {
    const v = d[group] && d[group][String(key)];
    if (!v) throw new Error('this report holds no ' + group + ' ' + key + ' (a report carries one view; open it with stopwise ui)');
    return v;
  };
  switch (kind) {
    case 'info': return d.info;
    case 'run': return pick('run', p.id);
    case 'curve': return pick('curve', p.id);
    case 'task': return pick('task', p.key);
    case 'runs': return localPage(d.runs || [], p);
    case 'tuning': return { tasks: Object.values(d.task || {}).map((t) => ({ key: t.key, latest: t.latest, online: !!t.state })) };
    case 'studies': return { studies: [] };
    default: throw new Error('this report holds no ' + kind);
  }
}
