// console.js -- the lab console (shared/console.h): plain JavaScript, no library, no build step.
//
// The page is a list of views. Each view names the JSON document it is built from; a view whose
// document does not answer 200 is left out, so a chapter shows the views its program serves: the
// API view always, the events and story views from chapter 06 on (the program mounts
// /asyncapi.json, /console/events and /console/story/{id} with the event feed, console.h).
//
// Everything received is written with textContent, never as HTML.
'use strict';

(function () {
  const VIEWS = [
    { id: 'api', title: 'API', source: '/openapi.json', render: renderApi },
    { id: 'events', title: 'Events', source: '/asyncapi.json', render: renderEvents },
    { id: 'story', title: 'Order story', source: '/asyncapi.json', render: renderStory },
  ];

  // ---- DOM helpers ----------------------------------------------------------------------------

  // el('td', {class: 'name', 'data-field': 'id'}, 'text', child, ...)
  function el(tag, attrs, ...children) {
    const node = document.createElement(tag);
    for (const [k, v] of Object.entries(attrs || {})) {
      if (v === undefined || v === null || v === false) continue;
      node.setAttribute(k, v === true ? '' : String(v));
    }
    for (const c of children) {
      if (c === undefined || c === null) continue;
      node.append(typeof c === 'string' ? document.createTextNode(c) : c);
    }
    return node;
  }

  // ---- views and tabs -------------------------------------------------------------------------

  async function start() {
    const main = document.getElementById('views');
    const tabs = document.getElementById('tabs');
    document.getElementById('where').textContent = location.host;
    const shown = [];
    for (const view of VIEWS) {
      let doc;
      try {
        const r = await fetch(view.source, { headers: { Accept: 'application/json' } });
        if (!r.ok) continue;
        doc = await r.json();
      } catch (e) {
        continue;
      }
      const section = el('section', { class: 'view', id: 'view-' + view.id, 'data-view': view.id,
                                       role: 'tabpanel', hidden: true });
      const tab = el('button', { type: 'button', role: 'tab', 'data-tab': view.id,
                                 'aria-controls': 'view-' + view.id }, view.title);
      tab.addEventListener('click', () => select(view.id, true));
      tabs.append(tab);
      main.append(section);
      view.render(section, doc);
      shown.push(view.id);
    }
    const loading = document.getElementById('loading');
    if (shown.length === 0) {
      loading.textContent = 'The program did not answer ' + VIEWS.map(v => v.source).join(', ') +
                            ': is it running?';
      loading.className = 'error';
      return;
    }
    loading.remove();
    const wanted = location.hash.slice(1).split(':')[0];
    select(shown.includes(wanted) ? wanted : shown[0], false);
  }

  function select(id, setHash) {
    for (const t of document.querySelectorAll('#tabs [role=tab]'))
      t.setAttribute('aria-selected', String(t.dataset.tab === id));
    for (const s of document.querySelectorAll('section.view'))
      s.hidden = s.dataset.view !== id;
    if (setHash) history.replaceState(null, '', '#' + id);
    for (const fn of onSelect) fn(id);
  }
  const onSelect = [];

  // ---- schemas (OpenAPI 3, as shared/openapi.h writes them) -----------------------------------

  function resolve(doc, schema) {
    let s = schema || {};
    for (let i = 0; s.$ref && i < 8; i++) // a $ref to a $ref: bounded
      s = doc.components.schemas[s.$ref.replace('#/components/schemas/', '')] || {};
    return s;
  }

  function refName(schema) {
    return schema && schema.$ref ? schema.$ref.replace('#/components/schemas/', '') : null;
  }

  // A short type for a person: "string", "integer (int32)", "Item[]", "map<string, integer>".
  function typeLabel(schema) {
    if (!schema) return 'any';
    if (schema.$ref) return refName(schema);
    if (schema.enum) return 'enum';
    if (schema.type === 'array') return typeLabel(schema.items) + '[]';
    if (schema.type === 'object' && schema.additionalProperties && schema.additionalProperties !== true)
      return 'map<string, ' + typeLabel(schema.additionalProperties) + '>';
    if (!schema.type) return 'any JSON';
    return schema.type + (schema.format ? ' (' + schema.format + ')' : '');
  }

  // An example value, nested at most `depth` messages deep (a message may contain itself).
  function example(doc, schema, depth) {
    const s = resolve(doc, schema);
    if (s.enum) return s.enum.length > 1 ? s.enum[1] : s.enum[0];
    switch (s.type) {
      case 'string':
        if (s.format === 'date-time') return new Date().toISOString();
        if (s.format === 'int64' || s.format === 'uint64') return '0';
        return '';
      case 'integer': case 'number': return 0;
      case 'boolean': return false;
      case 'array': return depth > 0 ? [example(doc, s.items, depth - 1)] : [];
      case 'object': {
        const out = {};
        if (depth <= 0 || !s.properties) return out;
        for (const [k, v] of Object.entries(s.properties)) out[k] = example(doc, v, depth - 1);
        return out;
      }
      default: return null;
    }
  }

  // Whether a field gets a one-line input (else a JSON text area).
  function isScalar(doc, schema) {
    const s = schema.$ref ? null : schema;
    return !!s && (s.enum || ['string', 'integer', 'number', 'boolean'].includes(s.type));
  }

  // ---- the API view ---------------------------------------------------------------------------

  function renderApi(section, doc) {
    const ops = [];
    for (const [path, item] of Object.entries(doc.paths || {}))
      for (const [method, op] of Object.entries(item)) ops.push({ path, method, op });

    const filter = el('input', { type: 'search', placeholder: 'filter: method, path or RPC method',
                                 'aria-label': 'filter routes' });
    const info = doc.info || {};
    section.append(el('div', { class: 'toolbar' }, filter,
      el('span', {}, ops.length + ' routes · ' + (info.title || '') + ' ' + (info.version || '') +
                     ' · '),
      el('a', { href: '/openapi.json', target: '_blank' }, 'OpenAPI document')));
    if (info.description) section.append(el('p', { class: 'hint' }, info.description));

    const groups = new Map();
    for (const o of ops) {
      const tag = (o.op.tags && o.op.tags[0]) || 'routes';
      if (!groups.has(tag)) groups.set(tag, []);
      groups.get(tag).push(o);
    }
    const cards = [];
    for (const [tag, list] of groups) {
      const group = el('div', { class: 'group', 'data-group': tag }, el('h2', {}, tag));
      for (const o of list) {
        const card = renderOperation(doc, o);
        cards.push(card);
        group.append(card);
      }
      section.append(group);
    }
    filter.addEventListener('input', () => {
      const words = filter.value.toLowerCase().split(/\s+/).filter(Boolean);
      for (const c of cards) c.hidden = !words.every(w => c.dataset.search.includes(w));
      for (const g of section.querySelectorAll('.group'))
        g.hidden = ![...g.querySelectorAll('details.op')].some(c => !c.hidden);
    });
    const wanted = decodeURIComponent(location.hash.slice(1)).split(':')[1];
    const card = cards.find(c => c.dataset.operation === wanted);
    if (card) { card.open = true; setTimeout(() => card.scrollIntoView(), 0); }
  }

  function renderOperation(doc, { path, method, op }) {
    const M = method.toUpperCase();
    const card = el('details', { class: 'op', 'data-op': M + ' ' + path,
                                 'data-operation': op.operationId,
                                 'data-search': (M + ' ' + path + ' ' + (op['x-rpc'] || '')).toLowerCase() });
    card.append(el('summary', {}, el('span', { class: 'method ' + method }, M),
                   el('span', { class: 'path' }, path),
                   el('span', { class: 'rpc' }, op['x-rpc'] || op.summary || '')));
    card.addEventListener('toggle', () => {
      if (card.open) history.replaceState(null, '', '#api:' + op.operationId);
    });
    const body = el('div', { class: 'body' });
    card.append(body);
    body.append(el('p', { class: 'meta' }, 'Answered by the RPC method ' + (op['x-rpc'] || '?') +
                   ' (POST /rpc/' + (op['x-rpc'] || '?') + ' on the RPC port).'));

    const inputs = []; // {kind: 'param'|'field', name, schema, node}
    const params = op.parameters || [];
    if (params.length) {
      const t = el('table', { class: 'fields' });
      for (const p of params) {
        const node = el('input', { type: 'text', 'data-param': p.name, required: true,
                                   placeholder: p.name, 'aria-label': p.name });
        inputs.push({ kind: 'param', name: p.name, schema: p.schema, node });
        t.append(el('tr', {}, el('td', { class: 'name' }, '{' + p.name + '}'),
                    el('td', { class: 'type' }, typeLabel(p.schema),
                       el('div', { class: 'hint' }, (p.schema && p.schema['x-proto']) || '')),
                    el('td', {}, node)));
      }
      body.append(el('h3', {}, 'Path'), t);
    }

    const rb = op.requestBody && op.requestBody.content &&
               op.requestBody.content['application/json'] &&
               resolve(doc, op.requestBody.content['application/json'].schema);
    if (rb && rb.properties) {
      const t = el('table', { class: 'fields' });
      for (const [name, schema] of Object.entries(rb.properties)) {
        const s = schema;
        let node;
        if (isScalar(doc, s)) {
          if (s.enum) {
            node = el('select', { 'data-field': name, 'aria-label': name }, el('option', { value: '' }, '(not set)'));
            for (const v of s.enum) node.append(el('option', { value: v }, v));
          } else if (s.type === 'boolean') {
            node = el('input', { type: 'checkbox', 'data-field': name, 'aria-label': name });
          } else if (s.type === 'integer' || s.type === 'number') {
            node = el('input', { type: 'number', step: s.type === 'integer' ? '1' : 'any',
                                 'data-field': name, 'aria-label': name });
          } else {
            node = el('input', { type: 'text', 'data-field': name, 'aria-label': name,
                                 placeholder: s.format === 'date-time' ? new Date().toISOString() : '' });
          }
        } else {
          const ex = JSON.stringify(example(doc, s, 3), null, 1);
          node = el('textarea', { 'data-field': name, 'data-json': true, 'aria-label': name,
                                  placeholder: ex });
        }
        const cell = el('td', {}, node);
        if (node.dataset.json !== undefined) {
          const fill = el('button', { type: 'button', class: 'small' }, 'example');
          fill.addEventListener('click', () => { node.value = node.placeholder; update(); });
          cell.append(fill);
        }
        inputs.push({ kind: 'field', name, schema: s, node });
        t.append(el('tr', {}, el('td', { class: 'name' }, name),
                    el('td', { class: 'type' }, typeLabel(s),
                       el('div', { class: 'hint' }, s['x-proto'] || '')),
                    cell));
      }
      body.append(el('h3', {}, 'Body (JSON; empty fields are left out)'), t);
    }

    const preview = el('pre', { 'data-preview': true });
    const send = el('button', { type: 'button', class: 'send', 'data-send': true }, 'Send');
    const status = el('span', { class: 'status', 'data-status': true });
    const meta = el('span', { class: 'meta', 'data-meta': true });
    const response = el('pre', { 'data-response': true, hidden: true });
    body.append(el('h3', {}, 'Request'), preview, el('div', { class: 'actions' }, send, status, meta),
                response);

    // The request the form describes: {url, body} or {error}.
    function build() {
      let url = path;
      for (const i of inputs.filter(i => i.kind === 'param')) {
        if (!i.node.value) return { error: 'fill in {' + i.name + '}' };
        url = url.replace('{' + i.name + '}', encodeURIComponent(i.node.value));
      }
      const fields = inputs.filter(i => i.kind === 'field');
      if (!fields.length) return { url, body: null };
      const obj = {};
      for (const i of fields) {
        const n = i.node;
        if (n.type === 'checkbox') { if (n.checked) obj[i.name] = true; continue; }
        if (n.value === '') continue;
        if (n.dataset.json !== undefined) {
          try { obj[i.name] = JSON.parse(n.value); } catch (e) { return { error: i.name + ': not JSON: ' + e.message }; }
        } else if (n.type === 'number') {
          obj[i.name] = Number(n.value);
        } else {
          obj[i.name] = n.value;
        }
      }
      return { url, body: JSON.stringify(obj) };
    }

    function update() {
      const r = build();
      if (r.error) { preview.textContent = M + ' ' + path + '\n(' + r.error + ')'; return; }
      let text = M + ' ' + r.url + (r.body !== null ? '\nContent-Type: application/json\n\n' + r.body : '');
      const q = s => "'" + s.replace(/'/g, "'\\''") + "'";
      text += '\n\n$ curl -i -X ' + M + ' ' + q(location.origin + r.url) +
              (r.body !== null ? " -H 'Content-Type: application/json' -d " + q(r.body) : '');
      preview.textContent = text;
    }
    body.addEventListener('input', update);
    body.addEventListener('change', update);
    update();

    send.addEventListener('click', async () => {
      const r = build();
      response.hidden = false;
      if (r.error) {
        status.textContent = 'not sent'; status.className = 'status bad';
        response.textContent = r.error; meta.textContent = '';
        return;
      }
      status.textContent = '...'; status.className = 'status'; meta.textContent = '';
      const t0 = performance.now();
      try {
        const init = { method: M, headers: { Accept: 'application/json' } };
        if (r.body !== null) { init.headers['Content-Type'] = 'application/json'; init.body = r.body; }
        const resp = await fetch(r.url, init);
        const text = await resp.text();
        const ms = Math.round(performance.now() - t0);
        status.textContent = resp.status + ' ' + resp.statusText;
        status.className = 'status ' + (resp.ok ? 'ok' : 'bad');
        meta.textContent = ms + ' ms · X-Request-Id ' + (resp.headers.get('X-Request-Id') || '-');
        try { response.textContent = JSON.stringify(JSON.parse(text), null, 2); }
        catch (e) { response.textContent = text; }
      } catch (e) {
        status.textContent = 'no answer'; status.className = 'status bad';
        response.textContent = String(e);
      }
    });
    return card;
  }

  // ---- the event feed (/console/events: server-sent events read with fetch) ----------------------

  // One connection for the page; views subscribe to its messages with feed.listen(fn).
  const feed = {
    listeners: [], statusListeners: [], lastSeq: 0, lost: 0, state: 'connecting', error: '',
    listen(fn) { this.listeners.push(fn); },
    onStatus(fn) { this.statusListeners.push(fn); },
    setState(state, error) {
      this.state = state; this.error = error || '';
      for (const fn of this.statusListeners) fn();
    },
    started: false,
    start() {
      if (this.started) return;
      this.started = true;
      this.connect();
    },
    async connect() {
      this.setState('connecting');
      let resp;
      try {
        resp = await fetch('/console/events', { headers: { Accept: 'text/event-stream' } });
      } catch (e) {
        return this.retry('no answer from the program');
      }
      if (!resp.ok) {
        let msg = resp.status + ' ' + resp.statusText;
        try { msg = (await resp.json()).message || msg; } catch (e) { /* not JSON */ }
        // a full feed (503) is not retried by itself: the page says why and offers a button
        return this.setState('refused', msg);
      }
      this.setState('live');
      const reader = resp.body.getReader();
      const decoder = new TextDecoder();
      let buf = '';
      try {
        for (;;) {
          const { value, done } = await reader.read();
          if (done) break;
          buf += decoder.decode(value, { stream: true });
          let cut;
          while ((cut = buf.indexOf('\n\n')) >= 0) {
            this.handle(buf.slice(0, cut));
            buf = buf.slice(cut + 2);
          }
        }
      } catch (e) { /* the connection broke */ }
      this.retry('the feed ended (the program stopped?)');
    },
    retry(why) {
      this.setState('disconnected', why);
      setTimeout(() => this.connect(), 2000); // after a failure only: a live feed is never polled
    },
    handle(block) {
      let event = 'message', data = '';
      for (const line of block.split('\n')) {
        if (line.startsWith('event: ')) event = line.slice(7);
        else if (line.startsWith('data: ')) data += line.slice(6);
      }
      if (!data) return; // a keep-alive comment
      let obj;
      try { obj = JSON.parse(data); } catch (e) { return; }
      if (event === 'lost') { this.lost += obj.lost; this.setState(this.state); return; }
      if (event !== 'message') return;
      if (obj.seq <= this.lastSeq) return; // a reconnection sends the history again
      this.lastSeq = obj.seq;
      for (const fn of this.listeners) fn(obj, data);
    },
  };

  const UUID = /"([0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12})"/;

  // Compact JSON text with every UUID a link to its story.
  function jsonWithIds(value) {
    const out = el('code', { class: 'json' });
    const parts = JSON.stringify(value).split(UUID);
    parts.forEach((p, i) => {
      if (i % 2 === 0) { if (p) out.append(document.createTextNode(p)); return; }
      const a = el('a', { href: '#story:' + p, class: 'id', 'data-story': p, title: 'this id\'s story' }, p);
      a.addEventListener('click', ev => { ev.preventDefault(); showStory(p); });
      out.append('"', a, '"');
    });
    return out;
  }

  function shortTime(iso) {
    return iso ? iso.replace(/^.*T/, '').replace('Z', '') : '-';
  }

  function payloadCell(m) {
    if (m.raw) return el('span', { class: 'error' }, 'not decoded (' + m.raw.size + ' bytes): ' + m.raw.reason);
    const cell = el('div', {}, jsonWithIds(m.payload || {}));
    if (m.metadata && Object.keys(m.metadata).length)
      cell.append(el('div', { class: 'hint' }, 'metadata ', jsonWithIds(m.metadata)));
    if (m.dead)
      cell.append(el('div', { class: 'error' }, 'dead letter: ' + (m.dead.Reason || '') +
                     ' (group ' + (m.dead.Group || '?') + ')'));
    return cell;
  }

  // ---- the events view ----------------------------------------------------------------------------

  const MAX_ROWS = 2000;

  function renderEvents(section, doc) {
    const names = Object.keys((doc.components && doc.components.messages) || {});
    const channels = Object.keys(doc.channels || {});
    const filter = el('input', { type: 'search', placeholder: 'filter: subject or message name',
                                 'aria-label': 'filter events', 'data-events-filter': true });
    const pause = el('button', { type: 'button', class: 'small', 'data-pause': true }, 'Pause');
    const status = el('span', { class: 'meta', 'data-feed-status': true });
    const reconnect = el('button', { type: 'button', class: 'small', hidden: true }, 'Connect again');
    section.append(el('div', { class: 'toolbar' }, filter, pause, status, reconnect,
      el('a', { href: '/asyncapi.json', target: '_blank' }, 'AsyncAPI document')));
    section.append(el('p', { class: 'hint' }, 'Every message stored on the stream (events, ' +
      'commands, replies, dead letters), newest at the top, its payload decoded through the ' +
      'program\'s registry of ' + names.length + ' message types on ' + channels.length +
      ' channels. Click an id to follow its story.'));
    const body = el('tbody', {});
    section.append(el('table', { class: 'events' },
      el('thead', {}, el('tr', {}, el('th', {}, 'time'), el('th', {}, 'subject'),
        el('th', {}, 'name'), el('th', {}, 'id'), el('th', {}, 'payload'))), body));

    let paused = false, waiting = [], count = 0, droppedWhilePaused = 0;
    function matches(row) {
      const words = filter.value.toLowerCase().split(/\s+/).filter(Boolean);
      return words.every(w => row.dataset.search.includes(w));
    }
    function add(m) {
      const row = el('tr', { 'data-seq': m.seq, 'data-name': m.name || '', 'data-subject': m.subject,
                             'data-search': ((m.subject || '') + ' ' + (m.name || '')).toLowerCase(),
                             class: m.dead ? 'dead' : null },
        el('td', { class: 'time', title: m.time || '' }, shortTime(m.time)),
        el('td', { class: 'subject' }, m.subject || ''),
        el('td', { class: 'name' }, m.name || '(not a message)'),
        el('td', { class: 'id', title: m.id || '' }, (m.id || '').slice(0, 8)),
        el('td', { class: 'payload' }, payloadCell(m)));
      row.hidden = !matches(row);
      body.prepend(row);
      count++;
      while (body.rows.length > MAX_ROWS) body.lastChild.remove();
    }
    function show() {
      const s = feed.state === 'live' ? 'live' : feed.state === 'refused' ? 'refused: ' + feed.error
              : feed.state + (feed.error ? ' (' + feed.error + ')' : '');
      status.textContent = s + ' · ' + count + ' messages' +
        (feed.lost ? ' · ' + feed.lost + ' lost (the page read more slowly than they came)' : '') +
        (paused ? ' · paused, ' + waiting.length + ' waiting' +
                  (droppedWhilePaused ? ', ' + droppedWhilePaused + ' dropped' : '') : '');
      status.dataset.state = feed.state;
      status.dataset.lost = String(feed.lost);
      reconnect.hidden = feed.state !== 'refused';
    }
    feed.listen(m => {
      if (paused) {
        waiting.push(m);
        if (waiting.length > MAX_ROWS) { waiting.shift(); droppedWhilePaused++; }
      } else {
        add(m);
      }
      show();
    });
    feed.onStatus(show);
    filter.addEventListener('input', () => { for (const r of body.rows) r.hidden = !matches(r); });
    pause.addEventListener('click', () => {
      paused = !paused;
      pause.textContent = paused ? 'Resume' : 'Pause';
      pause.setAttribute('aria-pressed', String(paused));
      if (!paused) { for (const m of waiting) add(m); waiting = []; droppedWhilePaused = 0; }
      show();
    });
    reconnect.addEventListener('click', () => feed.connect());
    show();
    feed.start();
  }

  // ---- the story view -------------------------------------------------------------------------------

  let storyShow = null; // set by renderStory: shows the story of an id

  function showStory(id) {
    if (!storyShow) return;
    select('story', false);
    history.replaceState(null, '', '#story:' + id);
    storyShow(id);
  }

  function gap(ms) {
    if (ms < 1000) return '+' + Math.round(ms) + ' ms';
    if (ms < 60000) return '+' + (ms / 1000).toFixed(2) + ' s';
    return '+' + Math.floor(ms / 60000) + ' min ' + Math.round((ms % 60000) / 1000) + ' s';
  }

  function renderStory(section) {
    const input = el('input', { type: 'search', placeholder: 'an order id (= its basket\'s id)',
                                'aria-label': 'order id', 'data-story-id': true });
    const go = el('button', { type: 'button', class: 'send', 'data-story-go': true }, 'Follow');
    section.append(el('div', { class: 'toolbar' }, input, go));
    section.append(el('p', { class: 'hint' }, 'Every message of the event feed\'s history that ' +
      'mentions the id (in its payload, its metadata or as its own id), in the order the stream ' +
      'stored them, with the time between them; and the order as GET /api/ordering/{id} shows ' +
      'it now. The story follows new messages as they come.'));
    const state = el('div', { class: 'order-state', 'data-order-state': true });
    const list = el('ol', { class: 'story', 'data-story': true });
    const meta = el('p', { class: 'meta', 'data-story-meta': true });
    section.append(el('h2', {}, 'Order now'), state, el('h2', {}, 'Messages'), meta, list);
    let current = '', pending = null, serial = 0;

    async function load(id) {
      const mine = ++serial;
      const [story, order] = await Promise.all([
        fetch('/console/story/' + encodeURIComponent(id)).then(async r => ({ ok: r.ok, status: r.status, json: await r.json() })),
        fetch('/api/ordering/' + encodeURIComponent(id)).then(async r => ({ ok: r.ok, status: r.status, json: await r.json().catch(() => ({})) })),
      ]).catch(e => [{ ok: false, status: 0, json: { message: String(e) } }, { ok: false, status: 0, json: {} }]);
      if (mine !== serial) return; // a newer load is on its way
      state.replaceChildren();
      if (order.ok) {
        const o = order.json.order || order.json;
        state.append(el('div', { class: 'status-line' }, 'status ',
          el('strong', { 'data-order-status': o.status || '' }, o.status || '?')),
          el('pre', {}, JSON.stringify(o, null, 2)));
      } else {
        state.append(el('p', { class: 'meta' }, 'GET /api/ordering/' + id + ' answered ' + order.status +
                        ': ' + (order.json.message || 'no order with this id')));
      }
      list.replaceChildren();
      if (!story.ok) { meta.textContent = story.json.message || ('error ' + story.status); return; }
      const msgs = story.json.messages || [];
      meta.textContent = msgs.length + ' messages mention ' + id + ' among the last ' +
                         story.json.searched + ' of the stream (the feed keeps ' + story.json.history + ')';
      let prev = null;
      for (const m of msgs) {
        const t = m.time ? Date.parse(m.time) : NaN;
        list.append(el('li', { 'data-name': m.name || '', 'data-seq': m.seq },
          el('div', { class: 'story-head' },
            el('span', { class: 'gap' }, prev === null || isNaN(t) ? 'first' : gap(t - prev)),
            el('span', { class: 'time' }, shortTime(m.time)),
            el('strong', { class: 'name' }, m.name || '(not a message)'),
            el('span', { class: 'subject' }, m.subject || '')),
          payloadCell(m)));
        if (!isNaN(t)) prev = t;
      }
    }

    storyShow = id => {
      input.value = id;
      current = id;
      load(id);
    };
    go.addEventListener('click', () => { if (input.value.trim()) showStory(input.value.trim()); });
    input.addEventListener('keydown', ev => { if (ev.key === 'Enter') go.click(); });
    // a new message that mentions the id: load the story again (woken by the feed, no timer)
    feed.listen((m, text) => {
      if (!current || !text.includes('"' + current + '"')) return;
      clearTimeout(pending);
      pending = setTimeout(() => load(current), 150); // one reload for a burst of messages
    });
    onSelect.push(id => { if (id === 'story') feed.start(); });
    const wanted = decodeURIComponent(location.hash.slice(1));
    if (wanted.startsWith('story:') && wanted.length > 6) setTimeout(() => storyShow(wanted.slice(6)), 0);
  }

  document.addEventListener('DOMContentLoaded', start);
})();
