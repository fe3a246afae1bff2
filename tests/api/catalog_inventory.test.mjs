// Catalog inventory (issue 4): GET /inventory/:productId, its movements,
// stock adjustments and the low-stock threshold, through the gateway.
//
// Products come from POST /products when that route answers 201 (built on
// another branch); otherwise the test inserts them straight into the
// catalog's database with psql, which is all inventory needs (an id, a
// seller, a quantity, a threshold). Tokens are minted with JWT_SECRET as the
// auth service signs them (random sub and sid).
import { test, describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { randomBytes, randomUUID } from 'node:crypto';
import { GATEWAY, env, http, assertProblem, eventually, testToken, eventQueue } from './lib.mjs';

const RUN = randomBytes(4).toString('hex');
let seq = 0;

const token = (role, sub = randomUUID()) => ({ sub, role, token: testToken({ sub, role, permissions: [] }) });
const ADMIN = token('ADMIN');
const SUPER = token('SUPERADMIN');
const CUSTOMER = token('CUSTOMER');
const SELLER = token('SELLER');
const OTHER_SELLER = token('SELLER');

function api(method, path, { auth, body, headers = {} } = {}) {
  const h = { ...headers };
  if (auth) h.Authorization = `Bearer ${auth.token}`;
  if (body !== undefined) h['Content-Type'] = 'application/json';
  return http(`${GATEWAY}${path}`, { method, headers: h, body: body === undefined ? undefined : JSON.stringify(body) });
}

// ---- the catalog database (psql) ---------------------------------------------

function sql(query, ...args) {
  // psql variables (:'v1') quote each argument as a literal: no SQL built from strings.
  const vars = args.flatMap((a, i) => ['-v', `v${i + 1}=${a}`]);
  return execFileSync('psql', [env.CATALOG_DATABASE_URL, '-X', '-q', '-A', '-t', '-v', 'ON_ERROR_STOP=1', ...vars], {
    input: query,
    encoding: 'utf8',
    stdio: ['pipe', 'pipe', 'pipe'],
  }).trim();
}

let postProductsWorks; // undefined: not tried yet

// A product of 'seller' with 'quantity' in stock; its id.
async function product(seller = SELLER, { quantity = 10, threshold = 5 } = {}) {
  const n = ++seq;
  const sku = `INV-${RUN}-${n}`;
  const name = `Inventory test ${RUN} ${n}`;
  if (postProductsWorks !== false) {
    const res = await api('POST', '/products', {
      auth: ADMIN,
      body: { name, sku, price: 1999, currency: 'EUR', quantity, lowStockThreshold: threshold, sellerId: seller.sub },
    });
    postProductsWorks = res.status === 201;
    if (postProductsWorks) return res.json.id;
  }
  return sql(
    `INSERT INTO products (seller_id, name, slug, sku, price, currency, quantity, low_stock_threshold)
     VALUES (:'v1', :'v2', :'v3', :'v4', 1999, 'EUR', :'v5', :'v6') RETURNING id;`,
    seller.sub, name, `inventory-test-${RUN}-${n}`, sku, quantity, threshold,
  );
}

const adjust = (id, body, auth = ADMIN, headers) => api('POST', `/inventory/${id}/adjustments`, { auth, body, headers });
const quantityOf = (id) => Number(sql(`SELECT quantity FROM products WHERE id = :'v1';`, id));

// ---- RabbitMQ: a queue of our own bound to stock.* ---------------------------

const events = eventQueue(`catalog-inventory-test-${RUN}`, 'stock.#');
const received = events.received;
const drainQueue = () => events.drain();

// Every event received so far of 'type' for product 'id', after a drain.
async function eventsOf(type, id) {
  await drainQueue();
  return received.filter((e) => e.type === type && e.data?.productId === id);
}

before(() => events.open());
after(() => events.remove());

// ---- roles -----------------------------------------------------------------------

describe('roles', () => {
  // prettier-ignore
  const MATRIX = [
    // method  route                  anon CUST own-SELLER other-SELLER ADMIN SUPER
    ['GET',  '',                       401, 403, 200, 403, 200, 200],
    ['GET',  '/movements',             401, 403, 200, 403, 200, 200],
    ['POST', '/adjustments',           401, 403, 201, 403, 201, 201],
    ['PUT',  '/threshold',             401, 403, 200, 403, 200, 200],
  ];
  const CALLERS = [['anon', null], ['CUSTOMER', CUSTOMER], ['own SELLER', SELLER], ['other SELLER', OTHER_SELLER], ['ADMIN', ADMIN], ['SUPERADMIN', SUPER]];
  const BODIES = { '/adjustments': { delta: 1, reason: 'restock' }, '/threshold': { lowStockThreshold: 3 } };
  let id;
  before(async () => {
    id = await product(SELLER);
  });
  for (const [method, suffix, ...want] of MATRIX) {
    CALLERS.forEach(([name, auth], i) => {
      test(`${method} /inventory/:productId${suffix} as ${name} -> ${want[i]}`, async () => {
        const res = await api(method, `/inventory/${id}${suffix}`, { auth, body: BODIES[suffix] });
        if (want[i] >= 400) assertProblem(res, want[i]);
        else assert.equal(res.status, want[i], res.text);
      });
    });
  }

  test('unknown, malformed and deleted products are 404 for every route', async () => {
    const gone = await product(SELLER);
    sql(`UPDATE products SET deleted_at = now() WHERE id = :'v1';`, gone);
    for (const pid of [randomUUID(), 'not-a-uuid', gone]) {
      assertProblem(await api('GET', `/inventory/${pid}`, { auth: ADMIN }), 404);
      assertProblem(await api('GET', `/inventory/${pid}/movements`, { auth: ADMIN }), 404);
      assertProblem(await adjust(pid, { delta: 1, reason: 'restock' }), 404);
      assertProblem(await api('PUT', `/inventory/${pid}/threshold`, { auth: ADMIN, body: { lowStockThreshold: 1 } }), 404);
    }
  });
});

// ---- reads --------------------------------------------------------------------------

describe('GET /inventory/:productId and movements', () => {
  test('the inventory document with the last 20 movements, newest first', async () => {
    const id = await product(SELLER, { quantity: 100, threshold: 7 });
    for (let i = 1; i <= 22; i++) assert.equal((await adjust(id, { delta: -1, reason: 'sale', reference: `o-${i}` })).status, 201);
    const res = await api('GET', `/inventory/${id}`, { auth: SELLER });
    assert.equal(res.status, 200, res.text);
    const doc = res.json;
    assert.equal(doc.productId, id);
    assert.equal(doc.quantity, 78);
    assert.equal(doc.lowStockThreshold, 7);
    assert.equal(doc.inStock, true);
    assert.equal(doc.recentMovements.length, 20);
    assert.equal(doc.recentMovements[0].reference, 'o-22');
    assert.equal(doc.recentMovements[0].quantityAfter, 78);
    assert.equal(doc.recentMovements[0].delta, -1);
    assert.equal(doc.recentMovements[0].reason, 'sale');
    assert.match(doc.recentMovements[0].createdAt, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/);
    // ETag and If-None-Match
    const etag = res.headers.get('etag');
    assert.ok(etag);
    const again = await http(`${GATEWAY}/inventory/${id}`, {
      headers: { Authorization: `Bearer ${SELLER.token}`, 'If-None-Match': etag },
    });
    assert.equal(again.status, 304);
  });

  test('movements: pages of newest first, with the total', async () => {
    const id = await product(SELLER, { quantity: 0 });
    for (let i = 1; i <= 5; i++) assert.equal((await adjust(id, { delta: i, reason: 'restock' })).status, 201);
    const p1 = await api('GET', `/inventory/${id}/movements?limit=2`, { auth: ADMIN });
    assert.equal(p1.status, 200, p1.text);
    assert.equal(p1.json.total, 5);
    assert.deepEqual(p1.json.items.map((m) => m.delta), [5, 4]);
    const p3 = await api('GET', `/inventory/${id}/movements?limit=2&page=3`, { auth: ADMIN });
    assert.deepEqual(p3.json.items.map((m) => m.delta), [1]);
    assert.equal(p3.json.items[0].quantityAfter, 1);
    const bad = await api('GET', `/inventory/${id}/movements?limit=0&page=x`, { auth: ADMIN });
    assertProblem(bad, 422);
    assert.deepEqual(bad.json.errors.map((e) => e.field).sort(), ['limit', 'page']);
  });
});

// ---- adjustments ---------------------------------------------------------------

describe('POST /inventory/:productId/adjustments', () => {
  test('applies the delta and records the movement and the actor', async () => {
    const id = await product(SELLER, { quantity: 10 });
    const res = await adjust(id, { delta: 5, reason: 'restock', note: 'weekly\ndelivery', reference: 'PO-1' }, SELLER);
    assert.equal(res.status, 201, res.text);
    assert.equal(res.json.quantity, 15);
    assert.equal(res.json.movement.delta, 5);
    assert.equal(res.json.movement.quantityAfter, 15);
    assert.equal(res.json.movement.note, 'weekly\ndelivery');
    assert.equal(res.json.movement.reference, 'PO-1');
    assert.equal(res.json.movement.actorId, SELLER.sub);
    assert.equal(quantityOf(id), 15);
  });

  test('validation: 422 naming each bad field', async () => {
    const id = await product(SELLER);
    const cases = [
      [{}, ['delta', 'reason']],
      [{ delta: 0, reason: 'restock' }, ['delta']],
      [{ delta: 1.5, reason: 'restock' }, ['delta']],
      [{ delta: '3', reason: 'restock' }, ['delta']],
      [{ delta: 1000001, reason: 'restock' }, ['delta']],
      [{ delta: -1000001, reason: 'initial' }, ['delta', 'reason']],
      [{ delta: 1, reason: 'gift', note: 'x'.repeat(501), reference: '', colour: 'red' }, ['colour', 'note', 'reason', 'reference']],
      [{ delta: 1, reason: 'restock', reference: 'a\u0001b' }, ['reference']],
    ];
    for (const [body, fields] of cases) {
      const res = await adjust(id, body);
      assertProblem(res, 422);
      assert.deepEqual([...new Set(res.json.errors.map((e) => e.field))].sort(), fields, JSON.stringify(body));
    }
    assertProblem(await api('POST', `/inventory/${id}/adjustments`, { auth: ADMIN, body: [1] }), 400);
    const t = await api('PUT', `/inventory/${id}/threshold`, { auth: ADMIN, body: { lowStockThreshold: -1, x: 1 } });
    assertProblem(t, 422);
    assert.deepEqual(t.json.errors.map((e) => e.field).sort(), ['lowStockThreshold', 'x']);
    assert.equal(quantityOf(id), 10, 'nothing was adjusted');
  });

  test('below zero: 409 with the current quantity, nothing recorded', async () => {
    const id = await product(SELLER, { quantity: 3 });
    const res = await adjust(id, { delta: -4, reason: 'sale' });
    assertProblem(res, 409);
    assert.equal(res.json.quantity, 3);
    assert.equal(quantityOf(id), 3);
    assert.equal(sql(`SELECT count(*) FROM inventory_movements WHERE product_id = :'v1' AND reason <> 'initial';`, id), '0');
    assert.equal((await adjust(id, { delta: -3, reason: 'sale' })).json.quantity, 0);
  });

  test('50 concurrent adjustments (+ and -) give the exact final stock and 50 movements', async () => {
    const id = await product(SELLER, { quantity: 100 });
    const deltas = Array.from({ length: 50 }, (_, i) => (i % 2 ? -(i % 7) - 1 : (i % 5) + 1));
    const results = await Promise.all(deltas.map((delta) => adjust(id, { delta, reason: delta > 0 ? 'restock' : 'sale' })));
    for (const r of results) assert.equal(r.status, 201, r.text);
    const sum = deltas.reduce((a, b) => a + b, 0);
    assert.equal(quantityOf(id), 100 + sum);
    const rows = sql(`SELECT count(*) || ' ' || sum(delta) FROM inventory_movements WHERE product_id = :'v1' AND reason <> 'initial';`, id);
    assert.equal(rows, `50 ${sum}`);
    // each answer saw a distinct quantity after: the updates were serialised
    assert.equal(new Set(results.map((r) => r.json.movement.id)).size, 50);
    const chain = sql(
      `SELECT bool_and(quantity_after = 100 + running) FROM (SELECT quantity_after,
         sum(delta) OVER (ORDER BY id) AS running FROM inventory_movements WHERE product_id = :'v1' AND reason <> 'initial') s;`, id);
    assert.equal(chain, 't', 'every movement quantity_after follows from the ones before');
  });

  test('concurrent overdraw: the successful ones never exceed the stock, the rest get 409', async () => {
    const id = await product(SELLER, { quantity: 20 });
    const results = await Promise.all(Array.from({ length: 30 }, () => adjust(id, { delta: -3, reason: 'sale' })));
    const ok = results.filter((r) => r.status === 201);
    const refused = results.filter((r) => r.status === 409);
    assert.equal(ok.length + refused.length, 30, results.map((r) => r.status).join(','));
    assert.equal(ok.length, 6); // 6 x 3 = 18 <= 20, a 7th would overdraw
    for (const r of refused) assert.equal(typeof r.json.quantity, 'number');
    assert.equal(quantityOf(id), 2);
    assert.ok(quantityOf(id) >= 0);
  });

  test('movements are append-only: UPDATE and DELETE fail in the database', async () => {
    const id = await product(SELLER);
    await adjust(id, { delta: 1, reason: 'restock' });
    assert.throws(() => sql(`UPDATE inventory_movements SET delta = 99 WHERE product_id = :'v1';`, id), /append-only/);
    assert.throws(() => sql(`DELETE FROM inventory_movements WHERE product_id = :'v1' AND reason <> 'initial';`, id), /append-only/);
    assert.equal(sql(`SELECT delta FROM inventory_movements WHERE product_id = :'v1' AND reason <> 'initial';`, id), '1');
  });

  test('stock.changed for every adjustment, stock.low once when crossing the threshold', async () => {
    const id = await product(SELLER, { quantity: 8, threshold: 5 });
    await adjust(id, { delta: -2, reason: 'sale', reference: 'order-1' }); // 6: above
    await adjust(id, { delta: -2, reason: 'sale' }); // 4: crosses
    await adjust(id, { delta: -1, reason: 'damage' }); // 3: already low
    await adjust(id, { delta: 10, reason: 'restock' }); // 13: above again
    await adjust(id, { delta: -8, reason: 'sale' }); // 5: crosses (<=)
    const changed = await eventually(async () => {
      const e = await eventsOf('stock.changed', id);
      return e.length >= 5 && e;
    });
    assert.equal(changed.length, 5);
    const first = changed.find((e) => e.data.reference === 'order-1');
    assert.deepEqual(
      { ...first.data, movementId: undefined },
      { productId: id, delta: -2, quantity: 6, reason: 'sale', reference: 'order-1', movementId: undefined },
    );
    assert.equal(first.source, 'catalog');
    assert.deepEqual(changed.map((e) => e.data.quantity).sort((a, b) => a - b), [3, 4, 5, 6, 13]);
    assert.equal(changed.find((e) => e.data.quantity === 4).data.reference, null);
    const low = await eventually(async () => {
      const e = await eventsOf('stock.low', id);
      return e.length >= 2 && e;
    });
    await new Promise((r) => setTimeout(r, 500));
    assert.equal((await eventsOf('stock.low', id)).length, 2, 'no stock.low while it stays low');
    assert.deepEqual(low.map((e) => e.data).sort((a, b) => a.quantity - b.quantity), [
      { productId: id, quantity: 4, threshold: 5 },
      { productId: id, quantity: 5, threshold: 5 },
    ]);
  });

  test('Idempotency-Key: the same key replays the first answer without adjusting twice', async () => {
    const id = await product(SELLER, { quantity: 10 });
    const key = { 'Idempotency-Key': `k-${RUN}-1` };
    const body = { delta: -4, reason: 'sale', reference: 'order-9' };
    const results = await Promise.all([1, 2, 3].map(() => adjust(id, body, ADMIN, key)));
    for (const r of results) assert.equal(r.status, 201, r.text);
    assert.equal(quantityOf(id), 6);
    assert.equal(new Set(results.map((r) => r.json.movement.id)).size, 1);
    assert.equal(results.filter((r) => r.headers.get('idempotent-replayed') === 'true').length, 2);
    // the same key for another body is refused; another caller's key is its own
    const other = await adjust(id, { ...body, delta: -1 }, ADMIN, key);
    assertProblem(other, 422);
    assert.equal(other.json.errors[0].field, 'Idempotency-Key');
    assert.equal((await adjust(id, body, SUPER, key)).status, 201);
    assert.equal(quantityOf(id), 2);
    // a refused adjustment is not remembered: once stock is there, the retry works
    const k2 = { 'Idempotency-Key': `k-${RUN}-2` };
    assertProblem(await adjust(id, { delta: -5, reason: 'sale' }, ADMIN, k2), 409);
    await adjust(id, { delta: 10, reason: 'restock' });
    assert.equal((await adjust(id, { delta: -5, reason: 'sale' }, ADMIN, k2)).status, 201);
    assert.equal(quantityOf(id), 7);
    assertProblem(await adjust(id, body, ADMIN, { 'Idempotency-Key': 'x'.repeat(256) }), 422);
  });

  test('cache: GET /products/:id shows the new quantity right after an adjustment', async () => {
    const id = await product(SELLER, { quantity: 10 });
    const first = await api('GET', `/products/${id}`);
    assert.equal(first.status, 200, first.text);
    assert.equal(first.json.quantity, 10);
    await api('GET', `/products/${id}`); // cached now
    assert.equal((await adjust(id, { delta: -3, reason: 'sale' })).status, 201);
    assert.equal((await api('GET', `/products/${id}`)).json.quantity, 7);
    assert.equal((await api('PUT', `/inventory/${id}/threshold`, { auth: ADMIN, body: { lowStockThreshold: 9 } })).status, 200);
    const after = (await api('GET', `/products/${id}`)).json;
    assert.equal(after.lowStockThreshold, 9);
  });
});

describe('PUT /inventory/:productId/threshold', () => {
  test('sets the threshold and answers the inventory document', async () => {
    const id = await product(SELLER, { quantity: 4, threshold: 5 });
    const res = await api('PUT', `/inventory/${id}/threshold`, { auth: SELLER, body: { lowStockThreshold: 2 } });
    assert.equal(res.status, 200, res.text);
    assert.equal(res.json.lowStockThreshold, 2);
    assert.equal(res.json.quantity, 4);
    assert.equal(res.json.lowStock, false);
    assert.equal(sql(`SELECT low_stock_threshold FROM products WHERE id = :'v1';`, id), '2');
  });
});
