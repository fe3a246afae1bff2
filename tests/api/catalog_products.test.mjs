// The catalog's product CRUD through the gateway: GET /products/:id and
// /products/slug/:slug, POST /products, PUT/PATCH/DELETE /products/:id.
//
// Every route x {anonymous, CUSTOMER, SELLER owner, other SELLER, ADMIN};
// validation (422 naming each field), duplicate SKUs (409), soft delete,
// slugs, ETag/304, cache invalidation, hostile strings, and what each write
// leaves in the database (initial stock movement, outbox events).
//
// Tokens are minted with JWT_SECRET (random subjects and sessions), so the
// tests need no accounts; every SKU and name carries RUN.
import { test, describe, before } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { SERVICES, env, assertProblem, assertInvalid, testCaller, apiAs } from './lib.mjs';

const RUN = randomUUID().slice(0, 8);
let serial = 0;
const sku = (tag = 'P') => `${tag}-${RUN}-${++serial}`;

// ---- callers ------------------------------------------------------------------

const caller = testCaller;

const who = {
  anon: null,
  CUSTOMER: caller('CUSTOMER'),
  owner: caller('SELLER'),
  other: caller('SELLER'),
  ADMIN: caller('ADMIN'),
};
const CALLERS = Object.keys(who);

const api = apiAs;

// ---- the database (checks of what a write leaves behind) ------------------------

function sql(query) {
  return execFileSync('psql', [env.CATALOG_DATABASE_URL, '-AtX', '-c', query], { encoding: 'utf8' }).trim();
}

// ---- fixtures ---------------------------------------------------------------------

const base = (over = {}) => ({ name: `Mug ${RUN} ${++serial}`, sku: sku(), price: 1299, currency: 'EUR', ...over });

async function createProduct(over = {}, as = who.owner) {
  const res = await api('POST', '/products', { as, body: base(over) });
  assert.equal(res.status, 201, res.text);
  return res.json;
}

let category;
before(async () => {
  const res = await api('POST', '/categories', { as: who.ADMIN, body: { name: `Kitchen ${RUN}` } });
  assert.equal(res.status, 201, res.text);
  category = res.json;
});

// ---- roles --------------------------------------------------------------------------

describe('roles', () => {
  const READ_ACTIVE = { anon: 200, CUSTOMER: 200, owner: 200, other: 200, ADMIN: 200 };
  const READ_HIDDEN = { anon: 404, CUSTOMER: 404, owner: 200, other: 404, ADMIN: 200 };

  for (const [label, over, expected] of [
    ['active', {}, READ_ACTIVE],
    ['inactive', { isActive: false }, READ_HIDDEN],
  ]) {
    test(`GET /products/:id and /products/slug/:slug of an ${label} product`, async () => {
      const p = await createProduct(over);
      for (const c of CALLERS) {
        const byId = await api('GET', `/products/${p.id}`, { as: who[c] });
        assert.equal(byId.status, expected[c], `${c} by id: ${byId.text}`);
        const bySlug = await api('GET', `/products/slug/${p.slug}`, { as: who[c] });
        assert.equal(bySlug.status, expected[c], `${c} by slug: ${bySlug.text}`);
        if (expected[c] === 200) assert.deepEqual(byId.json, p);
        else assertProblem(byId, 404);
      }
    });
  }

  test('POST /products', async () => {
    const expected = { anon: 401, CUSTOMER: 403, owner: 201, other: 201, ADMIN: 201 };
    for (const c of CALLERS) {
      const res = await api('POST', '/products', { as: who[c], body: base() });
      assert.equal(res.status, expected[c], `${c}: ${res.text}`);
      if (res.status === 201) {
        assert.equal(res.headers.get('location'), `/products/${res.json.id}`);
        assert.equal(res.json.sellerId, who[c].sub);
      } else assertProblem(res, expected[c]);
    }
  });

  test('the service itself refuses anonymous and customer writes (no gateway)', async () => {
    const direct = SERVICES.catalog.url;
    assertProblem(await api('POST', '/products', { base: direct, body: base() }), 401);
    assertProblem(await api('POST', '/products', { base: direct, as: who.CUSTOMER, body: base() }), 403);
    const p = await createProduct();
    assertProblem(await api('DELETE', `/products/${p.id}`, { base: direct }), 401);
    assertProblem(await api('PATCH', `/products/${p.id}`, { base: direct, body: { price: 1 } }), 401);
  });

  test('an administrator creates for a seller; a seller only for itself', async () => {
    const res = await api('POST', '/products', { as: who.ADMIN, body: base({ sellerId: who.owner.sub }) });
    assert.equal(res.status, 201, res.text);
    assert.equal(res.json.sellerId, who.owner.sub);
    assertProblem(await api('POST', '/products', { as: who.other, body: base({ sellerId: who.owner.sub }) }), 403);
    const self = await api('POST', '/products', { as: who.other, body: base({ sellerId: who.other.sub }) });
    assert.equal(self.status, 201, self.text);
  });

  for (const method of ['PUT', 'PATCH']) {
    test(`${method} /products/:id`, async () => {
      const expected = { anon: 401, CUSTOMER: 403, owner: 200, other: 403, ADMIN: 200 };
      const p = await createProduct();
      for (const c of CALLERS) {
        const body = method === 'PUT' ? { name: `${c} ${RUN}`, sku: p.sku, price: 5, currency: 'USD' } : { price: 7 };
        const res = await api(method, `/products/${p.id}`, { as: who[c], body });
        assert.equal(res.status, expected[c], `${c}: ${res.text}`);
        if (res.status !== 200) assertProblem(res, expected[c]);
      }
    });
  }

  test('DELETE /products/:id', async () => {
    const expected = { anon: 401, CUSTOMER: 403, owner: 204, other: 403, ADMIN: 204 };
    for (const c of CALLERS) {
      const p = await createProduct();
      const res = await api('DELETE', `/products/${p.id}`, { as: who[c] });
      assert.equal(res.status, expected[c], `${c}: ${res.text}`);
      if (res.status !== 204) assertProblem(res, expected[c]);
    }
  });

  test("another seller's hidden product is 404 for its writes, not 403", async () => {
    const p = await createProduct({ isActive: false });
    assertProblem(await api('PATCH', `/products/${p.id}`, { as: who.other, body: { price: 1 } }), 404);
    assertProblem(await api('DELETE', `/products/${p.id}`, { as: who.other }), 404);
    const admin = await api('PATCH', `/products/${p.id}`, { as: who.ADMIN, body: { isActive: true } });
    assert.equal(admin.status, 200, admin.text);
    assertProblem(await api('PATCH', `/products/${p.id}`, { as: who.other, body: { price: 1 } }), 403);
  });

  test('ids that cannot exist are 404', async () => {
    for (const id of [randomUUID(), 'not-a-uuid', "1'%20OR%20'1'='1"]) {
      assertProblem(await api('GET', `/products/${id}`), 404);
      assertProblem(await api('PATCH', `/products/${id}`, { as: who.ADMIN, body: { price: 1 } }), 404);
      assertProblem(await api('DELETE', `/products/${id}`, { as: who.ADMIN }), 404);
    }
    assertProblem(await api('GET', '/products/slug/No-Such_Slug'), 404);
  });
});

// ---- validation ----------------------------------------------------------------------

describe('validation', () => {
  test('every bad field is named in one 422', async () => {
    const res = await api('POST', '/products', {
      as: who.owner,
      body: {
        name: '', sku: 'bad sku!', price: -1, currency: 'eur', quantity: -3, lowStockThreshold: 'x',
        attributes: [], categories: ['nope'], isActive: 'yes', slug: 'Bad Slug', sellerId: 'x', bogus: 1,
      },
    });
    assertInvalid(res, 'name', 'sku', 'price', 'currency', 'quantity', 'lowStockThreshold', 'attributes',
      'categories', 'isActive', 'slug', 'sellerId', 'bogus');
  });

  test('required fields, bounds and types', async () => {
    assertInvalid(await api('POST', '/products', { as: who.owner, body: {} }), 'name', 'sku', 'price', 'currency');
    const cases = [
      [{ name: 'x'.repeat(201) }, 'name'],
      [{ name: '   ' }, 'name'],
      [{ name: 'line\nbreak' }, 'name'],
      [{ sku: 'x'.repeat(65) }, 'sku'],
      [{ sku: "a'b" }, 'sku'],
      [{ price: 10 ** 12 + 1 }, 'price'],
      [{ price: 1.5 }, 'price'],
      [{ price: '100' }, 'price'],
      [{ currency: 'EURO' }, 'currency'],
      [{ quantity: 2 ** 31 }, 'quantity'],
      [{ description: 'd'.repeat(20001) }, 'description'],
      [{ slug: '-a' }, 'slug'],
      [{ slug: 'a--b' }, 'slug'],
      [{ categories: [randomUUID(), 'x'] }, 'categories'],
      [{ id: randomUUID() }, 'id'],
      [{ createdAt: '2020-01-01T00:00:00Z' }, 'createdAt'],
    ];
    for (const [over, field] of cases) {
      assertInvalid(await api('POST', '/products', { as: who.owner, body: base(over) }), field);
    }
  });

  test('attributes: scalars and arrays of scalars, bounded', async () => {
    const bad = [
      { nested: { a: 1 } },
      { deep: [[1]] },
      { holes: [null] },
      { gone: null },
      { long: 'x'.repeat(1001) },
      { many: Array.from({ length: 51 }, (_, i) => i) },
      Object.fromEntries(Array.from({ length: 51 }, (_, i) => [`k${i}`, i])),
      { ['k'.repeat(101)]: 1 },
    ];
    for (const attributes of bad) {
      const res = await api('POST', '/products', { as: who.owner, body: base({ attributes }) });
      assertInvalid(res);
      assert.ok(res.json.errors.every((e) => e.field.startsWith('attributes')), res.text);
    }
    const good = { color: 'red', size: 42, weight: 1.25, organic: true, tags: ['a', 2, false] };
    const p = await createProduct({ attributes: good });
    assert.deepEqual(p.attributes, good);
  });

  test('categories must exist', async () => {
    const missing = randomUUID();
    const res = await api('POST', '/products', { as: who.owner, body: base({ categories: [category.id, missing] }) });
    assertInvalid(res, 'categories');
    assert.match(res.text, new RegExp(missing));
    const p = await createProduct({ categories: [category.id] });
    assert.deepEqual(p.categories, [category.id]);
  });

  test('quantity and sellerId cannot be changed by PUT or PATCH', async () => {
    const p = await createProduct({ quantity: 3 });
    const patch = await api('PATCH', `/products/${p.id}`, { as: who.owner, body: { quantity: 10 } });
    assertInvalid(patch, 'quantity');
    assert.match(patch.text, /inventory/);
    const put = await api('PUT', `/products/${p.id}`, { as: who.owner, body: { ...base(), quantity: 10 } });
    assertInvalid(put, 'quantity');
    assertInvalid(await api('PATCH', `/products/${p.id}`, { as: who.ADMIN, body: { sellerId: who.other.sub } }), 'sellerId');
    assertInvalid(await api('PATCH', `/products/${p.id}`, { as: who.owner, body: { name: null, price: null } }), 'name', 'price');
    const after = await api('GET', `/products/${p.id}`);
    assert.equal(after.json.quantity, 3);
  });

  test('a body that is not JSON is refused, not a 500', async () => {
    const p = await createProduct();
    for (const [body, type] of [['{', 'application/json'], ['[]', 'application/json'], ['name=x', 'text/plain']]) {
      const res = await api('PATCH', `/products/${p.id}`, { as: who.owner, body, headers: { 'Content-Type': type } });
      assert.ok(res.status >= 400 && res.status < 500, `${type} ${body}: ${res.status}`);
    }
  });
});

// ---- writes ---------------------------------------------------------------------------

describe('writes', () => {
  test('POST stores every field and records the initial stock as a movement', async () => {
    const body = base({
      description: 'Line one\nLine two', quantity: 12, lowStockThreshold: 2, isActive: true,
      attributes: { color: 'blue' }, categories: [category.id],
    });
    const res = await api('POST', '/products', { as: who.owner, body });
    assert.equal(res.status, 201, res.text);
    const p = res.json;
    for (const k of ['name', 'sku', 'description', 'price', 'currency', 'quantity', 'lowStockThreshold', 'attributes', 'categories', 'isActive']) {
      assert.deepEqual(p[k], body[k], k);
    }
    assert.equal(p.inStock, true);
    assert.deepEqual(p.images, []);
    assert.match(p.createdAt, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/);
    assert.equal(sql(`SELECT reason || ':' || delta || ':' || quantity_after FROM inventory_movements WHERE product_id = '${p.id}'`), 'initial:12:12');
    assert.equal(sql(`SELECT routing_key FROM outbox WHERE payload::text LIKE '%${p.id}%' ORDER BY created_at`), 'product.created');
    const none = await createProduct();
    assert.equal(none.quantity, 0);
    assert.equal(none.inStock, false);
    assert.equal(sql(`SELECT count(*) FROM inventory_movements WHERE product_id = '${none.id}'`), '0');
  });

  test('duplicate SKU, whatever its case, is 409 naming sku', async () => {
    const p = await createProduct();
    const res = await api('POST', '/products', { as: who.other, body: base({ sku: p.sku.toLowerCase() }) });
    assertProblem(res, 409);
    assert.deepEqual(res.json.errors.map((e) => e.field), ['sku']);
    const q = await createProduct();
    const patch = await api('PATCH', `/products/${q.id}`, { as: who.owner, body: { sku: p.sku.toUpperCase() } });
    assertProblem(patch, 409);
    assert.equal(patch.json.errors[0].field, 'sku');
  });

  test('slugs: derived from the name, transliterated, unique with a suffix; a taken explicit slug is 409', async () => {
    const name = `Crème Brûlée Straße ${RUN} 🍮`;
    const a = await createProduct({ name });
    const b = await createProduct({ name });
    const c = await createProduct({ name });
    assert.equal(a.slug, `creme-brulee-strasse-${RUN}`);
    assert.equal(b.slug, `${a.slug}-2`);
    assert.equal(c.slug, `${a.slug}-3`);
    const emoji = await createProduct({ name: '🍮🍮' });
    assert.match(emoji.slug, /^product(-\d+|-[0-9a-f]{8})?$/);
    const own = await createProduct({ slug: `my-slug-${RUN}` });
    assert.equal(own.slug, `my-slug-${RUN}`);
    const taken = await api('POST', '/products', { as: who.owner, body: base({ slug: own.slug }) });
    assertProblem(taken, 409);
    assert.equal(taken.json.errors[0].field, 'slug');
    const bySlug = await api('GET', `/products/slug/${b.slug}`);
    assert.equal(bySlug.json.id, b.id);
  });

  test('concurrent creates with one name get distinct slugs', async () => {
    const name = `Race ${RUN}`;
    const all = await Promise.all(Array.from({ length: 8 }, () => api('POST', '/products', { as: who.owner, body: base({ name }) })));
    for (const r of all) assert.equal(r.status, 201, r.text);
    assert.equal(new Set(all.map((r) => r.json.slug)).size, 8);
  });

  test('PUT replaces every writable field; absent optional ones take their defaults', async () => {
    const p = await createProduct({ description: 'old', attributes: { a: 1 }, categories: [category.id], lowStockThreshold: 1, quantity: 4 });
    const body = { name: `Replaced ${RUN}`, sku: p.sku, price: 10, currency: 'USD' };
    const res = await api('PUT', `/products/${p.id}`, { as: who.owner, body });
    assert.equal(res.status, 200, res.text);
    const r = res.json;
    assert.equal(r.name, body.name);
    assert.equal(r.description, '');
    assert.deepEqual(r.attributes, {});
    assert.deepEqual(r.categories, []);
    assert.equal(r.lowStockThreshold, 5);
    assert.equal(r.isActive, true);
    assert.equal(r.quantity, 4);
    assert.equal(r.slug, p.slug, 'the slug stays when none is given');
    assert.equal(r.createdAt, p.createdAt);
    assert.ok(r.updatedAt >= p.updatedAt);
  });

  for (const type of ['application/json', 'application/merge-patch+json']) {
    test(`PATCH (${type}) changes only the given fields; null resets; attributes merge`, async () => {
      const p = await createProduct({ description: 'keep?', attributes: { color: 'red', size: 'M' }, categories: [category.id], lowStockThreshold: 9 });
      const res = await api('PATCH', `/products/${p.id}`, {
        as: who.owner,
        headers: { 'Content-Type': type },
        body: { price: 999, description: null, lowStockThreshold: null, attributes: { color: null, material: 'clay' } },
      });
      assert.equal(res.status, 200, res.text);
      const r = res.json;
      assert.equal(r.price, 999);
      assert.equal(r.name, p.name);
      assert.equal(r.description, '');
      assert.equal(r.lowStockThreshold, 5);
      assert.deepEqual(r.attributes, { size: 'M', material: 'clay' });
      assert.deepEqual(r.categories, [category.id]);
      const cleared = await api('PATCH', `/products/${p.id}`, { as: who.owner, headers: { 'Content-Type': type }, body: { categories: null, attributes: null } });
      assert.deepEqual(cleared.json.categories, []);
      assert.deepEqual(cleared.json.attributes, {});
    });
  }

  test('DELETE is soft: 404 for the public, visible to the seller and admins, writes 404, SKU stays taken', async () => {
    const p = await createProduct();
    assert.equal((await api('DELETE', `/products/${p.id}`, { as: who.owner })).status, 204);
    assertProblem(await api('GET', `/products/${p.id}`), 404);
    assertProblem(await api('GET', `/products/slug/${p.slug}`, { as: who.CUSTOMER }), 404);
    assert.equal((await api('GET', `/products/${p.id}`, { as: who.ADMIN })).status, 200);
    assert.equal((await api('GET', `/products/${p.id}`, { as: who.owner })).status, 200);
    assertProblem(await api('DELETE', `/products/${p.id}`, { as: who.owner }), 404);
    assertProblem(await api('PATCH', `/products/${p.id}`, { as: who.ADMIN, body: { price: 1 } }), 404);
    assertProblem(await api('POST', '/products', { as: who.owner, body: base({ sku: p.sku }) }), 409);
    assert.equal(sql(`SELECT deleted_at IS NOT NULL FROM products WHERE id = '${p.id}'`), 't');
    assert.equal(sql(`SELECT string_agg(routing_key, ',' ORDER BY created_at) FROM outbox WHERE payload::text LIKE '%${p.id}%'`), 'product.created,product.deleted');
  });

  test('hostile strings are stored and returned exactly', async () => {
    const names = [
      "Robert'); DROP TABLE products; --",
      '" OR 1=1 -- \\ % _ $1 ${x} <script>alert(1)</script>',
      'Zoë Ünïcödé 日本語 العربية 👩‍👩‍👧 🍮',
      '\u202Eevil\u200B zero-width',
    ];
    for (const name of names) {
      const res = await api('POST', '/products', {
        as: who.owner,
        body: base({ name, description: `${name}\n\t${name}`, attributes: { [name.slice(0, 50)]: name, list: [name] } }),
      });
      assert.equal(res.status, 201, `${name}: ${res.text}`);
      const got = await api('GET', `/products/${res.json.id}`);
      assert.equal(got.json.name, name);
      assert.equal(got.json.description, `${name}\n\t${name}`);
      assert.equal(got.json.attributes[name.slice(0, 50)], name);
      assert.match(got.json.slug, /^[a-z0-9]+(-[a-z0-9]+)*$/);
    }
    for (const name of ['nul\u0000byte', 'bell\u0007', 'esc\u001b[31m']) {
      const res = await api('POST', '/products', { as: who.owner, body: base({ name }) });
      assert.ok(res.status === 422 || res.status === 400, `${JSON.stringify(name)}: ${res.status} ${res.text}`);
    }
  });
});

// ---- reads: ETag and cache -----------------------------------------------------------------

describe('reads', () => {
  test('ETag and If-None-Match -> 304', async () => {
    const p = await createProduct();
    for (const path of [`/products/${p.id}`, `/products/slug/${p.slug}`]) {
      const first = await api('GET', path);
      const etag = first.headers.get('etag');
      assert.match(etag, /^"[0-9a-f]+"$/);
      const again = await api('GET', path, { headers: { 'If-None-Match': etag } });
      assert.equal(again.status, 304);
      assert.equal(again.text, '');
      const other = await api('GET', path, { headers: { 'If-None-Match': '"nope"' } });
      assert.equal(other.status, 200);
    }
  });

  test('a write is visible to the very next read (cache invalidation)', async () => {
    const p = await createProduct({ quantity: 1 });
    const before = await api('GET', `/products/${p.id}`);
    const etag = before.headers.get('etag');
    for (let i = 1; i <= 5; i++) {
      await api('GET', `/products/${p.id}`); // warm the cache
      const patch = await api('PATCH', `/products/${p.id}`, { as: who.owner, body: { price: 100 + i } });
      assert.equal(patch.status, 200, patch.text);
      const after = await api('GET', `/products/${p.id}`);
      assert.equal(after.json.price, 100 + i);
      assert.deepEqual(after.json, patch.json);
    }
    const changed = await api('GET', `/products/${p.id}`, { headers: { 'If-None-Match': etag } });
    assert.equal(changed.status, 200, 'an old ETag no longer matches');
    await api('PATCH', `/products/${p.id}`, { as: who.owner, body: { isActive: false } });
    assertProblem(await api('GET', `/products/${p.id}`), 404);
    assert.equal((await api('GET', `/products/${p.id}`, { as: who.owner })).status, 200);
    await api('DELETE', `/products/${p.id}`, { as: who.owner });
    assertProblem(await api('GET', `/products/slug/${p.slug}`), 404);
  });
});
