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
  events: null,
  deliveryTimer: 0,
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

function showScreen(name) {
  for (const id of ['login', 'home', 'case']) $(id).hidden = id !== name;
  $('logout').hidden = name === 'login';
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
        el('h3', {}, t(`departments.${q.department}`)),
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
        el('span', {}, t(`departments.${c.department}`)),
        el('span', { class: 'badge' }, t(`case_status.${c.status}`)),
        el('span', { class: `badge sla-${c.sla}` }, t(`sla.${c.sla}`)),
      ),
    ),
  );
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
    ['case.department', t(`departments.${c.department}`)],
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
  const options = state.departments.filter((d) => d !== c.department);
  $('transfer-to').replaceChildren(...options.map((d) => el('option', { value: d }, t(`departments.${d}`))));
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

// ---- Start ----

async function enter(me) {
  state.me = me;
  state.csrf = me.csrfToken;
  await loadStrings(me.uiLang);
  const departments = await api('GET', '/api/v1/departments');
  state.departments = departments.map((d) => d.key);
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
