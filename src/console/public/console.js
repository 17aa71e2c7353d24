// The officials' console: vanilla JS over /api/v1 (no build step). Every visible string comes from
// locales/<lang>.json (`console.*`, served at /console/i18n/<lang>); data is inserted with textContent.
'use strict';

const LANGS = ['en', 'fr', 'es', 'ar', 'ru', 'zh'];
const state = {
  me: null,
  csrf: '',
  strings: {},
  lang: 'en',
  current: null,
  departments: [],
  departmentRecords: [],
  officials: [],
  events: null,
  deliveryTimer: 0,
  whatsappTimer: 0,
};
const $ = (id) => document.getElementById(id);

function lookup(tree, path) {
  return path
    .split('.')
    .reduce((node, part) => (node && typeof node === 'object' ? node[part] : undefined), tree);
}

function t(key, vars) {
  const full = /^(departments|categories|case_status)\./.test(key) ? key : `console.${key}`;
  const found = lookup(state.strings, full);
  let text = typeof found === 'string' ? found : key;
  for (const [name, value] of Object.entries(vars || {}))
    text = text.split(`{{${name}}}`).join(String(value));
  return text;
}

async function loadStrings(lang) {
  state.lang = LANGS.includes(lang) ? lang : 'en';
  const res = await fetch(`/console/i18n/${state.lang}`);
  state.strings = await res.json();
  document.documentElement.lang = state.lang;
  document.documentElement.dir = state.lang === 'ar' ? 'rtl' : 'ltr';
  document.title = t('title');
  for (const el of document.querySelectorAll('[data-t]')) el.textContent = t(el.dataset.t);
  $('lang').value = state.lang;
}

function el(tag, props, ...children) {
  const node = document.createElement(tag);
  for (const [k, v] of Object.entries(props || {})) {
    if (k === 'class') node.className = v;
    else if (k.startsWith('on')) node.addEventListener(k.slice(2), v);
    else if (v !== undefined && v !== null) node.setAttribute(k, v);
  }
  for (const child of children) if (child !== null && child !== undefined) node.append(child);
  return node;
}

/** A department's name: the admin's name in this language, else the label from locales/, else its key. */
function deptName(key) {
  const record = state.departmentRecords.find((d) => d.key === key);
  if (record && record.names && record.names[state.lang]) return record.names[state.lang];
  const label = t(`departments.${key}`);
  return label === `departments.${key}` ? key : label;
}

const isLead = () => state.me && state.me.role !== 'agent';
const isAdmin = () => state.me && state.me.role === 'admin';

const time = (iso) => (iso ? new Date(iso).toLocaleString(state.lang) : '');

function showError(code) {
  const box = $('error');
  if (!code) {
    box.hidden = true;
    box.textContent = '';
    return;
  }
  const key = `errors.${code}`;
  box.textContent = t(key) === key ? t('errors.generic') : t(key);
  box.hidden = false;
}

function announce(text) {
  $('live').textContent = text;
}

async function api(method, url, body) {
  const headers = { accept: 'application/json' };
  if (body !== undefined) headers['content-type'] = 'application/json';
  if (method !== 'GET' && state.csrf) headers['x-csrf-token'] = state.csrf;
  const res = await fetch(url, {
    method,
    headers,
    credentials: 'same-origin',
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  if (res.status === 204) return null;
  const data = await res.json().catch(() => ({}));
  if (res.status === 401 && url !== '/api/v1/session') {
    showScreen('login');
  }
  if (!res.ok) {
    const err = new Error(data.code || 'generic');
    err.code = data.code || 'generic';
    throw err;
  }
  return data;
}

async function act(fn) {
  showError(null);
  try {
    return await fn();
  } catch (err) {
    showError(err.code || 'generic');
    return undefined;
  }
}

const SCREENS = ['login', 'home', 'case', 'account', 'admin'];

function showScreen(name) {
  for (const id of SCREENS) $(id).hidden = id !== name;
  $('logout').hidden = name === 'login';
  $('nav').hidden = name === 'login';
  for (const [id, screen] of [
    ['nav-home', 'home'],
    ['nav-admin', 'admin'],
    ['nav-account', 'account'],
  ])
    if (screen === name) $(id).setAttribute('aria-current', 'page');
    else $(id).removeAttribute('aria-current');
  if (name !== 'admin') {
    clearTimeout(state.whatsappTimer);
    // A generated password is shown once: leaving the screen forgets it.
    $('new-password').hidden = true;
    $('new-password-value').textContent = '';
  }
  if (name === 'login') {
    stopEvents();
    $('email').focus();
  }
}

// ---- Queues and case list ----

async function refreshHome() {
  const [queues, cases] = await Promise.all([api('GET', '/api/v1/queues'), api('GET', '/api/v1/cases')]);
  const list = $('queues');
  list.replaceChildren(
    ...queues.map((q) =>
      el(
        'li',
        { 'data-department': q.department },
        el('h3', {}, deptName(q.department)),
        el(
          'p',
          { class: 'figures' },
          el('span', {}, t('queues.waiting'), ' ', el('b', { class: 'waiting' }, String(q.waiting))),
          el('span', {}, t('queues.assigned'), ' ', el('b', {}, String(q.assigned))),
          el(
            'span',
            { class: q.overdue > 0 ? 'sla-overdue' : '' },
            t('queues.overdue'),
            ' ',
            el('b', {}, String(q.overdue)),
          ),
          el('span', {}, t('queues.mine'), ' ', el('b', {}, String(q.mine))),
        ),
        el(
          'p',
          { class: 'meta' },
          q.oldestWaitingSince
            ? `${t('queues.oldest')} ${time(q.oldestWaitingSince)}`
            : t('queues.none_waiting'),
        ),
        el(
          'button',
          {
            type: 'button',
            class: 'claim-next',
            disabled: q.waiting === 0 ? '' : null,
            onclick: () => claimNext(q.department),
          },
          t('queues.claim_next'),
        ),
      ),
    ),
  );
  $('cases-empty').hidden = cases.length > 0;
  $('cases').replaceChildren(
    ...cases.map((c) =>
      el(
        'li',
        { 'data-reference': c.reference },
        el('button', { type: 'button', onclick: () => openCase(c.reference) }, c.reference),
        el(
          'span',
          {},
          t(`categories.${c.category}`) === `categories.${c.category}`
            ? c.category
            : t(`categories.${c.category}`),
        ),
        el('span', {}, deptName(c.department)),
        el('span', { class: 'badge' }, t(`case_status.${c.status}`)),
        el('span', { class: `badge sla-${c.sla}` }, t(`sla.${c.sla}`)),
      ),
    ),
  );
  await refreshSupervision();
}

function caseRow(c) {
  return el(
    'li',
    { 'data-reference': c.reference },
    el('button', { type: 'button', onclick: () => openCase(c.reference) }, c.reference),
    el('span', {}, deptName(c.department)),
    el('span', { class: 'badge' }, t(`case_status.${c.status}`)),
    el('span', { class: `badge sla-${c.sla}` }, t(`sla.${c.sla}`)),
    el('span', { class: 'meta' }, `${t('case.due')} ${time(c.slaDueAt)}`),
  );
}

function deadRow(d, showCase) {
  return el(
    'li',
    { 'data-dead': d.id },
    showCase
      ? el('button', { type: 'button', onclick: () => openCase(d.caseReference) }, d.caseReference)
      : null,
    el('span', { class: 'text' }, d.text === null ? '…' : d.text),
    el('span', { class: 'meta' }, `${d.channel} · ${time(d.updatedAt)}`),
    d.lastError ? el('span', { class: 'meta' }, `${t('dead.error')} ${d.lastError}`) : null,
    el('button', { type: 'button', class: 'retry', onclick: () => retryDead(d.id) }, t('dead.retry')),
  );
}

async function retryDead(id) {
  const done = await act(() => api('POST', `/api/v1/dead-letters/${id}/retry`));
  if (!done) return;
  announce(t('dead.retried', { reference: done.caseReference }));
  if (state.current && !$('case').hidden) void openCase(state.current.reference);
  else void refreshHome();
}

/** Supervisors and admins also see overdue cases and undelivered messages across their departments. */
async function refreshSupervision() {
  $('supervision').hidden = !isLead();
  if (!isLead()) return;
  const [overdue, dead] = await Promise.all([
    api('GET', '/api/v1/cases?overdue=1'),
    api('GET', '/api/v1/dead-letters'),
  ]);
  $('overdue-empty').hidden = overdue.length > 0;
  $('overdue').replaceChildren(...overdue.map(caseRow));
  $('dead-empty').hidden = dead.length > 0;
  $('dead-letters').replaceChildren(...dead.map((d) => deadRow(d, true)));
}

async function claimNext(department) {
  const claimed = await act(() => api('POST', `/api/v1/queues/${department}/claim`));
  if (claimed === null) announce(t('queues.empty'));
  else if (claimed) renderCase(claimed);
  void refreshHome();
}

// ---- One case ----

async function openCase(reference) {
  const found = await act(() => api('GET', `/api/v1/cases/${reference}`));
  if (found) renderCase(found);
}

function officialName(c, id) {
  return (c.officials && c.officials[id]) || t('from.official');
}

function renderCase(c) {
  state.current = c;
  showScreen('case');
  $('case-title').textContent = c.reference;
  const live = ['open', 'assigned', 'waiting_on_citizen'].includes(c.status);
  const facts = [
    ['case.status', t(`case_status.${c.status}`)],
    ['case.sla', t(`sla.${c.sla}`)],
    ['case.department', deptName(c.department)],
    [
      'case.category',
      t(`categories.${c.category}`) === `categories.${c.category}`
        ? c.category
        : t(`categories.${c.category}`),
    ],
    ['case.channel', c.channel],
    ['case.language', c.lang],
    ['case.created', time(c.createdAt)],
    ['case.due', time(c.slaDueAt)],
    ['case.assignee', c.assignee ? officialName(c, c.assignee) : t('case.unassigned')],
  ];
  if (c.anonymous) facts.push(['case.anonymous', '✓']);
  if (c.rating !== null) facts.push(['case.rating', `${c.rating}/5`]);
  if (c.resolutionNote) facts.push(['case.resolution', c.resolutionNote]);
  $('case-facts').replaceChildren(
    ...facts.flatMap(([k, v]) => [el('dt', {}, t(k)), el('dd', { 'data-fact': k }, v)]),
  );

  const f = c.fields || {};
  const fieldRows = [];
  if (f.description) fieldRows.push(['case.description', f.description]);
  if (f.location)
    fieldRows.push([
      'case.location',
      [f.location.text, f.location.lat !== undefined ? `${f.location.lat}, ${f.location.lng}` : '']
        .filter(Boolean)
        .join(' · '),
    ]);
  if (f.name) fieldRows.push(['case.name', f.name]);
  if (f.contact) fieldRows.push(['case.contact', f.contact]);
  const photos = (f.photos || []).map((p) => attachmentLink(p));
  $('case-fields').replaceChildren(
    el(
      'dl',
      { class: 'facts' },
      ...fieldRows.flatMap(([k, v]) => [el('dt', {}, t(k)), el('dd', { class: 'text' }, v)]),
    ),
    photos.length ? el('p', {}, t('case.photos'), ' ', ...photos) : null,
  );

  $('transcript').replaceChildren(
    ...c.transcript.map((m) =>
      el(
        'li',
        { class: `from-${m.from}` },
        el(
          'p',
          { class: 'meta' },
          el(
            'span',
            {},
            m.from === 'official' && m.officialId ? officialName(c, m.officialId) : t(`from.${m.from}`),
          ),
          el('time', { datetime: m.at }, time(m.at)),
          m.delivery
            ? el(
                'span',
                { class: `delivery delivery-${m.delivery.status}` },
                t(`delivery.${m.delivery.status}`),
              )
            : null,
        ),
        el('p', { class: 'text' }, m.text),
        ...m.attachments.map((a) => attachmentLink(a)),
      ),
    ),
  );
  $('notes').replaceChildren(
    ...c.notes.map((n) =>
      el(
        'li',
        {},
        el('p', { class: 'meta' }, officialName(c, n.officialId), ' ', time(n.at)),
        el('p', { class: 'text' }, n.text),
      ),
    ),
  );
  $('history').replaceChildren(
    ...c.history.map((h) =>
      el(
        'li',
        {},
        `${time(h.at)} · ${h.action} → ${t(`case_status.${h.to}`)}${h.by.id ? ` · ${officialName(c, h.by.id)}` : ''}`,
      ),
    ),
  );
  $('answer-area').hidden = !live;
  $('claim').hidden = c.status !== 'open';
  $('transfer-form').hidden = !live;
  $('resolve-form').hidden = !live;
  $('reopen').hidden = live;
  const mayHandle = live && c.status !== 'open' && (c.assignee === state.me.id || state.me.role !== 'agent');
  $('wait').hidden = !mayHandle || c.status === 'waiting_on_citizen';
  $('release').hidden = !mayHandle;
  renderReassign(c, live);
  void loadCaseDeadLetters(c.reference);
  const options = state.departments.filter((d) => d !== c.department);
  $('transfer-to').replaceChildren(...options.map((d) => el('option', { value: d }, deptName(d))));
  void loadCanned(c.lang);
  // Delivery state changes in the outbox, not on the case: look again while an answer is on its way.
  clearTimeout(state.deliveryTimer);
  if (c.transcript.some((m) => m.delivery && ['pending', 'sending', 'failed'].includes(m.delivery.status))) {
    state.deliveryTimer = setTimeout(() => {
      if (state.current && state.current.reference === c.reference && !$('case').hidden)
        void openCase(c.reference);
    }, 1500);
  }
}

function renderReassign(c, live) {
  $('reassign-form').hidden = !live || !isLead();
  if ($('reassign-form').hidden) return;
  const candidates = state.officials.filter(
    (o) => o.active && o.id !== c.assignee && (o.role === 'admin' || o.departments.includes(c.department)),
  );
  $('reassign-to').replaceChildren(
    ...candidates.map((o) => el('option', { value: o.id }, `${o.name} (${o.email})`)),
  );
  $('reassign').disabled = candidates.length === 0;
}

async function loadCaseDeadLetters(reference) {
  const dead = await api('GET', `/api/v1/dead-letters?reference=${reference}`).catch(() => []);
  if (!state.current || state.current.reference !== reference) return;
  $('case-dead-area').hidden = dead.length === 0;
  $('case-dead').replaceChildren(...dead.map((d) => deadRow(d, false)));
}

function attachmentLink(a) {
  const label = a.name || a.contentType;
  return a.url && /^https:\/\//.test(a.url)
    ? el('a', { href: a.url, rel: 'noopener noreferrer', target: '_blank' }, label)
    : el('span', { class: 'meta' }, label);
}

async function loadCanned(lang) {
  const canned = await act(() => api('GET', `/api/v1/canned?lang=${encodeURIComponent(lang)}`));
  if (!canned) return;
  $('canned').replaceChildren(
    el('option', { value: '' }, t('actions.canned_pick')),
    ...canned.map((c) => el('option', { value: c.text }, c.title)),
  );
}

async function loadOfficials() {
  state.officials = isLead() ? await api('GET', '/api/v1/officials') : [];
}

async function loadDepartments() {
  state.departmentRecords = await api('GET', '/api/v1/departments');
  state.departments = state.departmentRecords.map((d) => d.key);
}

async function caseAction(path, body, after) {
  const c = state.current;
  if (!c) return;
  const updated = await act(() => api('POST', `/api/v1/cases/${c.reference}/${path}`, body));
  if (!updated) return;
  if (after) after();
  if (updated.transcript) renderCase(updated);
  else {
    showScreen('home');
    void refreshHome();
  }
}

// ---- Live updates ----

function startEvents() {
  stopEvents();
  const source = new EventSource('/api/v1/events');
  state.events = source;
  const onEvent = (e) => {
    const data = JSON.parse(e.data);
    if (e.type === 'case.new') announce(t('live.new_case', { reference: data.reference }));
    if (e.type === 'case.message') announce(t('live.new_message', { reference: data.reference }));
    void refreshHome().catch(() => undefined);
    if (state.current && state.current.reference === data.reference && !$('case').hidden)
      void openCase(data.reference);
  };
  for (const type of ['case.new', 'case.message', 'case.updated']) source.addEventListener(type, onEvent);
}

function stopEvents() {
  if (state.events) state.events.close();
  state.events = null;
}

// ---- My account ----

function openAccount() {
  showScreen('account');
  $('account-title').focus();
}

// ---- Administration (admins) ----

const langName = (l) => new Intl.DisplayNames([state.lang], { type: 'language' }).of(l) || l;

async function openAdmin() {
  showScreen('admin');
  await refreshAdmin();
  $('admin-title').focus();
}

async function refreshAdmin() {
  const [routes] = await Promise.all([
    api('GET', '/api/v1/category-routes'),
    loadDepartments(),
    loadOfficials(),
  ]);
  renderDepartments();
  renderOfficials();
  renderRoutes(routes);
  void refreshWhatsapp();
}

function fillDepartmentForm(d) {
  $('dept-key').value = d.key;
  $('dept-sla').value = String(d.slaHours);
  for (const l of LANGS) $(`dept-name-${l}`).value = (d.names && d.names[l]) || '';
  $('dept-key').focus();
}

function renderDepartments() {
  $('admin-departments').replaceChildren(
    ...state.departmentRecords.map((d) =>
      el(
        'li',
        { 'data-key': d.key },
        el('b', {}, deptName(d.key)),
        el('code', {}, d.key),
        el('span', {}, t('admin.sla_value', { hours: d.slaHours })),
        el(
          'button',
          { type: 'button', class: 'link', onclick: () => fillDepartmentForm(d) },
          t('admin.edit'),
        ),
      ),
    ),
  );
  // One name field per language, labelled in the admin's language; kept if already there (typing).
  if (!$('dept-names').querySelector('input')) {
    for (const l of LANGS) {
      $('dept-names').append(
        el('label', { for: `dept-name-${l}` }, langName(l)),
        el('input', { id: `dept-name-${l}`, maxlength: '80', autocomplete: 'off', lang: l }),
      );
    }
  } else {
    for (const l of LANGS)
      $('dept-names').querySelector(`label[for="dept-name-${l}"]`).textContent = langName(l);
  }
  const chosen = new Set([...$('off-departments').querySelectorAll('input:checked')].map((i) => i.value));
  $('off-departments').replaceChildren(
    el('legend', {}, t('admin.departments')),
    ...state.departments.map((key) =>
      el(
        'label',
        { class: 'check' },
        el('input', { type: 'checkbox', value: key, checked: chosen.has(key) ? '' : null }),
        ' ',
        deptName(key),
      ),
    ),
  );
  const selected = $('route-department').value;
  $('route-department').replaceChildren(
    ...state.departments.map((key) => el('option', { value: key }, deptName(key))),
  );
  if (selected) $('route-department').value = selected;
}

function renderOfficials() {
  $('admin-officials').replaceChildren(
    ...state.officials.map((o) =>
      el(
        'li',
        { 'data-email': o.email },
        el('b', {}, o.name),
        el('span', {}, o.email),
        el('span', { class: 'badge' }, t(`roles.${o.role}`)),
        el('span', { class: 'meta' }, o.departments.map(deptName).join(', ')),
        el(
          'span',
          { class: `badge ${o.active ? 'sla-ok' : 'sla-overdue'}` },
          o.active ? t('admin.active') : t('admin.disabled'),
        ),
        o.id === state.me.id
          ? null
          : el(
              'button',
              {
                type: 'button',
                class: 'toggle-active',
                onclick: () => setActive(o, !o.active),
              },
              o.active ? t('admin.disable') : t('admin.enable'),
            ),
      ),
    ),
  );
}

async function setActive(o, active) {
  const done = await act(() => api('PATCH', `/api/v1/officials/${o.id}`, { active }));
  if (!done) return;
  announce(t('admin.saved'));
  await loadOfficials();
  renderOfficials();
}

function renderRoutes(routes) {
  $('admin-routes').replaceChildren(
    ...routes.map((r) => {
      const id = `route-${r.category}`;
      const select = el(
        'select',
        { id },
        ...state.departments.map((key) =>
          el('option', { value: key, selected: key === r.department ? '' : null }, deptName(key)),
        ),
      );
      const label = t(`categories.${r.category}`);
      return el(
        'li',
        { 'data-category': r.category },
        el('label', { for: id }, label === `categories.${r.category}` ? r.category : label),
        select,
        el('button', { type: 'button', onclick: () => saveRoute(r.category, select.value) }, t('admin.save')),
      );
    }),
  );
}

async function saveRoute(category, department) {
  const done = await act(() => api('PUT', `/api/v1/category-routes/${category}`, { department }));
  if (!done) return;
  announce(t('admin.saved'));
  renderRoutes(await api('GET', '/api/v1/category-routes'));
}

async function refreshWhatsapp() {
  clearTimeout(state.whatsappTimer);
  if (!isAdmin() || $('admin').hidden) return;
  const wa = await api('GET', '/api/v1/whatsapp/qr').catch(() => ({ configured: false, qr: null }));
  $('whatsapp-area').hidden = !wa.configured;
  if (!wa.configured) return;
  $('wa-status').textContent = wa.qr ? t('whatsapp.waiting') : t('whatsapp.linked');
  $('wa-qr').hidden = !wa.qr;
  $('wa-qr').textContent = wa.qr || '';
  $('wa-help').hidden = !wa.qr;
  // The code changes every few seconds until it is scanned: keep it current while the panel is open.
  if (wa.qr) state.whatsappTimer = setTimeout(() => void refreshWhatsapp(), 5000);
}

// ---- Start ----

async function enter(me) {
  state.me = me;
  state.csrf = me.csrfToken;
  await loadStrings(me.uiLang);
  $('nav-admin').hidden = !isAdmin();
  await Promise.all([loadDepartments(), loadOfficials()]);
  showScreen('home');
  await refreshHome();
  startEvents();
  $('main').focus();
}

function wire() {
  $('lang').replaceChildren(
    ...LANGS.map((l) =>
      el('option', { value: l }, new Intl.DisplayNames([l], { type: 'language' }).of(l) || l),
    ),
  );
  $('lang').addEventListener('change', async () => {
    const lang = $('lang').value;
    if (state.me) await act(() => api('PATCH', '/api/v1/me', { uiLang: lang }));
    await loadStrings(lang);
    if (state.me && !$('home').hidden) void refreshHome();
    if (state.current && !$('case').hidden) renderCase(state.current);
    if (!$('admin').hidden) void refreshAdmin();
  });
  $('login-form').addEventListener('submit', async (e) => {
    e.preventDefault();
    const done = await act(() =>
      api('POST', '/api/v1/session', { email: $('email').value, password: $('password').value }),
    );
    if (!done) return;
    $('password').value = '';
    await enter(await api('GET', '/api/v1/me'));
  });
  $('logout').addEventListener('click', async () => {
    await act(() => api('DELETE', '/api/v1/session'));
    state.me = null;
    state.csrf = '';
    showScreen('login');
  });
  $('back').addEventListener('click', () => {
    state.current = null;
    showScreen('home');
    void refreshHome();
  });
  $('canned').addEventListener('change', () => {
    if ($('canned').value) $('reply-text').value = $('canned').value;
    $('reply-text').focus();
  });
  $('reply-form').addEventListener('submit', (e) => {
    e.preventDefault();
    void caseAction('replies', { text: $('reply-text').value }, () => ($('reply-text').value = ''));
  });
  $('note-form').addEventListener('submit', (e) => {
    e.preventDefault();
    void caseAction('notes', { text: $('note-text').value }, () => ($('note-text').value = ''));
  });
  $('transfer-form').addEventListener('submit', (e) => {
    e.preventDefault();
    void caseAction('transfer', { department: $('transfer-to').value });
  });
  $('resolve-form').addEventListener('submit', (e) => {
    e.preventDefault();
    void caseAction('resolve', { note: $('resolve-note').value }, () => ($('resolve-note').value = ''));
  });
  $('claim').addEventListener('click', () => void caseAction('claim'));
  $('wait').addEventListener('click', () => void caseAction('wait'));
  $('release').addEventListener('click', () => void caseAction('release'));
  $('reassign-form').addEventListener('submit', (e) => {
    e.preventDefault();
    void caseAction('reassign', { officialId: $('reassign-to').value }, () =>
      announce(t('actions.reassigned')),
    );
  });
  $('nav-home').addEventListener('click', () => {
    state.current = null;
    showScreen('home');
    void refreshHome();
    $('main').focus();
  });
  $('nav-admin').addEventListener('click', () => void openAdmin());
  $('nav-account').addEventListener('click', openAccount);
  $('password-form').addEventListener('submit', async (e) => {
    e.preventDefault();
    const done = await act(() =>
      api('POST', '/api/v1/me/password', { current: $('pw-current').value, next: $('pw-next').value }),
    );
    if (done === undefined) return;
    $('pw-current').value = '';
    $('pw-next').value = '';
    announce(t('account.changed'));
  });
  $('dept-form').addEventListener('submit', async (e) => {
    e.preventDefault();
    const names = {};
    for (const l of LANGS) {
      const v = $(`dept-name-${l}`).value.trim();
      if (v) names[l] = v;
    }
    const done = await act(() =>
      api('POST', '/api/v1/departments', {
        key: $('dept-key').value.trim(),
        slaHours: Number($('dept-sla').value),
        names,
      }),
    );
    if (!done) return;
    $('dept-form').reset();
    announce(t('admin.saved'));
    await refreshAdmin();
  });
  $('official-form').addEventListener('submit', async (e) => {
    e.preventDefault();
    const email = $('off-email').value.trim();
    const done = await act(() =>
      api('POST', '/api/v1/officials', {
        email,
        name: $('off-name').value.trim(),
        role: $('off-role').value,
        departments: [...$('off-departments').querySelectorAll('input:checked')].map((i) => i.value),
        uiLang: $('off-lang').value,
      }),
    );
    if (!done) return;
    $('official-form').reset();
    // Shown once: the server keeps only its hash.
    $('new-password-text').textContent = t('admin.password_once', { email: done.official.email });
    $('new-password-value').textContent = done.password || '';
    $('new-password').hidden = !done.password;
    await loadOfficials();
    renderOfficials();
    renderDepartments();
    $('new-password').focus();
  });
  $('route-form').addEventListener('submit', async (e) => {
    e.preventDefault();
    await saveRoute($('route-category').value.trim(), $('route-department').value);
    $('route-category').value = '';
  });
  $('wa-refresh').addEventListener('click', () => void refreshWhatsapp());
  $('off-lang').replaceChildren(
    ...LANGS.map((l) =>
      el('option', { value: l }, new Intl.DisplayNames([l], { type: 'language' }).of(l) || l),
    ),
  );
  $('reopen').addEventListener('click', () => void caseAction('reopen'));
}

async function boot() {
  wire();
  const res = await fetch('/api/v1/me', { credentials: 'same-origin' });
  if (res.ok) return enter(await res.json());
  const wanted = new URLSearchParams(location.search).get('lang') || (navigator.language || 'en').slice(0, 2);
  await loadStrings(wanted);
  showScreen('login');
}

void boot();
