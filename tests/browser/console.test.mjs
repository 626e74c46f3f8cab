// console.test.mjs -- the lab console (shared/console.h) in a real browser: Debian's Chromium,
// driven by playwright-core, against a running chapter program.
//
// Run by tests/browser/console_host.c (make test), which starts the chapter's program on a fresh
// database with the e2e support (tests/support/e2e.h) and passes its address in CONSOLE_URL. By
// hand, against any running program:
//   CONSOLE_URL=http://127.0.0.1:8080/ node --test tests/browser/console.test.mjs
// CHROMIUM (default /usr/bin/chromium) is the browser; SCREENSHOT_DIR (default build/test-logs)
// receives console-api.png and, on a chapter with the event feed (06 on), console-events.png and
// console-story.png. No browser is downloaded: playwright-core drives the installed one.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { chromium } from 'playwright-core';
import SwaggerParser from '@apidevtools/swagger-parser';

const BASE = process.env.CONSOLE_URL;
const SHOTS = process.env.SCREENSHOT_DIR || 'build/test-logs';
const TIMEOUT = 30000; // per wait: a sanitizer build on a busy machine is slow

let browser, page;
const problems = []; // errors the page reported: script errors, failed loads, CSP refusals

before(async () => {
  assert.ok(BASE, 'CONSOLE_URL is not set (the program to test, e.g. http://127.0.0.1:8080/)');
  browser = await chromium.launch({
    executablePath: process.env.CHROMIUM || '/usr/bin/chromium',
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking',
           '--disable-component-update', '--disable-sync', '--no-first-run'],
  });
  page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
  page.setDefaultTimeout(TIMEOUT);
  page.on('pageerror', e => problems.push('script error: ' + e.message));
  // a refused API call is logged by Chromium as a failed load too: those are the forms' business
  page.on('console', m => {
    if (m.type() === 'error' && !m.text().startsWith('Failed to load resource'))
      problems.push('console: ' + m.text());
  });
  page.on('response', r => {
    if (r.status() >= 400 && r.request().resourceType() !== 'fetch')
      problems.push(`${r.status()} for ${r.request().resourceType()} ${r.url()}`);
  });
  await page.goto(BASE);
  await page.waitForSelector('details.op');
});

after(async () => {
  if (browser) await browser.close();
});

// The card of one route, e.g. card('POST /api/stores'), opened.
async function card(op) {
  const c = page.locator(`details.op[data-op="${op}"]`);
  assert.equal(await c.count(), 1, `one card for ${op}`);
  if (!(await c.evaluate(d => d.open))) await c.locator('summary').click();
  return c;
}

// Sends the card's form and waits for the answer: {status, json}.
async function send(c) {
  await c.locator('[data-status]').evaluate(s => { s.textContent = ''; });
  await c.locator('[data-send]').click();
  const status = c.locator('[data-status]');
  await page.waitForFunction(s => /^\d{3} /.test(s.textContent), await status.elementHandle());
  const text = await status.textContent();
  const json = JSON.parse(await c.locator('[data-response]').textContent());
  return { status: Number(text.slice(0, 3)), json };
}

test('/openapi.json validates against the OpenAPI 3.0 schema', async () => {
  const doc = await (await fetch(new URL('/openapi.json', BASE))).json();
  // the official JSON schema of OpenAPI 3.0, and every $ref resolving
  const api = await SwaggerParser.validate(structuredClone(doc));
  assert.equal(api.openapi, '3.0.3');
  assert.ok(Object.keys(api.paths).length > 0);
  // what the schema cannot say: each {name} of a path is declared as a path parameter, and
  // operation ids are unique
  const ids = new Set();
  for (const [path, item] of Object.entries(doc.paths))
    for (const [method, op] of Object.entries(item)) {
      const names = [...path.matchAll(/\{([^}]+)\}/g)].map(m => m[1]);
      const declared = (op.parameters || []).filter(p => p.in === 'path' && p.required)
                                            .map(p => p.name);
      assert.deepEqual(declared, names, `${method} ${path}: path parameters`);
      assert.ok(!ids.has(op.operationId), `operationId ${op.operationId} is unique`);
      ids.add(op.operationId);
    }
});

test('the console shows every route of /openapi.json, with its method, path and fields', async () => {
  const doc = await (await fetch(new URL('/openapi.json', BASE))).json();
  const want = [];
  for (const [path, item] of Object.entries(doc.paths))
    for (const method of Object.keys(item)) want.push(method.toUpperCase() + ' ' + path);
  assert.ok(want.length >= 10, `the program has routes (${want.length})`);
  const shown = await page.locator('details.op').evaluateAll(ds => ds.map(d => d.dataset.op));
  assert.deepEqual(shown.slice().sort(), want.slice().sort());
  // the fields of a body with their types, from the descriptors
  const c = await card('POST /api/stores');
  assert.equal(await c.locator('[data-field="name"]').count(), 1);
  assert.equal(await c.locator('[data-field="location"]').count(), 1);
  assert.match(await c.locator('.body').textContent(), /string name/);
  // a path parameter is an input of its own
  const g = await card('GET /api/stores/{id}');
  assert.equal(await g.locator('[data-param="id"]').count(), 1);
});

test('a store created through the form answers 200 with JSON and can be read back', async () => {
  const name = 'Console Books ' + Date.now();
  const create = await card('POST /api/stores');
  await create.locator('[data-field="name"]').fill(name);
  await create.locator('[data-field="location"]').fill('Upper Level');
  assert.match(await create.locator('[data-preview]').textContent(),
               /curl -i -X POST .*\/api\/stores' -H 'Content-Type: application\/json'/);
  const created = await send(create);
  assert.equal(created.status, 200, JSON.stringify(created.json));
  assert.match(created.json.id, /^[0-9a-f-]{36}$/);
  assert.match(await create.locator('[data-meta]').textContent(), /X-Request-Id [0-9a-f-]{36}/);

  // the store appears through the GET forms
  const one = await card('GET /api/stores/{id}');
  await one.locator('[data-param="id"]').fill(created.json.id);
  const got = await send(one);
  assert.equal(got.status, 200);
  assert.equal(got.json.store.id, created.json.id);
  assert.equal(got.json.store.name, name);
  assert.equal(got.json.store.location, 'Upper Level');
  const all = await card('GET /api/stores');
  const listed = await send(all);
  assert.equal(listed.status, 200);
  assert.ok(listed.json.stores.some(s => s.id === created.json.id && s.name === name),
            'the new store is in GET /api/stores');

  // the picture of the README: the form and its answer
  await all.evaluate(d => { d.open = false; });
  await one.evaluate(d => { d.open = false; });
  await create.scrollIntoViewIfNeeded();
  await page.evaluate(() => window.scrollBy(0, -120));
  mkdirSync(SHOTS, { recursive: true });
  await page.screenshot({ path: join(SHOTS, 'console-api.png') });
});

test('a refused request shows the status and the API\'s error', async () => {
  const one = await card('GET /api/stores/{id}');
  await one.locator('[data-param="id"]').fill('no-such-store');
  const r = await send(one);
  assert.equal(r.status, 404);
  assert.equal(r.json.code, 5);
  assert.match(r.json.message, /not found/);
  assert.match(await one.locator('[data-status]').getAttribute('class'), /bad/);
  // an unfilled path parameter is not sent at all
  await one.locator('[data-param="id"]').fill('');
  await one.locator('[data-send]').click();
  assert.equal(await one.locator('[data-status]').textContent(), 'not sent');
});

// ---- the events and story views (chapter 06 on: the program serves /asyncapi.json) -------------

async function api(method, path, body) {
  const init = { method, headers: { Accept: 'application/json' } };
  if (body !== undefined) {
    init.headers['Content-Type'] = 'application/json';
    init.body = JSON.stringify(body);
  }
  const r = await fetch(new URL(path, BASE), init);
  const json = await r.json();
  assert.equal(r.status, 200, `${method} ${path}: ${JSON.stringify(json)}`);
  return json;
}

async function hasEvents() {
  return (await fetch(new URL('/asyncapi.json', BASE))).status === 200;
}

async function tab(id) {
  await page.locator(`#tabs [data-tab="${id}"]`).click();
  await page.waitForSelector(`#view-${id}:not([hidden])`);
}

test('/asyncapi.json lists every message on its channel with its payload schema', async t => {
  if (!(await hasEvents())) return t.skip('no event feed before chapter 06');
  const doc = await (await fetch(new URL('/asyncapi.json', BASE))).json();
  assert.equal(doc.asyncapi, '2.6.0');
  assert.ok(doc.info.title && doc.info.version);
  const messages = doc.components.messages;
  assert.ok(Object.keys(messages).length >= 8, 'the registry has the stores module\'s messages');
  for (const [name, m] of Object.entries(messages)) {
    assert.ok(m.payload.$ref, `${name} has a payload`);
    const schema = doc.components.schemas[m.payload.$ref.replace('#/components/schemas/', '')];
    assert.ok(schema && schema.properties, `${name}'s payload schema resolves`);
    if (!m['x-channel']) {
      // a reply travels on the channel its command names: listed, on no channel of its own
      assert.match(m.description, /no channel of its own/, `${name} says where it travels`);
      assert.ok(!Object.values(doc.channels).some(c => c.subscribe.message.oneOf.some(
                  r => r.$ref === '#/components/messages/' + name)), `${name} is on no channel`);
      continue;
    }
    const ch = doc.channels[m['x-channel']];
    assert.ok(ch, `${name}'s channel ${m['x-channel']} is a channel`);
    assert.ok(ch.subscribe.message.oneOf.some(r => r.$ref === '#/components/messages/' + name),
              `${name} is listed on ${m['x-channel']}`);
  }
  assert.equal(messages['storesapi.StoreCreated']['x-channel'], 'mallbots.stores.events.Store');
  assert.ok('name' in doc.components.schemas['storesapi.StoreCreated'].properties);
});

test('a store created through the form shows its StoreCreated in the events view within 2 s', async t => {
  if (!(await hasEvents())) return t.skip('no event feed before chapter 06');
  await tab('events');
  await page.waitForSelector('[data-feed-status][data-state="live"]');
  await tab('api');
  const name = 'Evented Books ' + Date.now();
  const create = await card('POST /api/stores');
  await create.locator('[data-field="name"]').fill(name);
  await create.locator('[data-field="location"]').fill('Food Court');
  const created = await send(create);
  assert.equal(created.status, 200);
  const sent = Date.now();
  await tab('events');
  const row = page.locator(`table.events tr[data-name="storesapi.StoreCreated"]`,
                           { hasText: created.json.id });
  await row.waitFor({ timeout: 2000 });
  const took = Date.now() - sent;
  assert.ok(took <= 2000, `shown after ${took} ms`);
  assert.match(await row.locator('td.subject').textContent(), /^mallbots\.stores\.events\.Store$/);
  assert.match(await row.locator('td.payload').textContent(), new RegExp(name));
  // newest at the top
  assert.equal(await page.locator('table.events tbody tr').first().getAttribute('data-seq'),
               await row.getAttribute('data-seq'));
  // the filter keeps what matches subject or name, hides the rest
  await page.locator('[data-events-filter]').fill('StoreCreated');
  assert.ok(await row.isVisible());
  const hiddenOthers = await page.locator('table.events tbody tr').evaluateAll(
    rs => rs.filter(r => !r.hidden).every(r => r.dataset.name === 'storesapi.StoreCreated'));
  assert.ok(hiddenOthers, 'only StoreCreated rows stay visible');
  await page.locator('[data-events-filter]').fill('');
  // pause: new messages wait, and come when resumed
  await page.locator('[data-pause]').click();
  const paused = await api('POST', '/api/stores', { name: name + ' (paused)', location: 'Basement' });
  await page.waitForFunction(() => /paused, [1-9]\d* waiting/.test(
    document.querySelector('[data-feed-status]').textContent));
  assert.equal(await page.locator('table.events tr', { hasText: paused.id }).count(), 0);
  await page.locator('[data-pause]').click();
  await page.locator('table.events tr[data-name="storesapi.StoreCreated"]', { hasText: paused.id })
    .waitFor();
  mkdirSync(SHOTS, { recursive: true });
  await page.screenshot({ path: join(SHOTS, 'console-events.png') });
});

test('the feed serves a few clients at once: the next one gets a clear 503', async t => {
  if (!(await hasEvents())) return t.skip('no event feed before chapter 06');
  const held = [];
  try {
    let refused = null;
    for (let i = 0; i < 8 && !refused; i++) { // the page holds one already
      const ac = new AbortController();
      const r = await fetch(new URL('/console/events', BASE), { signal: ac.signal });
      if (r.status === 200) {
        held.push(ac);
        // the hello is the first event: read until its blank line (TCP may cut it anywhere)
        const reader = r.body.getReader();
        const decoder = new TextDecoder();
        let first = '';
        while (!first.includes('\n\n')) {
          const { value, done } = await reader.read();
          if (done) break;
          first += decoder.decode(value, { stream: true });
        }
        assert.match(first, /^event: hello\ndata: \{"history":\d+,"clients":4/, `client ${i + 1}'s first event`);
      } else {
        refused = { status: r.status, json: await r.json() };
      }
    }
    assert.ok(refused, 'a client was refused');
    assert.equal(held.length, 3, `the page and three more are served (refused: ${JSON.stringify(refused)})`);
    assert.equal(refused.status, 503);
    assert.match(refused.json.message, /at most 4 clients/);
  } finally {
    for (const ac of held) ac.abort();
  }
});

test('an order\'s story lists its messages with the time between them and its state', async t => {
  if (!(await hasEvents())) return t.skip('no event feed before chapter 06');
  const doc = await (await fetch(new URL('/asyncapi.json', BASE))).json();
  if (!doc.components.messages['ordersapi.OrderCreated'])
    return t.skip('orders are announced on the stream from chapter 07 on');
  // an order, through the REST API (as scripts/order-walk.sh does)
  const run = Date.now();
  const store = await api('POST', '/api/stores', { name: 'Story Store ' + run, location: 'Upper Level' });
  await api('PUT', `/api/stores/${store.id}/participating`);
  const product = await api('POST', `/api/stores/${store.id}/products`,
                            { name: 'Story Wizard', description: 'a wizard', sku: 'STORY-' + run, price: 9.5 });
  const customer = await api('POST', '/api/customers', { name: 'Story Customer ' + run, smsNumber: '555-0100' });
  const basket = await api('POST', '/api/baskets', { customerId: customer.id });
  await api('PUT', `/api/baskets/${basket.id}/addItem`, { productId: product.id, quantity: 2 });
  const payment = await api('POST', '/api/payments', { customerId: customer.id, amount: 19 });
  await api('PUT', `/api/baskets/${basket.id}/checkout`, { paymentId: payment.id });
  const order = basket.id; // the order made from a basket has the basket's id

  // clicked in the events view: the id of the OrderCreated's payload opens its story
  await tab('events');
  const created = page.locator('table.events tr[data-name="ordersapi.OrderCreated"]', { hasText: order });
  await created.waitFor();
  await created.locator(`a[data-story="${order}"]`).first().click();
  await page.waitForSelector('#view-story:not([hidden])');
  assert.equal(await page.locator('[data-story-id]').inputValue(), order);
  const first = page.locator('ol.story li[data-name="ordersapi.OrderCreated"]');
  await first.waitFor();
  // the order's state, from GET /api/ordering/{id}
  await page.waitForSelector('[data-order-status]');
  assert.match(await page.locator('[data-order-status]').textContent(), /pending|approved|ready|completed/i);
  // the bot shops and the invoice is paid (scripts/order-walk.sh): the story follows by itself
  const until = async (need) => {
    for (let i = 0; i < 100; i++) {
      const o = (await api('GET', `/api/ordering/${order}`)).order;
      if (o[need]) return o;
      await new Promise(r => setTimeout(r, 100));
    }
    assert.fail(`order ${order} has no ${need}`);
  };
  const shopping = (await until('shoppingId')).shoppingId;
  await api('PUT', `/api/depot/shopping/${shopping}/assign`, { botId: 'bot-1' });
  await api('PUT', `/api/depot/shopping/${shopping}/complete`);
  await page.locator('ol.story li[data-name="ordersapi.OrderReadied"]').waitFor();
  const invoice = (await until('invoiceId')).invoiceId;
  await api('PUT', `/api/payments/invoices/${invoice}/pay`);
  await page.locator('ol.story li[data-name="ordersapi.OrderCompleted"]').waitFor();
  await page.waitForFunction(() => /completed/i.test(
    document.querySelector('[data-order-status]').textContent));
  // in stream order, each after the first with the time since the one before
  const items = await page.locator('ol.story li').evaluateAll(ls => ls.map(l => ({
    name: l.dataset.name, seq: Number(l.dataset.seq), gap: l.querySelector('.gap').textContent })));
  assert.ok(items.length >= 3, JSON.stringify(items));
  for (let i = 1; i < items.length; i++) {
    assert.ok(items[i].seq > items[i - 1].seq, 'stream order');
    assert.match(items[i].gap, /^\+\d/);
  }
  assert.equal(items[0].gap, 'first');
  // the story is also reachable by typing the id, and the server refuses a silly id
  await page.locator('[data-story-id]').fill(order);
  await page.locator('[data-story-go]').click();
  await first.waitFor();
  const bad = await fetch(new URL('/console/story/a%20b', BASE));
  assert.equal(bad.status, 400);
  await page.waitForTimeout(300); // the last reload of the story settles
  mkdirSync(SHOTS, { recursive: true });
  await page.screenshot({ path: join(SHOTS, 'console-story.png'), fullPage: false });
});

test('the page reported no script error, failed load or refused resource', () => {
  assert.deepEqual(problems, []);
});
