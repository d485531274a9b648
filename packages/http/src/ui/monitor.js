// The Plugboard monitor page: a task dashboard (counts per state, a paged table, one task's detail), plugins with
// forms drawn from their argument schemas, and schedules, all followed live over the router's event stream. Plain
// browser JavaScript, no build step, no CDN. Every value from the server is written with textContent, never as HTML.
// The view and its filters live in the URL's fragment (`#/tasks?state=failed`), so a view can be shared or reloaded.

const ACTIVE_STATES = new Set(['queued', 'running']);
const STATES = ['queued', 'running', 'succeeded', 'failed', 'cancelled', 'timed-out', 'interrupted'];
const STATE_WORDS = {
  queued: 'Queued',
  running: 'Running',
  succeeded: 'Succeeded',
  failed: 'Failed',
  cancelled: 'Cancelled',
  'timed-out': 'Timed out',
  interrupted: 'Interrupted',
};
const STATUS_WORDS = {
  operational: 'Ready',
  checking: 'Checking',
  'not-ready': 'Not ready',
  invalid: 'Invalid',
  failed: 'Failed',
  disabled: 'Disabled',
};
const LOG_RANK = { debug: 10, info: 20, warn: 30, error: 40, critical: 50, always: 60 };
const PAGE_SIZE = 50;

const state = {
  me: null,
  plugins: new Map(),
  /** The task table: records by id, in the order the server paged them. */
  tasks: new Map(),
  cursor: null,
  sort: { key: 'createdAt', descending: true },
  users: new Map(),
  /** The task shown in the detail view. */
  detail: null,
  /** Maps collecting task records from the event stream while a task list request is on its way. */
  liveCaptures: new Set(),
  route: { view: 'tasks', id: null, params: new URLSearchParams() },
};

const $ = (id) => document.getElementById(id);

function el(tag, props = {}, ...children) {
  const node = document.createElement(tag);
  for (const [key, value] of Object.entries(props)) {
    if (value === undefined || value === null || value === false) continue;
    if (key === 'class') node.className = value;
    else if (key === 'text') node.textContent = value;
    else if (key.startsWith('on')) node.addEventListener(key.slice(2), value);
    else if (key in node && typeof value !== 'string') node[key] = value;
    else node.setAttribute(key, value === true ? '' : value);
  }
  for (const child of children.flat()) {
    if (child !== null && child !== undefined && child !== false) {
      node.append(typeof child === 'string' ? document.createTextNode(child) : child);
    }
  }
  return node;
}

/** Calls the router; resolves with `{ ok, status, body }`, where a failed call's body is its problem document. */
async function api(path, init = {}) {
  const headers = {
    accept: 'application/json',
    ...(init.body ? { 'content-type': 'application/json' } : {}),
  };
  let response;
  try {
    response = await fetch(`./${path}`, { credentials: 'same-origin', ...init, headers });
  } catch (error) {
    return { ok: false, status: 0, body: { detail: `The server cannot be reached (${error.message}).` } };
  }
  let body = null;
  try {
    body = await response.json();
  } catch {
    body = { detail: `The server answered ${response.status} without JSON.` };
  }
  return { ok: response.ok, status: response.status, body };
}

function showBanner(text) {
  const banner = $('banner');
  banner.textContent = text ?? '';
  banner.hidden = !text;
}

function humanise(name) {
  const spaced = name.replace(/[_-]+/g, ' ').replace(/([a-z])([A-Z])/g, '$1 $2');
  return spaced.charAt(0).toUpperCase() + spaced.slice(1);
}

function capitalise(text) {
  return text.charAt(0).toUpperCase() + text.slice(1);
}

function formatDateTime(ms) {
  if (!ms) return '';
  const date = new Date(ms);
  const today = new Date().toDateString() === date.toDateString();
  return today
    ? date.toLocaleTimeString()
    : date.toLocaleString(undefined, { dateStyle: 'medium', timeStyle: 'short' });
}

function formatDuration(ms) {
  if (!Number.isFinite(ms) || ms < 0) return '';
  if (ms < 1000) return `${Math.round(ms)} ms`;
  if (ms < 60_000) return `${(ms / 1000).toFixed(ms < 10_000 ? 1 : 0)} s`;
  const seconds = Math.round(ms / 1000);
  if (seconds < 3600) return `${Math.floor(seconds / 60)} min${seconds % 60 ? ` ${seconds % 60} s` : ''}`;
  const minutes = Math.round(seconds / 60);
  return `${Math.floor(minutes / 60)} h${minutes % 60 ? ` ${minutes % 60} min` : ''}`;
}

/** How long a task ran (or has been running); `null` while queued. */
function taskDuration(task) {
  if (!task.startedAt) return null;
  return (task.finishedAt ?? Date.now()) - task.startedAt;
}

function pluginName(id) {
  return state.plugins.get(id)?.name ?? humanise(id);
}

function userName(user) {
  return user.name ?? user.id;
}

function stateBadge(value) {
  return el('span', { class: `badge state-${value}`, text: STATE_WORDS[value] ?? value });
}

/** Why a queued task does not start yet, in words; empty for every other task. */
function waitingText(task) {
  return task.state === 'queued' && task.waitingReason ? capitalise(task.waitingReason) : '';
}

/** Brings the state line drawn inside `container` up to date in place. */
function updateStateCell(container, task) {
  const badge = container.querySelector('.state-line .badge');
  badge.className = `badge state-${task.state}`;
  badge.textContent = STATE_WORDS[task.state] ?? task.state;
  const waiting = waitingText(task);
  const note = container.querySelector('.state-note');
  note.textContent = waiting;
  note.hidden = !waiting;
}

/** A state badge with the reason a queued task waits, read with the state by screen readers. */
function stateCell(task) {
  const waiting = waitingText(task);
  return el(
    'span',
    { class: 'state-line' },
    stateBadge(task.state),
    el('span', { class: 'state-note', text: waiting, hidden: !waiting }),
  );
}

/** Why a task did not succeed, in words. */
function describeError(task) {
  if (!task.error) return '';
  if (task.state === 'cancelled') {
    const by = task.error.cancelledBy;
    return by ? `Cancelled by ${by.name ?? by.id}.` : 'Cancelled.';
  }
  if (task.state === 'timed-out') return `Stopped after its time limit. ${task.error.message}`;
  if (task.state === 'interrupted') return 'The server stopped while the task ran.';
  return task.error.message;
}

/** Asks before an action that cannot be undone; resolves with `true` when the person confirms. */
function confirmAction(title, text, action) {
  const dialog = $('confirm');
  $('confirm-title').textContent = title;
  $('confirm-text').textContent = text;
  $('confirm-yes').textContent = action;
  const opener = document.activeElement;
  return new Promise((resolve) => {
    const finish = (answer) => {
      $('confirm-yes').onclick = null;
      $('confirm-no').onclick = null;
      dialog.onclose = null;
      if (dialog.open) dialog.close();
      opener?.focus?.();
      resolve(answer);
    };
    $('confirm-yes').onclick = () => finish(true);
    $('confirm-no').onclick = () => finish(false);
    dialog.onclose = () => finish(false);
    dialog.showModal();
    $('confirm-no').focus();
  });
}

// ---------------------------------------------------------------------------------------------------------
// Routing: `#/tasks?…`, `#/tasks/<id>`, `#/plugins?q=…`, `#/schedules`

function readRoute() {
  const hash = location.hash.replace(/^#\/?/, '');
  const [path, query = ''] = hash.split('?');
  const parts = path.split('/').filter(Boolean);
  const params = new URLSearchParams(query);
  if (parts[0] === 'tasks' && parts[1]) return { view: 'task', id: decodeURIComponent(parts[1]), params };
  if (parts[0] === 'plugins' || parts[0] === 'schedules') return { view: parts[0], id: null, params };
  return { view: 'tasks', id: null, params };
}

/** Writes the current view's filters into the URL without adding a history entry per keystroke. */
function writeRoute(view, params) {
  const query = params.toString();
  history.replaceState(null, '', `#/${view}${query ? `?${query}` : ''}`);
  state.route = readRoute();
}

async function showRoute() {
  const previous = state.route.view;
  state.route = readRoute();
  const { view } = state.route;
  for (const section of document.querySelectorAll('.view')) section.hidden = section.id !== `view-${view}`;
  for (const link of document.querySelectorAll('.tabs a')) {
    const current = link.dataset.view === (view === 'task' ? 'tasks' : view);
    if (current) link.setAttribute('aria-current', 'page');
    else link.removeAttribute('aria-current');
  }
  document.title = `${{ tasks: 'Tasks', task: 'Task', plugins: 'Plugins', schedules: 'Schedules' }[view]} · Plugboard monitor`;
  if (view === 'tasks') {
    applyTaskFiltersFromRoute();
    await Promise.all([loadTasks(), loadCounts()]);
  } else if (view === 'task') await showTask(state.route.id);
  else if (view === 'plugins') {
    $('plugin-search').value = state.route.params.get('q') ?? '';
    renderPlugins();
  } else if (view === 'schedules') await loadSchedules();
  if (previous !== view) $('view').focus({ preventScroll: true });
}

// ---------------------------------------------------------------------------------------------------------
// Task table

function taskFilters() {
  const params = state.route.params;
  return {
    plugin: params.get('plugin') ?? '',
    state: params.get('state') ?? '',
    user: state.me?.admin ? (params.get('user') ?? '') : '',
  };
}

function applyTaskFiltersFromRoute() {
  const { plugin, state: states, user } = taskFilters();
  $('filter-plugin').value = plugin;
  $('filter-state').value = states;
  if (document.activeElement !== $('filter-user')) $('filter-user').value = user;
  const sort = state.route.params.get('sort');
  if (sort) state.sort = { key: sort.replace(/^-/, ''), descending: sort.startsWith('-') };
  else state.sort = { key: 'createdAt', descending: true };
  for (const th of document.querySelectorAll('#task-table th[data-sort]')) {
    if (th.dataset.sort === state.sort.key) {
      th.setAttribute('aria-sort', state.sort.descending ? 'descending' : 'ascending');
    } else th.removeAttribute('aria-sort');
  }
}

/** The user id a typed name or id stands for: people type "Bob", the server filters by id. */
function resolveUser(text) {
  const typed = text.trim();
  if (!typed) return '';
  for (const [id, name] of state.users) {
    if (id === typed || (name && name.toLowerCase() === typed.toLowerCase())) return id;
  }
  return typed;
}

function updateTaskFilters() {
  const params = new URLSearchParams(state.route.params);
  const form = $('task-filters');
  for (const [name, value] of [
    ['plugin', form.plugin.value],
    ['state', form.state.value],
    ['user', state.me?.admin ? resolveUser(form.user.value) : ''],
  ]) {
    if (value) params.set(name, value);
    else params.delete(name);
  }
  writeRoute('tasks', params);
  loadTasks();
  loadCounts();
}

function matchesFilters(task) {
  const { plugin, state: states, user } = taskFilters();
  if (plugin && task.pluginId !== plugin) return false;
  if (states && !states.split(',').includes(task.state)) return false;
  if (user && task.user.id !== user) return false;
  return true;
}

function noteUser(user) {
  if (!state.users.has(user.id)) {
    state.users.set(user.id, user.name);
    $('known-users').append(el('option', { value: user.name ?? user.id }));
  }
}

async function loadTasks({ more = false } = {}) {
  if (more && state.loadingMore) return;
  if (more) state.loadingMore = true;
  try {
    await loadTaskPage(more);
  } finally {
    if (more) state.loadingMore = false;
  }
}

async function loadTaskPage(more) {
  const query = new URLSearchParams();
  for (const [key, value] of Object.entries(taskFilters())) if (value) query.set(key, value);
  query.set('limit', String(PAGE_SIZE));
  if (more && state.cursor) query.set('cursor', state.cursor);
  // Task records the event stream delivers while the list is on its way, replayed over the fresh list below: the
  // answer may have been written before them.
  const live = new Map();
  if (!more) state.liveCaptures.add(live);
  let answer;
  try {
    answer = await api(`tasks?${query}`);
  } finally {
    state.liveCaptures.delete(live);
  }
  const { ok, body } = answer;
  if (!ok) {
    showBanner(body.detail);
    return;
  }
  if (!more) state.tasks.clear();
  for (const task of body.items) {
    noteUser(task.user);
    state.tasks.set(task.id, task);
  }
  for (const task of live.values()) mergeTask(task);
  state.cursor = body.nextCursor;
  renderTaskTable();
  if (more) $('task-announce').textContent = `${body.items.length} older tasks loaded.`;
}

function sortValue(task, key) {
  if (key === 'plugin') return pluginName(task.pluginId).toLowerCase();
  if (key === 'user') return userName(task.user).toLowerCase();
  if (key === 'state') return STATES.indexOf(task.state);
  if (key === 'duration') return taskDuration(task) ?? -1;
  if (key === 'progress') return task.progress ?? 0;
  return task.createdAt;
}

function sortedTasks() {
  const { key, descending } = state.sort;
  const list = [...state.tasks.values()].filter(matchesFilters);
  list.sort((a, b) => {
    const x = sortValue(a, key);
    const y = sortValue(b, key);
    const order = x < y ? -1 : x > y ? 1 : a.id < b.id ? -1 : 1;
    return descending ? -order : order;
  });
  return list;
}

function taskRow(task) {
  const name = pluginName(task.pluginId);
  const percent = Math.round(task.progress ?? 0);
  const duration = taskDuration(task);
  return el(
    'tr',
    { 'data-task-id': task.id, 'data-state': task.state },
    el(
      'td',
      { 'data-label': 'Plugin' },
      el(
        'a',
        { href: `#/tasks/${encodeURIComponent(task.id)}` },
        name,
        el('span', { class: 'sr-only', text: ` task ${task.id.slice(-6)}` }),
      ),
    ),
    el('td', { 'data-label': 'State', class: 'task-state-cell' }, stateCell(task)),
    state.me?.admin ? el('td', { 'data-label': 'User', text: userName(task.user) }) : null,
    el(
      'td',
      { 'data-label': 'Started' },
      el('time', {
        datetime: new Date(task.startedAt ?? task.createdAt).toISOString(),
        text: formatDateTime(task.startedAt ?? task.createdAt),
      }),
    ),
    el('td', {
      'data-label': 'Duration',
      class: 'duration',
      text: duration === null ? '—' : formatDuration(duration),
    }),
    el(
      'td',
      { 'data-label': 'Progress', class: 'progress-cell' },
      el(
        'div',
        { class: 'progress-wrap' },
        el('progress', {
          max: '100',
          value: String(percent),
          'aria-label': `Progress of ${name} task ${task.id.slice(-6)}`,
          'aria-valuetext': `${percent}%`,
        }),
        el('span', { class: 'percent', text: `${percent}%` }),
      ),
    ),
  );
}

/** Brings a drawn row up to date in place, so a focused link keeps its focus while the task progresses. */
function updateRow(tr, task) {
  tr.dataset.state = task.state;
  updateStateCell(tr, task);
  const duration = taskDuration(task);
  tr.querySelector('.duration').textContent = duration === null ? '—' : formatDuration(duration);
  const percent = Math.round(task.progress ?? 0);
  const bar = tr.querySelector('progress');
  bar.value = percent;
  bar.setAttribute('aria-valuetext', `${percent}%`);
  tr.querySelector('.percent').textContent = `${percent}%`;
}

function renderTaskTable() {
  const tasks = sortedTasks();
  const body = $('task-rows');
  const drawn = new Map([...body.children].map((tr) => [tr.dataset.taskId, tr]));
  const rows = tasks.map((task) => {
    const tr = drawn.get(task.id);
    if (!tr) return taskRow(task);
    updateRow(tr, task);
    return tr;
  });
  const same = rows.length === body.children.length && rows.every((tr, i) => body.children[i] === tr);
  if (!same) body.replaceChildren(...rows);
  $('task-empty').hidden = tasks.length > 0;
  $('task-more').hidden = !state.cursor;
  const { key, descending } = state.sort;
  $('task-caption').textContent =
    `Tasks, sorted by ${key === 'createdAt' ? 'start' : key} ${descending ? 'descending' : 'ascending'}`;
}

/** Merges a record (or a partial one from the event stream) into the table's copy; never goes back in time. */
function mergeTask(task) {
  const known = state.tasks.get(task.id);
  if (known && task.state && ACTIVE_STATES.has(task.state) && !ACTIVE_STATES.has(known.state)) return false;
  if (!known) {
    if (!task.pluginId || !matchesFilters(task)) return false;
    noteUser(task.user);
  }
  state.tasks.set(task.id, { ...known, ...task });
  return true;
}

let countsTimer = null;
function scheduleCounts() {
  clearTimeout(countsTimer);
  countsTimer = setTimeout(loadCounts, 250);
}

async function loadCounts() {
  if (state.route.view !== 'tasks') return;
  const { plugin, user } = taskFilters();
  const query = new URLSearchParams();
  if (plugin) query.set('plugin', plugin);
  if (user) query.set('user', user);
  const { ok, body } = await api(`tasks/counts?${query}`);
  if (!ok) return;
  const selected = taskFilters().state;
  $('task-counts').replaceChildren(
    ...STATES.map((value) => {
      const params = new URLSearchParams(state.route.params);
      params.set('state', value);
      return el(
        'li',
        { class: `count state-${value}`, 'data-state': value },
        el(
          'a',
          { href: `#/tasks?${params}`, 'aria-current': selected === value ? 'true' : null },
          el('span', { class: 'count-number', text: String(body.counts[value]) }),
          el('span', { class: 'count-label', text: STATE_WORDS[value] }),
        ),
      );
    }),
  );
  const active = body.counts.queued + body.counts.running;
  const bulk = $('bulk-cancel');
  bulk.hidden = active === 0;
  bulk.textContent = `Cancel ${active} active task${active === 1 ? '' : 's'}`;
  bulk.dataset.count = String(active);
}

async function bulkCancel() {
  const count = Number($('bulk-cancel').dataset.count);
  const { plugin, user } = taskFilters();
  const scope = [
    plugin ? `of ${pluginName(plugin)}` : null,
    user ? `run by ${state.users.get(user) ?? user}` : null,
  ]
    .filter(Boolean)
    .join(' ');
  const confirmed = await confirmAction(
    'Cancel active tasks?',
    `This cancels ${count} queued or running task${count === 1 ? '' : 's'}${scope ? ` ${scope}` : ''}. Their work stops and cannot be resumed.`,
    `Cancel ${count} task${count === 1 ? '' : 's'}`,
  );
  if (!confirmed) return;
  const filter = {};
  if (plugin) filter.plugin = plugin;
  if (user) filter.user = user;
  const { ok, body } = await api('tasks/cancel', { method: 'POST', body: JSON.stringify(filter) });
  if (!ok) {
    showBanner(body.detail);
    return;
  }
  for (const task of body.cancelled) mergeTask(task);
  renderTaskTable();
  loadCounts();
  $('task-announce').textContent =
    `${body.cancelled.length} task${body.cancelled.length === 1 ? '' : 's'} cancelled.`;
}

// ---------------------------------------------------------------------------------------------------------
// One task

function detailRow(term, value) {
  if (value === null || value === undefined || value === '') return [];
  return [el('dt', { text: term }), el('dd', { 'data-fact': term }, value)];
}

function jsonBlock(summary, value, open = false) {
  const shown = typeof value === 'string' ? value : JSON.stringify(value, null, 2);
  return el('details', { class: 'json', open }, el('summary', { text: summary }), el('pre', { text: shown }));
}

async function showTask(id) {
  const root = $('task-detail');
  const { ok, body } = await api(`tasks/${encodeURIComponent(id)}`);
  if (!ok) {
    $('task-heading').textContent = 'Task not found';
    root.replaceChildren(el('p', { text: body.detail }));
    state.detail = null;
    return;
  }
  state.detail = { task: body, lastSeq: 0, seqs: new Set(), log: [], children: new Map() };
  renderTaskDetail();
  await Promise.all([loadChildren(id), loadWholeLog(id)]);
}

/** Reads the children of the task shown; the event stream keeps them current afterwards. */
async function loadChildren(id) {
  const { ok, body } = await api(`tasks/${encodeURIComponent(id)}/children`);
  if (!ok || state.detail?.task.id !== id) return;
  for (const child of body.items) mergeChild(child);
  renderChildren();
}

/** Orders states as a task passes them: queued, running, then any final state. */
function stateRank(value) {
  return value === 'queued' ? 0 : value === 'running' ? 1 : 2;
}

/**
 * Merges a child's record (or a partial one from the event stream) into the detail's copy. Records come from the
 * children read over HTTP and from the event stream, in either order: an older state never replaces a newer one.
 */
function mergeChild(task) {
  const children = state.detail.children;
  const known = children.get(task.id);
  if (known && task.state && stateRank(task.state) < stateRank(known.state)) return;
  if (!known && !task.pluginId) return;
  children.set(task.id, { ...known, ...task });
}

function childItem(child) {
  const name = pluginName(child.pluginId);
  return el(
    'li',
    { 'data-task-id': child.id },
    el(
      'a',
      { href: `#/tasks/${encodeURIComponent(child.id)}` },
      name,
      el('span', { class: 'sr-only', text: ` task ${child.id.slice(-6)}` }),
    ),
    ' ',
    stateCell(child),
  );
}

/** Draws the children of the task shown, updating drawn items in place so a focused link keeps its focus. */
function renderChildren() {
  const detail = state.detail;
  const section = $('task-children');
  if (!detail || !section) return;
  const children = [...detail.children.values()].sort((a, b) => a.createdAt - b.createdAt);
  section.hidden = children.length === 0;
  const summary = STATES.flatMap((value) => {
    const n = children.filter((child) => child.state === value).length;
    return n > 0 ? [`${n} ${STATE_WORDS[value].toLowerCase()}`] : [];
  });
  $('children-heading').textContent =
    `Children (${children.length}${summary.length > 0 ? `: ${summary.join(', ')}` : ''})`;
  const list = $('child-list');
  const drawn = new Map([...list.children].map((li) => [li.dataset.taskId, li]));
  const items = children.map((child) => {
    const li = drawn.get(child.id);
    if (!li) return childItem(child);
    updateStateCell(li, child);
    return li;
  });
  const same = items.length === list.children.length && items.every((li, i) => list.children[i] === li);
  if (!same) list.replaceChildren(...items);
}

function childrenSection() {
  return el(
    'section',
    { class: 'children', id: 'task-children', 'aria-labelledby': 'children-heading', hidden: true },
    el('h3', { id: 'children-heading', text: 'Children' }),
    el('ul', { class: 'child-list', id: 'child-list' }),
  );
}

function renderTaskDetail() {
  const detail = state.detail;
  if (!detail) return;
  const task = detail.task;
  const name = pluginName(task.pluginId);
  $('task-heading').textContent = `${name} task`;
  const duration = taskDuration(task);
  const active = ACTIVE_STATES.has(task.state);
  const plugin = state.plugins.get(task.pluginId);
  const actions = el('div', { class: 'form-actions' });
  if (active) {
    actions.append(
      el('button', {
        type: 'button',
        class: 'danger',
        text: 'Cancel task',
        onclick: async (event) => {
          const confirmed = await confirmAction(
            'Cancel this task?',
            `The ${name} task stops and cannot be resumed.`,
            'Cancel task',
          );
          if (!confirmed) return;
          event.target.disabled = true;
          const { ok, body } = await api(`tasks/${encodeURIComponent(task.id)}/cancel`, { method: 'POST' });
          if (!ok) showBanner(body.detail);
          else updateDetail(body);
        },
      }),
    );
  } else if (plugin?.status === 'operational') {
    actions.append(
      el('button', {
        type: 'button',
        text: 'Run again',
        onclick: async (event) => {
          event.target.disabled = true;
          const { ok, body } = await api(`tasks/${encodeURIComponent(task.id)}/rerun`, { method: 'POST' });
          event.target.disabled = false;
          if (!ok) showBanner(body.detail);
          else location.hash = `#/tasks/${encodeURIComponent(body.task.id)}`;
        },
      }),
    );
  }
  const statusNode = el('p', { class: 'status-text', role: 'status' });
  const facts = el(
    'dl',
    { class: 'facts' },
    ...detailRow('State', stateBadge(task.state)),
    ...detailRow('Waiting', waitingText(task) || null),
    ...detailRow(
      'Parent task',
      task.parentId
        ? el(
            'a',
            { href: `#/tasks/${encodeURIComponent(task.parentId)}` },
            `${name} task `,
            el('code', { text: task.parentId.slice(-6) }),
          )
        : null,
    ),
    ...detailRow('Run by', userName(task.user)),
    ...detailRow('Queued', formatDateTime(task.createdAt)),
    ...detailRow('Started', formatDateTime(task.startedAt)),
    ...detailRow('Finished', formatDateTime(task.finishedAt)),
    ...detailRow('Duration', duration === null ? (active ? '—' : null) : formatDuration(duration)),
    ...detailRow('Attempts', `${task.attempt} of ${task.maxAttempts}`),
    ...detailRow('Cancelled by', task.error?.cancelledBy ? userName(task.error.cancelledBy) : null),
    ...detailRow('On', task.contextId),
    ...detailRow('Schedule', task.scheduleId ? pluginName(task.scheduleId) : null),
    ...detailRow('Task id', el('code', { text: task.id })),
  );
  const bar = el('progress', { max: '100', 'aria-label': `Progress of this ${name} task` });
  const percentNode = el('span', { class: 'percent' });
  const progress = el('div', { class: 'progress-line' }, bar, percentNode);
  const durationNode = facts.querySelector('dd[data-fact="Duration"]');
  detail.nodes = { bar, percentNode, statusNode, durationNode };
  const outcome = [];
  if (task.state === 'succeeded' && task.result !== undefined && task.result !== null) {
    outcome.push(jsonBlock('Result', task.result));
  } else if (task.error && !active) {
    outcome.push(el('p', { class: 'task-error', text: describeError(task) }));
    if (task.state !== 'cancelled') outcome.push(jsonBlock('Error details', task.error));
  }
  $('task-detail').replaceChildren(
    actions,
    facts,
    progress,
    active ? statusNode : '',
    ...outcome,
    childrenSection(),
    jsonBlock('Arguments', task.input ?? {}),
    logSection(),
  );
  renderChildren();
  updateDetailProgress();
}

/** Progress, status text and duration of the task shown, updated without redrawing the view. */
function updateDetailProgress() {
  const { task, nodes } = state.detail;
  const percent = Math.round(task.progress ?? 0);
  nodes.bar.value = percent;
  nodes.bar.setAttribute('aria-valuetext', `${percent}%`);
  nodes.percentNode.textContent = `${percent}%`;
  if (ACTIVE_STATES.has(task.state)) {
    nodes.statusNode.textContent = [task.statusText, task.progressMessage].filter(Boolean).join(' · ');
  }
  const duration = taskDuration(task);
  if (nodes.durationNode && duration !== null) nodes.durationNode.textContent = formatDuration(duration);
}

function logSection() {
  const detail = state.detail;
  const level = detail.level ?? 'debug';
  const select = el(
    'select',
    {
      id: 'log-level',
      onchange: (event) => {
        detail.level = event.target.value;
        renderLogLines();
      },
    },
    ...[
      ['debug', 'Every line'],
      ['info', 'Info and above'],
      ['warn', 'Warnings and errors'],
      ['error', 'Errors only'],
    ].map(([value, text]) => el('option', { value, text, selected: value === level })),
  );
  return el(
    'section',
    { class: 'log', 'aria-labelledby': 'log-heading' },
    el('h3', {
      id: 'log-heading',
      text: `Log (${detail.task.logCount ?? 0} line${detail.task.logCount === 1 ? '' : 's'})`,
    }),
    el('label', { class: 'log-filter' }, 'Show ', select),
    el('ol', { class: 'log-lines', id: 'log-lines', tabindex: '0', 'aria-label': 'Log lines' }),
  );
}

function logLine(entry) {
  return el(
    'li',
    { class: `log-line level-${entry.level}` },
    el('time', { text: new Date(entry.time).toLocaleTimeString() }),
    el('span', { class: 'level', text: entry.level }),
    el('span', { class: 'message', text: entry.message }),
  );
}

function renderLogLines() {
  const list = $('log-lines');
  if (!list || !state.detail) return;
  const min = LOG_RANK[state.detail.level ?? 'debug'];
  list.replaceChildren(...state.detail.log.filter((e) => (LOG_RANK[e.level] ?? 0) >= min).map(logLine));
}

/**
 * Adds a log line to the task shown. Lines come from two places (the log read over HTTP and the event stream), in
 * either order: each `seq` is kept once, in order.
 */
function appendLog(entry) {
  const detail = state.detail;
  if (!detail || detail.seqs.has(entry.seq)) return;
  detail.seqs.add(entry.seq);
  if (entry.seq < detail.lastSeq) {
    detail.log.push(entry);
    detail.log.sort((a, b) => a.seq - b.seq);
    renderLogLines();
    return;
  }
  detail.lastSeq = entry.seq;
  detail.log.push(entry);
  const list = $('log-lines');
  if (list && (LOG_RANK[entry.level] ?? 0) >= LOG_RANK[detail.level ?? 'debug']) {
    const atEnd = list.scrollTop + list.clientHeight >= list.scrollHeight - 4;
    list.append(logLine(entry));
    if (atEnd) list.scrollTop = list.scrollHeight;
  }
}

async function loadWholeLog(id) {
  // Paged by its own cursor: lines the event stream delivered meanwhile may be newer than the pages read so far.
  let after = 0;
  for (;;) {
    if (state.detail?.task.id !== id) return;
    const { ok, body } = await api(`tasks/${encodeURIComponent(id)}/logs?after=${after}&limit=1000`);
    if (!ok || state.detail?.task.id !== id) return;
    for (const line of body.items) appendLog(line);
    if (body.items.length < 1000) return;
    after = body.nextAfter;
  }
}

function updateDetail(task) {
  const detail = state.detail;
  if (!detail || detail.task.id !== task.id) return;
  if (task.state && ACTIVE_STATES.has(task.state) && !ACTIVE_STATES.has(detail.task.state)) return;
  const before = detail.task;
  detail.task = { ...before, ...task };
  const stateChanged = before.state !== detail.task.state;
  if (!stateChanged && detail.nodes) {
    updateDetailProgress();
    return;
  }
  const logs = $('log-lines');
  const scroll = logs?.scrollTop;
  renderTaskDetail();
  renderLogLines();
  if (logs && scroll !== undefined) $('log-lines').scrollTop = scroll;
  if (stateChanged && !ACTIVE_STATES.has(detail.task.state)) {
    // The final record may carry who cancelled it: read it once more.
    api(`tasks/${encodeURIComponent(task.id)}`).then(({ ok, body }) => {
      if (ok && state.detail?.task.id === body.id) {
        state.detail.task = body;
        renderTaskDetail();
        renderLogLines();
      }
    });
  }
}

// ---------------------------------------------------------------------------------------------------------
// Plugins

function renderPlugins() {
  const root = $('plugin-groups');
  root.setAttribute('aria-busy', 'false');
  const search = $('plugin-search').value.trim().toLowerCase();
  const all = [...state.plugins.values()];
  const plugins = all.filter(
    (p) =>
      !search ||
      [p.name, p.id, p.description, p.category].some((text) => text?.toLowerCase().includes(search)),
  );
  $('plugin-search').closest('.search').hidden = all.length < 6;
  // Open forms survive a redraw: the person may be typing in one.
  const kept = new Map();
  for (const card of root.querySelectorAll('article.plugin')) kept.set(card.dataset.pluginId, card);
  root.replaceChildren();
  if (search) $('plugin-announce').textContent = `${plugins.length} of ${all.length} plugins match.`;
  if (plugins.length === 0) {
    root.append(
      el('p', {
        class: 'empty',
        text: search ? 'No plugin matches your search.' : 'No plugins are available to you.',
      }),
    );
  }
  const groups = new Map();
  for (const plugin of plugins) {
    const category = plugin.category ?? 'Other';
    if (!groups.has(category)) groups.set(category, []);
    groups.get(category).push(plugin);
  }
  for (const [category, members] of groups) {
    const headingId = `category-${category.replace(/\W+/g, '-').toLowerCase()}`;
    const section = el(
      'section',
      { class: 'category', 'aria-labelledby': headingId },
      el('h3', { id: headingId, text: category }),
    );
    let group;
    for (const plugin of members) {
      if (plugin.sortGroup && plugin.sortGroup !== group) {
        section.append(el('p', { class: 'sort-group', text: plugin.sortGroup }));
      }
      group = plugin.sortGroup;
      const old = kept.get(plugin.id);
      section.append(old && old.dataset.version === cardVersion(plugin) ? old : pluginCard(plugin));
    }
    root.append(section);
  }
  const select = $('filter-plugin');
  const chosen = taskFilters().plugin;
  select.replaceChildren(el('option', { value: '', text: 'All plugins' }));
  for (const plugin of all) select.append(el('option', { value: plugin.id, text: plugin.name }));
  select.value = chosen;
}

function cardVersion(plugin) {
  return JSON.stringify([plugin.name, plugin.description, plugin.status, plugin.reason, plugin.version]);
}

function pluginCard(plugin) {
  const titleId = `plugin-${plugin.id.replace(/[^A-Za-z0-9_-]/g, '_')}-title`;
  const card = el('article', {
    class: `plugin status-${plugin.status}`,
    'data-plugin-id': plugin.id,
    'data-version': cardVersion(plugin),
    'aria-labelledby': titleId,
  });
  card.append(
    el(
      'header',
      {},
      el('h4', { id: titleId, text: plugin.name }),
      el('span', {
        class: `badge status-${plugin.status}`,
        text: STATUS_WORDS[plugin.status] ?? plugin.status,
      }),
    ),
  );
  if (plugin.description) card.append(el('p', { class: 'description', text: plugin.description }));
  if (plugin.status !== 'operational' && plugin.reason) {
    card.append(el('p', { class: 'reason', text: plugin.reason }));
  }
  const runnable = plugin.status === 'operational' && (plugin.kind === 'action' || plugin.kind === 'context');
  if (runnable) {
    const details = el('details', { class: 'run' }, el('summary', { text: `Run ${plugin.name}` }));
    details.append(pluginForm(plugin));
    card.append(details);
  }
  if (plugin.kind === 'background' && plugin.schedule) {
    card.append(
      el('p', {
        class: 'schedule',
        text: `Background task, runs ${cadence(plugin.schedule.repeatSeconds)}.`,
      }),
    );
  }
  if (state.me?.admin) card.append(adminActions(plugin));
  return card;
}

function cadence(seconds) {
  if (!seconds) return 'once';
  for (const [size, one, many] of [
    [604800, 'week', 'weeks'],
    [86400, 'day', 'days'],
    [3600, 'hour', 'hours'],
    [60, 'minute', 'minutes'],
  ]) {
    if (seconds % size === 0) return seconds === size ? `every ${one}` : `every ${seconds / size} ${many}`;
  }
  return seconds === 1 ? 'every second' : `every ${seconds} seconds`;
}

function adminActions(plugin) {
  const bar = el('div', { class: 'admin-actions' });
  const act = (label, path, question) =>
    el('button', {
      type: 'button',
      class: 'secondary',
      text: label,
      'aria-label': `${label} ${plugin.name}`,
      onclick: async (event) => {
        if (question && !(await confirmAction(`${label} ${plugin.name}?`, question, label))) return;
        event.target.disabled = true;
        const { ok, body } = await api(path, { method: 'POST' });
        if (!ok) showBanner(body.detail);
        event.target.disabled = false;
        if (ok && body.id) updatePlugin(body);
        if (ok && body.tasks) {
          for (const task of body.tasks) mergeTask(task);
          $('plugin-announce').textContent = `${plugin.name} started.`;
        }
      },
    });
  const base = `plugins/${encodeURIComponent(plugin.id)}`;
  if (plugin.status === 'disabled') bar.append(act('Enable', `${base}/enable`));
  else {
    bar.append(
      act(
        'Disable',
        `${base}/disable`,
        `Nobody can run ${plugin.name} until an administrator enables it again. Running tasks go on.`,
      ),
    );
  }
  if (plugin.kind === 'background' && plugin.status === 'operational') {
    bar.append(act('Run now', `schedules/${encodeURIComponent(plugin.id)}/trigger`));
  }
  return bar;
}

function updatePlugin(plugin) {
  state.plugins.set(plugin.id, plugin);
  const old = document.querySelector(`article.plugin[data-plugin-id="${CSS.escape(plugin.id)}"]`);
  if (old) old.replaceWith(pluginCard(plugin));
  else renderPlugins();
}

// ---------------------------------------------------------------------------------------------------------
// Forms drawn from JSON Schema: every field reads its value and reports problems in words at its JSON Pointer.

function enumValues(schema) {
  if (Array.isArray(schema.enum)) return schema.enum;
  const options = schema.anyOf ?? schema.oneOf;
  if (Array.isArray(options) && options.length > 0 && options.every((o) => o && 'const' in o)) {
    return options.map((o) => o.const);
  }
  return null;
}

function schemaType(schema) {
  if (Array.isArray(schema.type)) return schema.type.find((t) => t !== 'null');
  if (schema.type) return schema.type;
  const options = schema.anyOf ?? schema.oneOf;
  if (Array.isArray(options)) return options.map(schemaType).find((t) => t && t !== 'null');
  return undefined;
}

const EMAIL = /^[^\s@]+@[^\s@]+\.[^\s@]+$/;

/** Problems with a string value, in words. */
function stringProblem(value, schema) {
  if (schema.minLength !== undefined && value.length < schema.minLength) {
    return schema.minLength === 1 ? 'Enter a value' : `Enter at least ${schema.minLength} characters`;
  }
  if (schema.maxLength !== undefined && value.length > schema.maxLength) {
    return `Use at most ${schema.maxLength} characters`;
  }
  if (schema.format === 'email' && !EMAIL.test(value)) return 'Enter an email address, like name@example.com';
  if (schema.format === 'uri') {
    try {
      new URL(value);
    } catch {
      return 'Enter a full web address, like https://example.com';
    }
  }
  if (schema.pattern !== undefined) {
    try {
      if (!new RegExp(schema.pattern, 'u').test(value)) return 'Enter a value in the expected format';
    } catch {}
  }
  return null;
}

function numberProblem(value, schema, integer) {
  if (integer && !Number.isInteger(value)) return 'Enter a whole number';
  const min = schema.minimum ?? (schema.exclusiveMinimum !== undefined ? schema.exclusiveMinimum : undefined);
  const max = schema.maximum ?? (schema.exclusiveMaximum !== undefined ? schema.exclusiveMaximum : undefined);
  const low =
    schema.minimum !== undefined
      ? value < schema.minimum
      : schema.exclusiveMinimum !== undefined && value <= schema.exclusiveMinimum;
  const high =
    schema.maximum !== undefined
      ? value > schema.maximum
      : schema.exclusiveMaximum !== undefined && value >= schema.exclusiveMaximum;
  if (low || high) {
    if (min !== undefined && max !== undefined) return `Enter a number from ${min} to ${max}`;
    return min !== undefined ? `Enter a number of at least ${min}` : `Enter a number of at most ${max}`;
  }
  return null;
}

/** Turns the server's JSON Schema wording ("must be >= 1") into a sentence a person reads. */
function wordsFor(message) {
  const rules = [
    [/^must have required property '(.+)'$/, () => 'This is required'],
    [/^is required$/, () => 'This is required'],
    [/^must be <= (.+)$/, (m) => `Enter a number of at most ${m[1]}`],
    [/^must be >= (.+)$/, (m) => `Enter a number of at least ${m[1]}`],
    [/^must be integer$/, () => 'Enter a whole number'],
    [/^must be (number|integer)$/, () => 'Enter a number'],
    [/^must be array$/, () => 'Add the items one by one'],
    [/^must NOT have fewer than (\d+) characters$/, (m) => `Enter at least ${m[1]} characters`],
    [/^must NOT have more than (\d+) characters$/, (m) => `Use at most ${m[1]} characters`],
    [/^must NOT have fewer than (\d+) items$/, (m) => `Add at least ${m[1]} items`],
    [/^must NOT have more than (\d+) items$/, (m) => `Use at most ${m[1]} items`],
    [/^must match format "(.+)"$/, (m) => `Enter a valid ${m[1]}`],
    [/^must be equal to one of the allowed values$/, () => 'Choose one of the options'],
  ];
  for (const [pattern, words] of rules) {
    const match = pattern.exec(message);
    if (match) return words(match);
  }
  return capitalise(message);
}

/**
 * Builds the field of one schema: `{ element, read(pointer, problems), show(pointer, messages) }`. `read` returns
 * the value (or `undefined` when left empty) and adds `[pointer, words]` problems; `show` writes the messages meant
 * for this field (by pointer) next to it and removes them from the map.
 */
function schemaField(ids, schema, label, required, depth = 0, name = null) {
  const options = enumValues(schema);
  const type = schemaType(schema);
  if (!options && type === 'object' && schema.properties && depth < 4) {
    return objectField(ids, schema, label, required, depth);
  }
  if (!options && type === 'array' && depth < 4) return arrayField(ids, schema, label, required, depth);
  return leafField(ids, schema, label, required, options, type, name);
}

function nextId(ids) {
  ids.count += 1;
  return `${ids.prefix}-f${ids.count}`;
}

function leafField(ids, schema, label, required, options, type, name = null) {
  const id = nextId(ids);
  const helpId = `${id}-help`;
  const errorId = `${id}-error`;
  const labelNode = el('label', { for: id }, label);
  if (required) labelNode.append(el('span', { class: 'required', 'aria-hidden': 'true', text: ' *' }));
  const describedBy = [schema.description ? helpId : null, errorId].filter(Boolean).join(' ');
  const common = { id, 'aria-describedby': describedBy, 'aria-required': required ? 'true' : null };
  let input;
  let read;
  if (options) {
    input = el('select', common);
    if (!required || schema.default === undefined) input.append(el('option', { value: '', text: '—' }));
    options.forEach((value, index) => {
      input.append(el('option', { value: String(index), text: String(value) }));
    });
    const defaultIndex = options.indexOf(schema.default);
    input.value = defaultIndex >= 0 ? String(defaultIndex) : '';
    read = () => (input.value === '' ? undefined : options[Number(input.value)]);
  } else if (type === 'boolean') {
    input = el('input', { ...common, type: 'checkbox', 'aria-required': null });
    input.checked = schema.default === true;
    read = () => input.checked;
  } else if (type === 'integer' || type === 'number') {
    input = el('input', {
      ...common,
      type: 'number',
      inputmode: type === 'integer' ? 'numeric' : 'decimal',
      step: type === 'integer' ? '1' : 'any',
      min: schema.minimum !== undefined ? String(schema.minimum) : null,
      max: schema.maximum !== undefined ? String(schema.maximum) : null,
    });
    if (schema.default !== undefined) input.value = String(schema.default);
    read = (pointer, problems) => {
      const raw = input.value.trim();
      if (raw === '') {
        if (input.validity?.badInput) problems.push([pointer, 'Enter a number']);
        return undefined;
      }
      const n = Number(raw);
      if (Number.isNaN(n)) {
        problems.push([pointer, 'Enter a number']);
        return undefined;
      }
      const problem = numberProblem(n, schema, type === 'integer');
      if (problem) problems.push([pointer, problem]);
      return n;
    };
  } else if (type === 'string') {
    const format = schema.format;
    const inputType =
      { date: 'date', 'date-time': 'datetime-local', email: 'email', uri: 'url', time: 'time' }[format] ??
      'text';
    input = el('input', {
      ...common,
      type: inputType,
      maxlength: schema.maxLength !== undefined ? String(schema.maxLength) : null,
      autocomplete: inputType === 'email' ? 'email' : inputType === 'url' ? 'url' : 'off',
    });
    if (typeof schema.default === 'string') {
      input.value = format === 'date-time' ? schema.default.slice(0, 16) : schema.default;
    }
    read = (pointer, problems) => {
      if (input.value === '') return undefined;
      let value = input.value;
      if (format === 'date-time') {
        const date = new Date(value);
        if (Number.isNaN(date.getTime())) {
          problems.push([pointer, 'Enter a date and time']);
          return undefined;
        }
        value = date.toISOString();
      } else if (format === 'time' && /^\d\d:\d\d$/.test(value)) value = `${value}:00`;
      const problem = format === 'date-time' ? null : stringProblem(value, schema);
      if (problem) problems.push([pointer, problem]);
      return value;
    };
  } else {
    // A schema the form cannot draw (a union of objects, say): typed as JSON.
    input = el('textarea', { ...common, rows: '3', spellcheck: 'false' });
    if (schema.default !== undefined) input.value = JSON.stringify(schema.default);
    read = (pointer, problems) => {
      const raw = input.value.trim();
      if (raw === '') return undefined;
      try {
        return JSON.parse(raw);
      } catch {
        problems.push([pointer, 'Enter valid JSON']);
        return undefined;
      }
    };
  }
  const error = el('p', { class: 'field-error', id: errorId });
  const element = el(
    'div',
    { class: `field field-${input.type === 'checkbox' ? 'checkbox' : 'text'}`, 'data-field': name },
    labelNode,
    input,
    schema.description ? el('p', { class: 'help', id: helpId, text: schema.description }) : null,
    error,
  );
  return {
    element,
    input,
    read(pointer, problems) {
      const value = read(pointer, problems);
      if (value === undefined && required && type !== 'boolean') {
        problems.push([pointer, options ? 'Choose an option' : 'This is required']);
      }
      return value;
    },
    show(pointer, messages) {
      const mine = [...messages.entries()].filter(
        ([path]) => path === pointer || path.startsWith(`${pointer}/`),
      );
      for (const [path] of mine) messages.delete(path);
      const text = mine.map(([, message]) => `${message}.`).join(' ');
      error.textContent = text;
      if (text) input.setAttribute('aria-invalid', 'true');
      else input.removeAttribute('aria-invalid');
    },
  };
}

function objectField(ids, schema, label, required, depth) {
  const requiredSet = new Set(schema.required ?? []);
  const children = Object.entries(schema.properties).map(([name, property]) => ({
    name,
    field: schemaField(
      ids,
      property,
      property.title ?? humanise(name),
      requiredSet.has(name),
      depth + 1,
      name,
    ),
  }));
  const error = el('p', { class: 'field-error', id: nextId(ids) });
  const legend = el('legend', {}, label);
  if (required) legend.append(el('span', { class: 'required', 'aria-hidden': 'true', text: ' *' }));
  const element =
    depth === 0
      ? el('div', { class: 'fields' }, ...children.map((c) => c.field.element), error)
      : el(
          'fieldset',
          { class: 'group' },
          legend,
          schema.description ? el('p', { class: 'help', text: schema.description }) : null,
          ...children.map((c) => c.field.element),
          error,
        );
  return {
    element,
    read(pointer, problems) {
      const value = {};
      const inner = [];
      for (const { name, field } of children) {
        const v = field.read(`${pointer}/${name}`, inner);
        if (v !== undefined) value[name] = v;
      }
      const empty =
        Object.keys(value).length === 0 || children.every((c) => c.field.input?.type === 'checkbox');
      // An optional group left empty is left out, and so are the problems of its required fields.
      if (
        !required &&
        depth > 0 &&
        empty &&
        inner.every(([, m]) => m === 'This is required' || m === 'Choose an option')
      ) {
        return undefined;
      }
      problems.push(...inner);
      return value;
    },
    show(pointer, messages) {
      for (const { name, field } of children) field.show(`${pointer}/${name}`, messages);
      const own = messages.get(pointer);
      messages.delete(pointer);
      error.textContent = own ? `${own}.` : '';
    },
  };
}

function arrayField(ids, schema, label, required, depth) {
  const itemSchema =
    schema.items && typeof schema.items === 'object' && !Array.isArray(schema.items) ? schema.items : {};
  const itemLabel = itemSchema.title ?? label.replace(/s$/, '');
  const list = el('ol', { class: 'array-items' });
  const items = [];
  const error = el('p', { class: 'field-error', id: nextId(ids) });
  const legend = el('legend', {}, label);
  if (required) legend.append(el('span', { class: 'required', 'aria-hidden': 'true', text: ' *' }));
  const addButton = el('button', {
    type: 'button',
    class: 'secondary small',
    text: `Add ${itemLabel.toLowerCase()}`,
  });
  const relabel = () => {
    items.forEach((item, index) => {
      item.labels.forEach((node) => {
        node.firstChild.textContent = `${itemLabel} ${index + 1}`;
      });
      item.remove.textContent = 'Remove';
      item.remove.setAttribute('aria-label', `Remove ${itemLabel.toLowerCase()} ${index + 1}`);
    });
    addButton.disabled = schema.maxItems !== undefined && items.length >= schema.maxItems;
  };
  const add = (value) => {
    const field = schemaField(ids, itemSchema, `${itemLabel} ${items.length + 1}`, true, depth + 1);
    const remove = el('button', { type: 'button', class: 'secondary small' });
    const row = el('li', { class: 'array-item' }, field.element, remove);
    const item = {
      field,
      row,
      remove,
      labels: [...field.element.querySelectorAll(':scope > label, :scope > legend')],
    };
    if (value !== undefined && field.input) {
      if (field.input.type === 'checkbox') field.input.checked = value === true;
      else if (field.input.tagName === 'SELECT') {
        const index = enumValues(itemSchema)?.indexOf(value) ?? -1;
        if (index >= 0) field.input.value = String(index);
      } else field.input.value = typeof value === 'object' ? JSON.stringify(value) : String(value);
    }
    remove.addEventListener('click', () => {
      const at = items.indexOf(item);
      items.splice(at, 1);
      row.remove();
      relabel();
      (items[at]?.row.querySelector('input, select, textarea') ?? addButton).focus();
    });
    items.push(item);
    list.append(row);
    relabel();
    return item;
  };
  addButton.addEventListener('click', () => {
    const item = add();
    item.row.querySelector('input, select, textarea')?.focus();
  });
  const defaults = Array.isArray(schema.default) ? schema.default : [];
  for (const value of defaults) add(value);
  while (items.length < (schema.minItems ?? 0)) add();
  const element = el(
    'fieldset',
    { class: 'group array' },
    legend,
    schema.description ? el('p', { class: 'help', text: schema.description }) : null,
    list,
    addButton,
    error,
  );
  return {
    element,
    read(pointer, problems) {
      const values = items.map((item, index) => item.field.read(`${pointer}/${index}`, problems));
      if (values.length === 0 && !required) return undefined;
      if (schema.minItems !== undefined && values.length < schema.minItems) {
        problems.push([pointer, `Add at least ${schema.minItems} item${schema.minItems === 1 ? '' : 's'}`]);
      }
      if (schema.uniqueItems && new Set(values.map((v) => JSON.stringify(v))).size < values.length) {
        problems.push([pointer, 'Each item must be different']);
      }
      return values;
    },
    show(pointer, messages) {
      for (const [index, item] of items.entries()) item.field.show(`${pointer}/${index}`, messages);
      const own = messages.get(pointer);
      messages.delete(pointer);
      error.textContent = own ? `${own}.` : '';
    },
  };
}

function pluginForm(plugin) {
  const formId = `run-${plugin.id.replace(/[^A-Za-z0-9_-]/g, '_')}`;
  const ids = { prefix: formId, count: 0 };
  const schema = { type: 'object', properties: {}, ...(plugin.schemas.args ?? {}) };
  let contextField = null;
  if (plugin.kind === 'context' && plugin.context) {
    const kind = plugin.context.kind ?? 'object';
    contextField = leafField(
      ids,
      { type: 'string', description: plugin.context.description ?? `The id of the ${kind} to act on.` },
      humanise(plugin.context.idArgument),
      true,
      null,
      'string',
      plugin.context.idArgument,
    );
  }
  const args = objectField(ids, schema, '', true, 0);
  const message = el('p', { class: 'form-message', role: 'status' });
  const submit = el('button', { type: 'submit', text: 'Run' });
  const form = el(
    'form',
    { class: 'plugin-form', id: formId, novalidate: true, 'aria-label': `Arguments of ${plugin.name}` },
    contextField?.element,
    args.element,
    el('div', { class: 'form-actions' }, submit, message),
  );
  const show = (messages) => {
    contextField?.show('/context', messages);
    args.show('/args', messages);
    return [...messages.values()];
  };
  form.addEventListener('submit', async (event) => {
    event.preventDefault();
    message.textContent = '';
    message.className = 'form-message';
    const problems = [];
    const body = { args: args.read('/args', problems) ?? {} };
    if (contextField) {
      const context = contextField.read('/context', problems);
      if (context !== undefined) body.context = context;
    }
    if (problems.length > 0) {
      show(new Map(problems.reverse()));
      message.textContent = `Check the ${problems.length === 1 ? 'field' : `${problems.length} fields`} marked above.`;
      message.classList.add('failure');
      form.querySelector('[aria-invalid="true"]')?.focus();
      return;
    }
    show(new Map());
    submit.disabled = true;
    const { ok, body: answer } = await api(`plugins/${encodeURIComponent(plugin.id)}/execute`, {
      method: 'POST',
      body: JSON.stringify(body),
    });
    submit.disabled = false;
    if (ok) {
      const count = answer.tasks.length;
      message.replaceChildren(
        count === 0 ? 'Done: no task was needed.' : `Started ${count} task${count > 1 ? 's' : ''}. `,
        count === 1
          ? el('a', { href: `#/tasks/${encodeURIComponent(answer.tasks[0].id)}`, text: 'Follow it' })
          : '',
      );
      message.classList.add('success');
      for (const task of answer.tasks) mergeTask(task);
      return;
    }
    const messages = new Map();
    for (const error of answer.errors ?? []) {
      // The server points into the request body; a context error names the plugin's id argument.
      const path =
        contextField && (error.path === '/context' || error.path === `/${plugin.context.idArgument}`)
          ? '/context'
          : error.path;
      messages.set(path, wordsFor(error.message));
    }
    const unplaced = show(messages);
    message.textContent = [
      unplaced.length > 0 || messages.size === 0
        ? (answer.detail ?? 'The plugin could not run.')
        : 'The plugin could not run: check the fields marked above.',
      ...unplaced.map((m) => `${m}.`),
    ].join(' ');
    message.classList.add('failure');
    form.querySelector('[aria-invalid="true"]')?.focus();
  });
  return form;
}

// ---------------------------------------------------------------------------------------------------------
// Schedules

/** How often a schedule runs: its cadence in words, or its cron expression set as code with its time zone. */
function scheduleCadence(schedule) {
  if (!schedule.cron) return [capitalise(schedule.cadence)];
  return [
    'On cron ',
    el('code', { class: 'cron', text: schedule.cron }),
    `, ${schedule.timeZone ?? 'UTC'} time`,
  ];
}

async function loadSchedules() {
  const { ok, body } = await api('schedules');
  if (!ok) {
    showBanner(body.detail);
    return;
  }
  const rows = body.items.map((schedule) => {
    const plugin = state.plugins.get(schedule.pluginId);
    const canRun = state.me?.admin && plugin?.status === 'operational';
    const last = schedule.lastRunAt
      ? [
          el('time', { text: formatDateTime(schedule.lastRunAt) }),
          ' ',
          stateBadge(schedule.lastState ?? 'queued'),
        ]
      : ['Not yet'];
    const next = schedule.nextRunAt ? formatDateTime(schedule.nextRunAt) : 'Not planned';
    const runNow = canRun
      ? el('button', {
          type: 'button',
          class: 'secondary small',
          text: 'Run now',
          'aria-label': `Run now: ${schedule.pluginName}`,
          onclick: async (event) => {
            event.target.disabled = true;
            const { ok, body: answer } = await api(`schedules/${encodeURIComponent(schedule.id)}/trigger`, {
              method: 'POST',
            });
            event.target.disabled = false;
            if (!ok) showBanner(answer.detail);
            else loadSchedules();
          },
        })
      : '';
    return el(
      'tr',
      { 'data-schedule-id': schedule.id },
      el('td', { 'data-label': 'Plugin', text: schedule.pluginName }),
      el('td', { 'data-label': 'Runs' }, ...scheduleCadence(schedule), ` (${schedule.runs} so far)`),
      el('td', { 'data-label': 'Last run' }, ...last),
      el('td', { 'data-label': 'Next run', text: next }),
      el('td', { 'data-label': 'Actions' }, runNow),
    );
  });
  $('schedule-rows').replaceChildren(...rows);
  $('schedule-empty').hidden = rows.length > 0;
}

// ---------------------------------------------------------------------------------------------------------
// Live events

function setConnection(label, value) {
  const node = $('connection');
  node.textContent = label;
  node.dataset.state = value;
}

let tableTimer = null;
function scheduleTable() {
  if (tableTimer) return;
  tableTimer = setTimeout(() => {
    tableTimer = null;
    if (state.route.view === 'tasks') renderTaskTable();
  }, 100);
}

function onTask(task) {
  for (const capture of state.liveCaptures) capture.set(task.id, task);
  if (task.user) noteUser(task.user);
  if (mergeTask(task)) scheduleTable();
  updateDetail(task);
  const detail = state.detail;
  if (detail && (task.parentId === detail.task.id || detail.children.has(task.id))) {
    mergeChild(task);
    renderChildren();
  }
}

function connectEvents() {
  const events = new EventSource('./events', { withCredentials: true });
  let failed = false;
  events.addEventListener('ready', () => {
    setConnection('Live', 'live');
    if (failed) {
      failed = false;
      refresh();
    }
  });
  events.addEventListener('resync', () => {
    setConnection('Live', 'live');
    refresh();
  });
  events.addEventListener('error', () => {
    failed = true;
    setConnection('Reconnecting…', 'reconnecting');
  });
  const onRecord = (event) => {
    onTask(JSON.parse(event.data));
    scheduleCounts();
    if (state.route.view === 'schedules') loadSchedules();
  };
  events.addEventListener('task:queued', onRecord);
  events.addEventListener('task:started', onRecord);
  events.addEventListener('task:finished', onRecord);
  events.addEventListener('task:progress', (event) => {
    const data = JSON.parse(event.data);
    onTask({
      id: data.id,
      progress: data.progress,
      progressMessage: data.message,
      statusText: data.statusText,
    });
  });
  events.addEventListener('task:log', (event) => {
    const data = JSON.parse(event.data);
    if (state.detail?.task.id === data.id) {
      appendLog(data.entry);
      const count = Math.max(state.detail.task.logCount ?? 0, data.entry.seq);
      state.detail.task.logCount = count;
      const heading = $('log-heading');
      if (heading) heading.textContent = `Log (${count} line${count === 1 ? '' : 's'})`;
    }
  });
  const reloadPlugin = async (event) => {
    const { id, change } = JSON.parse(event.data);
    if (change === 'removed') {
      state.plugins.delete(id);
      renderPlugins();
      return;
    }
    const { ok, body } = await api(`plugins/${encodeURIComponent(id)}`);
    if (ok) updatePlugin(body);
  };
  events.addEventListener('plugin:reloaded', reloadPlugin);
  events.addEventListener('plugin:status', reloadPlugin);
}

// Durations of running tasks tick while they are on screen.
setInterval(() => {
  if (state.route.view === 'tasks') {
    for (const row of document.querySelectorAll('#task-rows tr[data-state="running"]')) {
      const task = state.tasks.get(row.dataset.taskId);
      const cell = row.querySelector('.duration');
      if (task && cell) cell.textContent = formatDuration(taskDuration(task));
    }
  }
  if (state.route.view === 'task' && state.detail?.nodes && state.detail.task.state === 'running') {
    updateDetailProgress();
  }
  if (state.route.view === 'task' && state.detail) rereadQueued(state.detail);
}, 1000);

// A queued task's waiting reason is written after it is queued, without an event of its own: while the task shown
// or one of its children is queued, they are read again every other second.
let rereading = false;
let rereadTick = 0;
async function rereadQueued(detail) {
  const id = detail.task.id;
  const queuedChild = [...detail.children.values()].some((child) => child.state === 'queued');
  if (rereading || (detail.task.state !== 'queued' && !queuedChild) || rereadTick++ % 2 === 1) return;
  rereading = true;
  try {
    if (queuedChild) await loadChildren(id);
    if (detail.task.state !== 'queued') return;
    const { ok, body } = await api(`tasks/${encodeURIComponent(id)}`);
    if (!ok || state.detail !== detail || detail.task.state !== 'queued' || body.state !== 'queued') return;
    if ((body.waitingReason ?? null) === (detail.task.waitingReason ?? null)) return;
    detail.task = { ...detail.task, waitingReason: body.waitingReason };
    renderTaskDetail();
    renderLogLines();
  } finally {
    rereading = false;
  }
}

// ---------------------------------------------------------------------------------------------------------
// Start

async function loadPlugins() {
  const { ok, body } = await api('plugins');
  if (!ok) {
    showBanner(body.detail);
    return false;
  }
  state.plugins = new Map(body.items.map((p) => [p.id, p]));
  renderPlugins();
  return true;
}

async function refresh() {
  await loadPlugins();
  await showRoute();
}

async function start() {
  const me = await api('me');
  if (!me.ok) {
    showBanner(
      me.status === 401
        ? 'You are not signed in. Sign in to the application, then reload this page.'
        : me.body.detail,
    );
    setConnection('Offline', 'offline');
    $('plugin-groups').setAttribute('aria-busy', 'false');
    return;
  }
  state.me = me.body;
  noteUser(me.body.user);
  $('who').textContent =
    `Signed in as ${me.body.user.name ?? me.body.user.id}${me.body.admin ? ' (administrator)' : ''}`;
  for (const node of document.querySelectorAll('.admin-only')) node.hidden = !me.body.admin;
  const filters = $('task-filters');
  filters.addEventListener('change', (event) => {
    if (event.target.id !== 'filter-user') updateTaskFilters();
  });
  let typing = null;
  $('filter-user').addEventListener('input', () => {
    clearTimeout(typing);
    typing = setTimeout(updateTaskFilters, 300);
  });
  filters.addEventListener('submit', (event) => {
    event.preventDefault();
    updateTaskFilters();
  });
  $('bulk-cancel').addEventListener('click', bulkCancel);
  for (const th of document.querySelectorAll('#task-table th[data-sort]')) {
    th.querySelector('button').addEventListener('click', () => {
      const key = th.dataset.sort;
      const descending = state.sort.key === key ? !state.sort.descending : key === 'createdAt';
      const params = new URLSearchParams(state.route.params);
      if (key === 'createdAt' && descending) params.delete('sort');
      else params.set('sort', `${descending ? '-' : ''}${key}`);
      writeRoute('tasks', params);
      applyTaskFiltersFromRoute();
      renderTaskTable();
    });
  }
  $('task-more').addEventListener('click', () => loadTasks({ more: true }));
  // Older tasks load as the last rows scroll into view, a page at a time.
  new IntersectionObserver((entries) => {
    if (entries.some((e) => e.isIntersecting) && state.cursor && state.route.view === 'tasks') {
      loadTasks({ more: true });
    }
  }).observe($('task-more'));
  let searching = null;
  $('plugin-search').addEventListener('input', () => {
    clearTimeout(searching);
    searching = setTimeout(() => {
      const params = new URLSearchParams();
      const q = $('plugin-search').value.trim();
      if (q) params.set('q', q);
      writeRoute('plugins', params);
      renderPlugins();
    }, 150);
  });
  window.addEventListener('hashchange', () => showRoute());
  connectEvents();
  await refresh();
}

start();
