// The Plugboard monitor page: plugins grouped by category with forms drawn from their argument schemas, and
// tasks followed live over the router's event stream. Plain browser JavaScript, no build step, no CDN.
// Every value from the server is written with textContent, never as HTML.

const ACTIVE_STATES = new Set(['queued', 'running']);
const state = {
  me: null,
  plugins: new Map(),
  tasks: new Map(),
  cursor: null,
  events: null,
  /** Maps collecting task records from the event stream while a task list request is on its way. */
  liveCaptures: new Set(),
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

function formatTime(ms) {
  return ms ? new Date(ms).toLocaleTimeString() : '';
}

// ---------------------------------------------------------------------------------------------------------
// Plugins

function statusBadge(status) {
  return el('span', { class: `badge status-${status}`, text: status });
}

function renderPlugins() {
  const root = $('plugin-groups');
  root.replaceChildren();
  root.setAttribute('aria-busy', 'false');
  const plugins = [...state.plugins.values()];
  if (plugins.length === 0) {
    root.append(el('p', { class: 'empty', text: 'No plugins are available to you.' }));
    return;
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
        section.append(el('h4', { class: 'sort-group', text: plugin.sortGroup }));
      }
      group = plugin.sortGroup;
      section.append(pluginCard(plugin));
    }
    root.append(section);
  }
  const select = $('filter-plugin');
  const chosen = select.value;
  select.replaceChildren(el('option', { value: '', text: 'All plugins' }));
  for (const plugin of plugins) select.append(el('option', { value: plugin.id, text: plugin.name }));
  select.value = chosen;
}

function pluginCard(plugin) {
  const card = el('article', { class: `plugin status-${plugin.status}`, 'data-plugin-id': plugin.id });
  const titleId = `plugin-${plugin.id}-title`;
  card.setAttribute('aria-labelledby', titleId);
  card.append(el('header', {}, el('h4', { id: titleId, text: plugin.name }), statusBadge(plugin.status)));
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
    const { cron, timeZone, repeatSeconds } = plugin.schedule;
    const every = cron
      ? `on cron ${cron} (${timeZone})`
      : repeatSeconds > 0
        ? `every ${repeatSeconds} s`
        : 'once';
    card.append(el('p', { class: 'schedule', text: `Background task, runs ${every}.` }));
  }
  if (state.me?.admin) card.append(adminActions(plugin));
  return card;
}

function adminActions(plugin) {
  const bar = el('div', { class: 'admin-actions' });
  const act = (label, path) =>
    el('button', {
      type: 'button',
      class: 'secondary',
      text: label,
      'aria-label': `${label} ${plugin.name}`,
      onclick: async (event) => {
        event.target.disabled = true;
        const { ok, body } = await api(path, { method: 'POST' });
        if (!ok) showBanner(body.detail);
        event.target.disabled = false;
        if (ok && body.id) updatePlugin(body);
      },
    });
  if (plugin.status === 'disabled')
    bar.append(act('Enable', `plugins/${encodeURIComponent(plugin.id)}/enable`));
  else bar.append(act('Disable', `plugins/${encodeURIComponent(plugin.id)}/disable`));
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
// Forms drawn from JSON Schema

function enumValues(schema) {
  if (Array.isArray(schema.enum)) return schema.enum;
  const options = schema.anyOf ?? schema.oneOf;
  if (Array.isArray(options) && options.length > 0 && options.every((o) => o && 'const' in o)) {
    return options.map((o) => o.const);
  }
  return null;
}

/** One form field for one schema property: its element, how to read it and where its error goes. */
function schemaField(formId, name, schema, required) {
  const id = `${formId}-${name}`;
  const helpId = `${id}-help`;
  const errorId = `${id}-error`;
  const label = el('label', { for: id }, schema.title ?? humanise(name));
  if (required) label.append(el('span', { class: 'required', 'aria-hidden': 'true', text: ' *' }));
  const describedBy = [schema.description ? helpId : null, errorId].filter(Boolean).join(' ');
  const common = { id, name, 'aria-describedby': describedBy, 'aria-required': required ? 'true' : null };
  const options = enumValues(schema);
  const type = Array.isArray(schema.type) ? schema.type.find((t) => t !== 'null') : schema.type;
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
    input = el('input', { ...common, type: 'checkbox' });
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
    read = () => {
      const raw = input.value.trim();
      if (raw === '') return undefined;
      const n = Number(raw);
      return Number.isNaN(n) ? raw : n;
    };
  } else if (type === 'string') {
    input = el('input', {
      ...common,
      type: 'text',
      maxlength: schema.maxLength !== undefined ? String(schema.maxLength) : null,
    });
    if (schema.default !== undefined) input.value = String(schema.default);
    read = () => (input.value === '' ? undefined : input.value);
  } else {
    // Arrays, objects and anything richer: typed as JSON.
    input = el('textarea', { ...common, rows: '3', spellcheck: 'false' });
    if (schema.default !== undefined) input.value = JSON.stringify(schema.default);
    read = () => {
      const raw = input.value.trim();
      if (raw === '') return undefined;
      try {
        return JSON.parse(raw);
      } catch {
        return raw;
      }
    };
  }
  const error = el('p', { class: 'field-error', id: errorId });
  const wrapper = el(
    'div',
    { class: `field field-${input.type === 'checkbox' ? 'checkbox' : 'text'}`, 'data-field': name },
    label,
    input,
    schema.description ? el('p', { class: 'help', id: helpId, text: schema.description }) : null,
    error,
  );
  return {
    name,
    element: wrapper,
    read,
    setError(message) {
      error.textContent = message ?? '';
      if (message) input.setAttribute('aria-invalid', 'true');
      else input.removeAttribute('aria-invalid');
    },
  };
}

function pluginForm(plugin) {
  const formId = `run-${plugin.id.replace(/[^A-Za-z0-9_-]/g, '_')}`;
  const schema = plugin.schemas.args ?? {};
  const required = new Set(schema.required ?? []);
  const fields = Object.entries(schema.properties ?? {}).map(([name, property]) =>
    schemaField(formId, name, property, required.has(name)),
  );
  let contextField = null;
  if (plugin.kind === 'context' && plugin.context) {
    contextField = schemaField(
      formId,
      plugin.context.idArgument,
      { type: 'string', description: plugin.context.description ?? `The ${plugin.context.kind} to act on.` },
      true,
    );
  }
  const message = el('p', { class: 'form-message', role: 'status' });
  const submit = el('button', { type: 'submit', text: 'Run' });
  const form = el(
    'form',
    { class: 'plugin-form', id: formId, novalidate: true, 'aria-label': `Arguments of ${plugin.name}` },
    contextField?.element,
    fields.map((f) => f.element),
    el('div', { class: 'form-actions' }, submit, message),
  );
  form.addEventListener('submit', async (event) => {
    event.preventDefault();
    for (const field of [...fields, contextField]) field?.setError(null);
    message.textContent = '';
    message.className = 'form-message';
    const args = {};
    for (const field of fields) {
      const value = field.read();
      if (value !== undefined) args[field.name] = value;
    }
    const body = { args };
    if (contextField) {
      const context = contextField.read();
      if (context !== undefined) body.context = context;
    }
    submit.disabled = true;
    const { ok, body: answer } = await api(`plugins/${encodeURIComponent(plugin.id)}/execute`, {
      method: 'POST',
      body: JSON.stringify(body),
    });
    submit.disabled = false;
    if (ok) {
      const count = answer.tasks.length;
      message.textContent =
        count === 0 ? 'Done: no task was needed.' : `Started ${count} task${count > 1 ? 's' : ''}.`;
      message.classList.add('success');
      for (const task of answer.tasks) upsertTask(task, { prepend: true, onlyIfNew: true });
      return;
    }
    const unplaced = [];
    for (const error of answer.errors ?? []) {
      const target =
        error.path === '/context' ? contextField : fields.find((f) => error.path.split('/')[2] === f.name);
      if (target) target.setError(`${capitalise(error.message)}.`);
      else unplaced.push(`${error.path}: ${error.message}`);
    }
    message.textContent = [answer.detail ?? 'The plugin could not run.', ...unplaced].join(' ');
    message.classList.add('failure');
    form.querySelector('[aria-invalid="true"]')?.focus();
  });
  return form;
}

function capitalise(text) {
  return text.charAt(0).toUpperCase() + text.slice(1);
}

// ---------------------------------------------------------------------------------------------------------
// Tasks

function filters() {
  const form = $('task-filters');
  return {
    plugin: form.plugin.value,
    state: form.state.value,
    user: state.me?.admin ? form.user.value.trim() : '',
  };
}

function matchesFilters(task) {
  const { plugin, state: states, user } = filters();
  if (plugin && task.pluginId !== plugin) return false;
  if (states && !states.split(',').includes(task.state)) return false;
  if (user && task.user.id !== user) return false;
  return true;
}

async function loadTasks({ more = false } = {}) {
  const query = new URLSearchParams();
  for (const [key, value] of Object.entries(filters())) if (value) query.set(key, value);
  query.set('limit', '25');
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
  if (!more) {
    state.tasks.clear();
    $('task-list').replaceChildren();
  }
  for (const task of body.items) upsertTask(task, { prepend: false });
  for (const task of live.values()) upsertTask(task);
  state.cursor = body.nextCursor;
  $('task-more').hidden = !state.cursor;
  $('task-empty').hidden = state.tasks.size > 0;
}

function taskView(task) {
  const plugin = state.plugins.get(task.pluginId);
  const name = plugin?.name ?? task.pluginId;
  const item = el('li', { class: 'task', 'data-task-id': task.id });
  const progress = el('progress', {
    max: '100',
    'aria-label': `Progress of ${name} task ${task.id.slice(-6)}`,
  });
  const stateBadge = el('span', { class: 'badge task-state' });
  const cancel = el('button', {
    type: 'button',
    class: 'cancel secondary',
    text: 'Cancel',
    'aria-label': `Cancel ${name} task ${task.id.slice(-6)}`,
    onclick: async () => {
      cancel.disabled = true;
      const { ok, body } = await api(`tasks/${encodeURIComponent(task.id)}/cancel`, { method: 'POST' });
      if (ok) upsertTask(body);
      else {
        showBanner(body.detail);
        cancel.disabled = false;
      }
    },
  });
  const percent = el('span', { class: 'percent' });
  const status = el('p', { class: 'status-text' });
  const outcome = el('div', { class: 'outcome' });
  const logList = el('ol', { class: 'log-lines' });
  const logSummary = el('summary', { text: 'Log' });
  const log = el('details', { class: 'log' }, logSummary, logList);
  log.addEventListener('toggle', () => {
    if (log.open) loadLog(task.id);
  });
  item.append(
    el(
      'div',
      { class: 'task-head' },
      el('strong', { class: 'task-plugin', text: name }),
      stateBadge,
      el('time', { class: 'task-time', text: formatTime(task.createdAt) }),
      state.me?.admin ? el('span', { class: 'task-user', text: task.user.name ?? task.user.id }) : null,
      cancel,
    ),
    el('div', { class: 'task-progress' }, progress, percent),
    status,
    outcome,
    log,
  );
  return {
    item,
    progress,
    percent,
    stateBadge,
    cancel,
    status,
    outcome,
    logList,
    logSummary,
    log,
    lastSeq: 0,
  };
}

function upsertTask(task, { prepend = true, onlyIfNew = false } = {}) {
  let entry = state.tasks.get(task.id);
  // The event stream may deliver newer states than an HTTP answer still on its way; never go back.
  if (entry && onlyIfNew) return;
  if (entry && task.state && ACTIVE_STATES.has(task.state) && !ACTIVE_STATES.has(entry.task.state)) return;
  if (!entry) {
    if (prepend && !matchesFilters(task)) return;
    entry = { task, view: taskView(task) };
    state.tasks.set(task.id, entry);
    const list = $('task-list');
    if (prepend) list.prepend(entry.view.item);
    else list.append(entry.view.item);
    $('task-empty').hidden = true;
  }
  entry.task = { ...entry.task, ...task };
  renderTask(entry);
}

function renderTask({ task, view }) {
  view.item.dataset.state = task.state;
  view.stateBadge.textContent = task.state;
  view.stateBadge.className = `badge task-state state-${task.state}`;
  const percent = Math.round(task.progress ?? 0);
  view.progress.value = percent;
  view.progress.setAttribute('aria-valuetext', `${percent}%`);
  view.percent.textContent = `${percent}%`;
  const text = [task.statusText, task.progressMessage].filter(Boolean).join(' · ');
  view.status.textContent = text;
  view.status.hidden = !text;
  view.cancel.hidden = !ACTIVE_STATES.has(task.state);
  view.outcome.replaceChildren();
  if (task.state === 'succeeded' && task.result !== undefined && task.result !== null) {
    const shown = typeof task.result === 'string' ? task.result : JSON.stringify(task.result, null, 2);
    view.outcome.append(
      el('p', { class: 'label', text: 'Result' }),
      el('pre', { class: 'result', text: shown }),
    );
  } else if (task.error && !ACTIVE_STATES.has(task.state)) {
    view.outcome.append(el('p', { class: 'task-error', text: `${task.error.code}: ${task.error.message}` }));
  }
  view.logSummary.textContent = `Log (${task.logCount ?? 0} line${task.logCount === 1 ? '' : 's'})`;
}

function appendLog(view, entry) {
  if (entry.seq <= view.lastSeq) return;
  view.lastSeq = entry.seq;
  view.logList.append(
    el(
      'li',
      { class: `log-line level-${entry.level}` },
      el('time', { text: formatTime(entry.time) }),
      el('span', { class: 'level', text: entry.level }),
      el('span', { class: 'message', text: entry.message }),
    ),
  );
}

async function loadLog(id) {
  const entry = state.tasks.get(id);
  if (!entry) return;
  const { ok, body } = await api(`tasks/${encodeURIComponent(id)}/logs?after=${entry.view.lastSeq}`);
  if (ok) for (const line of body.items) appendLog(entry.view, line);
}

// ---------------------------------------------------------------------------------------------------------
// Live events

function setConnection(label, value) {
  const node = $('connection');
  node.textContent = label;
  node.dataset.state = value;
}

function connectEvents() {
  const events = new EventSource('./events', { withCredentials: true });
  state.events = events;
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
    const task = JSON.parse(event.data);
    for (const capture of state.liveCaptures) capture.set(task.id, task);
    upsertTask(task);
  };
  events.addEventListener('task:queued', onRecord);
  events.addEventListener('task:started', onRecord);
  events.addEventListener('task:finished', onRecord);
  events.addEventListener('task:progress', (event) => {
    const data = JSON.parse(event.data);
    if (!state.tasks.has(data.id)) return;
    upsertTask({
      id: data.id,
      progress: data.progress,
      progressMessage: data.message,
      statusText: data.statusText,
    });
  });
  events.addEventListener('task:log', (event) => {
    const data = JSON.parse(event.data);
    const entry = state.tasks.get(data.id);
    if (!entry) return;
    appendLog(entry.view, data.entry);
    upsertTask({ id: data.id, logCount: Math.max(entry.task.logCount ?? 0, data.entry.seq) });
  });
  events.addEventListener('plugin:reloaded', async (event) => {
    const { id, change } = JSON.parse(event.data);
    if (change === 'removed') {
      state.plugins.delete(id);
      renderPlugins();
      return;
    }
    const { ok, body } = await api(`plugins/${encodeURIComponent(id)}`);
    if (ok) updatePlugin(body);
  });
  events.addEventListener('plugin:status', async (event) => {
    const { id } = JSON.parse(event.data);
    const { ok, body } = await api(`plugins/${encodeURIComponent(id)}`);
    if (ok) updatePlugin(body);
  });
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
  await loadTasks();
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
  $('who').textContent =
    `Signed in as ${me.body.user.name ?? me.body.user.id}${me.body.admin ? ' (administrator)' : ''}`;
  for (const node of document.querySelectorAll('.admin-only')) node.hidden = !me.body.admin;
  const filtersForm = $('task-filters');
  filtersForm.addEventListener('change', () => loadTasks());
  filtersForm.addEventListener('submit', (event) => {
    event.preventDefault();
    loadTasks();
  });
  $('task-more').addEventListener('click', () => loadTasks({ more: true }));
  connectEvents();
  await refresh();
}

start();
