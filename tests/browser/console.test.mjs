// console.test.mjs -- the lab console (shared/console.h) in a real browser: Debian's Chromium,
// driven by playwright-core, against a running chapter program.
//
// Run by tests/browser/console_host.c (make test), which starts the chapter's program on a fresh
// database with the e2e support (tests/support/e2e.h) and passes its address in CONSOLE_URL. By
// hand, against any running program:
//   CONSOLE_URL=http://127.0.0.1:8080/ node --test tests/browser/console.test.mjs
// CHROMIUM (default /usr/bin/chromium) is the browser; SCREENSHOT_DIR (default build/test-logs)
// receives console-api.png. No browser is downloaded: playwright-core drives the installed one.
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

test('the page reported no script error, failed load or refused resource', () => {
  assert.deepEqual(problems, []);
});
