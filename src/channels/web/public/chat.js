// The web chat client: posts messages, renders replies from the server-sent event stream.
(function () {
  'use strict';
  const strings = JSON.parse(document.getElementById('strings').textContent);
  const log = document.getElementById('log');
  const form = document.getElementById('form');
  const input = document.getElementById('input');
  const status = document.getElementById('status');
  document.getElementById('send').textContent = strings.send;
  input.placeholder = strings.placeholder;

  const newId = () =>
    Array.from(crypto.getRandomValues(new Uint8Array(16)), (b) => b.toString(16).padStart(2, '0')).join('');
  let session = localStorage.getItem('civic.session');
  const fresh = !session;
  if (!session) {
    session = newId();
    localStorage.setItem('civic.session', session);
  }

  function bubble(text, who) {
    const div = document.createElement('div');
    div.className = 'msg ' + who;
    div.textContent = text;
    log.appendChild(div);
    log.scrollTop = log.scrollHeight;
    return div;
  }

  async function post(body, shown) {
    if (shown) bubble(shown, 'me');
    const payload = Object.assign(
      { session: session, id: newId(), lang: document.documentElement.lang },
      body,
    );
    for (let attempt = 0; attempt < 5; attempt++) {
      try {
        const res = await fetch('/chat/api/messages', {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body: JSON.stringify(payload),
        });
        if (res.ok || (res.status >= 400 && res.status < 500)) return;
      } catch {
        // network error: retry with the same id, the server de-duplicates
      }
      await new Promise((r) => setTimeout(r, 500 * 2 ** attempt));
    }
    status.textContent = strings.offline;
  }

  function render(reply) {
    if (reply.kind === 'media') {
      const div = bubble(reply.caption || '', 'bot');
      const img = document.createElement('img');
      img.src = reply.url;
      img.alt = reply.caption || '';
      img.style.maxWidth = '100%';
      div.appendChild(img);
      return;
    }
    const div = bubble(reply.text, 'bot');
    if (reply.kind === 'choices') {
      const box = document.createElement('div');
      box.className = 'choices';
      reply.choices.forEach(function (c) {
        const b = document.createElement('button');
        b.type = 'button';
        b.textContent = c.label;
        b.addEventListener('click', function () {
          post({ choice: c.value, text: c.label }, c.label);
        });
        box.appendChild(b);
      });
      div.appendChild(box);
    } else if (reply.kind === 'link') {
      const a = document.createElement('a');
      a.href = reply.url;
      a.target = '_blank';
      a.rel = 'noopener';
      a.textContent = reply.label;
      div.appendChild(document.createElement('br'));
      div.appendChild(a);
    } else if (reply.kind === 'location_request' && navigator.geolocation) {
      const b = document.createElement('button');
      b.type = 'button';
      b.textContent = reply.button;
      b.addEventListener('click', function () {
        navigator.geolocation.getCurrentPosition(function (pos) {
          post({ location: { lat: pos.coords.latitude, lng: pos.coords.longitude } }, '📍');
        });
      });
      const box = document.createElement('div');
      box.className = 'choices';
      box.appendChild(b);
      div.appendChild(box);
    }
  }

  const events = new EventSource('/chat/api/events?session=' + encodeURIComponent(session));
  events.onmessage = function (e) {
    status.textContent = '';
    render(JSON.parse(e.data));
  };
  events.onerror = function () {
    status.textContent = strings.offline;
  };
  events.onopen = function () {
    status.textContent = '';
  };

  form.addEventListener('submit', function (e) {
    e.preventDefault();
    const text = input.value.trim();
    if (!text) return;
    input.value = '';
    post({ text: text }, text);
  });

  if (fresh) post({ start: true });
  input.focus();
})();
