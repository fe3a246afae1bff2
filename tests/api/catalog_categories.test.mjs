// The catalog's category tree through the gateway: GET /categories (nested),
// GET /categories/:id, and POST/PATCH/DELETE for administrators: moves
// rewrite the subtree's paths, cycles and over-deep trees are refused,
// categories in use are not deleted.
//
// Tokens are minted with JWT_SECRET; every name carries RUN, so runs (and
// the other catalog tests) never depend on each other's categories.
import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { SERVICES, assertProblem, assertInvalid, testCaller, apiAs } from './lib.mjs';

const RUN = randomUUID().slice(0, 8);
let serial = 0;

const caller = testCaller;

const who = { anon: null, CUSTOMER: caller('CUSTOMER'), SELLER: caller('SELLER'), ADMIN: caller('ADMIN'), SUPERADMIN: caller('SUPERADMIN') };
const CALLERS = Object.keys(who);

const api = apiAs;

async function make(over = {}) {
  const res = await api('POST', '/categories', { as: who.ADMIN, body: { name: `Cat ${RUN} ${++serial}`, ...over } });
  assert.equal(res.status, 201, res.text);
  return res.json;
}

// Find a node by id anywhere in a nested tree.
function find(nodes, id) {
  for (const n of nodes) {
    if (n.id === id) return n;
    const hit = find(n.children, id);
    if (hit) return hit;
  }
  return null;
}

describe('categories', () => {
  test('POST builds path and depth from the parent; the tree nests children in order', async () => {
    const root = await make({ name: `Électronique ${RUN}`, description: 'All things' });
    assert.equal(root.slug, `electronique-${RUN}`);
    assert.equal(root.path, root.slug);
    assert.equal(root.depth, 0);
    assert.equal(root.parentId, null);
    const b = await make({ parentId: root.id, slug: `phones-${RUN}`, sortOrder: 2 });
    const a = await make({ parentId: root.id, slug: `tablets-${RUN}`, sortOrder: 1 });
    const leaf = await make({ parentId: b.id });
    assert.equal(b.path, `${root.slug}/phones-${RUN}`);
    assert.equal(leaf.path, `${b.path}/${leaf.slug}`);
    assert.equal(leaf.depth, 2);

    const tree = await api('GET', '/categories');
    assert.equal(tree.status, 200);
    const node = find(tree.json, root.id);
    assert.ok(node, 'root in the tree');
    assert.ok(tree.json.some((n) => n.id === root.id), 'a root category is at the top level');
    assert.deepEqual(node.children.map((c) => c.id), [a.id, b.id], 'children by sortOrder');
    assert.deepEqual(node.children[1].children.map((c) => c.id), [leaf.id]);
    for (const k of ['id', 'name', 'slug', 'path', 'depth', 'description', 'sortOrder', 'parentId', 'children']) {
      assert.ok(k in node, `${k} in a tree node`);
    }
    const one = await api('GET', `/categories/${leaf.id}`);
    assert.equal(one.status, 200);
    assert.deepEqual(one.json, leaf);
  });

  test('roles: reads are public, writes need ADMIN or SUPERADMIN', async () => {
    const c = await make();
    const expected = {
      read: { anon: 200, CUSTOMER: 200, SELLER: 200, ADMIN: 200, SUPERADMIN: 200 },
      write: { anon: 401, CUSTOMER: 403, SELLER: 403, ADMIN: 'ok', SUPERADMIN: 'ok' },
    };
    for (const k of CALLERS) {
      assert.equal((await api('GET', '/categories', { as: who[k] })).status, expected.read[k], k);
      assert.equal((await api('GET', `/categories/${c.id}`, { as: who[k] })).status, expected.read[k], k);
      const post = await api('POST', '/categories', { as: who[k], body: { name: `By ${k} ${RUN}` } });
      const patch = await api('PATCH', `/categories/${c.id}`, { as: who[k], body: { description: k } });
      const target = await make();
      const del = await api('DELETE', `/categories/${target.id}`, { as: who[k] });
      if (expected.write[k] === 'ok') {
        assert.equal(post.status, 201, `${k} POST ${post.text}`);
        assert.equal(patch.status, 200, `${k} PATCH ${patch.text}`);
        assert.equal(del.status, 204, `${k} DELETE ${del.text}`);
      } else {
        for (const res of [post, patch, del]) assertProblem(res, expected.write[k]);
      }
    }
    const direct = SERVICES.catalog.url;
    assertProblem(await api('POST', '/categories', { base: direct, body: { name: 'x' } }), 401);
  });

  test('validation names each field; a taken slug is 409', async () => {
    const res = await api('POST', '/categories', {
      as: who.ADMIN,
      body: { name: '', slug: 'Bad Slug', parentId: 'x', description: 5, sortOrder: 'first', extra: true },
    });
    assertInvalid(res, 'name', 'slug', 'parentId', 'description', 'sortOrder', 'extra');
    assertInvalid(await api('POST', '/categories', { as: who.ADMIN, body: {} }), 'name');
    assertInvalid(await api('POST', '/categories', { as: who.ADMIN, body: { name: 'x', parentId: randomUUID() } }), 'parentId');
    const c = await make();
    const dup = await api('POST', '/categories', { as: who.ADMIN, body: { name: 'dup', slug: c.slug } });
    assertProblem(dup, 409);
    assert.equal(dup.json.errors[0].field, 'slug');
    const same = await make({ name: c.name });
    assert.equal(same.slug, `${c.slug}-2`);
    assertInvalid(await api('PATCH', `/categories/${c.id}`, { as: who.ADMIN, body: { name: null } }), 'name');
    assertProblem(await api('PATCH', `/categories/${randomUUID()}`, { as: who.ADMIN, body: { name: 'x' } }), 404);
    assertProblem(await api('GET', '/categories/not-a-uuid'), 404);
  });

  test('PATCH moves a subtree: paths and depths of every descendant follow', async () => {
    const a = await make();
    const b = await make();
    const child = await make({ parentId: a.id });
    const grandchild = await make({ parentId: child.id });
    const moved = await api('PATCH', `/categories/${child.id}`, { as: who.ADMIN, body: { parentId: b.id, name: 'Renamed' } });
    assert.equal(moved.status, 200, moved.text);
    assert.equal(moved.json.parentId, b.id);
    assert.equal(moved.json.path, `${b.path}/${child.slug}`);
    assert.equal(moved.json.depth, 1);
    assert.equal(moved.json.name, 'Renamed');
    const g = (await api('GET', `/categories/${grandchild.id}`)).json;
    assert.equal(g.path, `${b.path}/${child.slug}/${grandchild.slug}`);
    assert.equal(g.depth, 2);

    const toRoot = await api('PATCH', `/categories/${child.id}`, { as: who.ADMIN, body: { parentId: null } });
    assert.equal(toRoot.json.path, child.slug);
    assert.equal(toRoot.json.depth, 0);
    const reslug = await api('PATCH', `/categories/${child.id}`, { as: who.ADMIN, body: { slug: `re-${child.slug}` } });
    assert.equal(reslug.json.path, `re-${child.slug}`);
    const g2 = (await api('GET', `/categories/${grandchild.id}`)).json;
    assert.equal(g2.path, `re-${child.slug}/${grandchild.slug}`);
    assert.equal(g2.depth, 1);
    const tree = (await api('GET', '/categories')).json;
    assert.deepEqual(find(tree, child.id).children.map((c) => c.id), [grandchild.id], 'the tree shows the move at once');
  });

  test('moving under itself or a descendant is 422; so is a tree deeper than 10', async () => {
    const a = await make();
    const b = await make({ parentId: a.id });
    const c = await make({ parentId: b.id });
    assertInvalid(await api('PATCH', `/categories/${a.id}`, { as: who.ADMIN, body: { parentId: a.id } }), 'parentId');
    assertInvalid(await api('PATCH', `/categories/${a.id}`, { as: who.ADMIN, body: { parentId: c.id } }), 'parentId');
    assert.equal((await api('GET', `/categories/${a.id}`)).json.depth, 0, 'nothing moved');

    let chain = [await make()];
    for (let i = 1; i <= 10; i++) chain.push(await make({ parentId: chain[i - 1].id }));
    assert.equal(chain[10].depth, 10);
    assertInvalid(await api('POST', '/categories', { as: who.ADMIN, body: { name: 'too deep', parentId: chain[10].id } }), 'parentId');
    // a (with 2 levels below it) under chain[8] would reach depth 11
    assertInvalid(await api('PATCH', `/categories/${a.id}`, { as: who.ADMIN, body: { parentId: chain[8].id } }), 'parentId');
    const ok = await api('PATCH', `/categories/${a.id}`, { as: who.ADMIN, body: { parentId: chain[7].id } });
    assert.equal(ok.status, 200, ok.text);
    assert.equal((await api('GET', `/categories/${c.id}`)).json.depth, 10);
  });

  test('DELETE refuses a category with children or products (409), then deletes', async () => {
    const parent = await make();
    const child = await make({ parentId: parent.id });
    assertProblem(await api('DELETE', `/categories/${parent.id}`, { as: who.ADMIN }), 409);
    const product = await api('POST', '/products', {
      as: who.ADMIN,
      body: { name: `In ${RUN}`, sku: `C-${RUN}-${++serial}`, price: 1, currency: 'EUR', categories: [child.id] },
    });
    assert.equal(product.status, 201, product.text);
    assertProblem(await api('DELETE', `/categories/${child.id}`, { as: who.ADMIN }), 409);
    await api('PATCH', `/products/${product.json.id}`, { as: who.ADMIN, body: { categories: [] } });
    assert.equal((await api('DELETE', `/categories/${child.id}`, { as: who.ADMIN })).status, 204);
    assert.equal((await api('DELETE', `/categories/${parent.id}`, { as: who.ADMIN })).status, 204);
    assertProblem(await api('GET', `/categories/${parent.id}`), 404);
    assertProblem(await api('DELETE', `/categories/${parent.id}`, { as: who.ADMIN }), 404);
    assert.equal(find((await api('GET', '/categories')).json, parent.id), null);
  });

  test('ETag/304 on the tree, and a write changes it at once', async () => {
    const first = await api('GET', '/categories');
    const etag = first.headers.get('etag');
    assert.ok(etag);
    assert.equal((await api('GET', '/categories', { headers: { 'If-None-Match': etag } })).status, 304);
    const c = await make();
    const after = await api('GET', '/categories', { headers: { 'If-None-Match': etag } });
    assert.equal(after.status, 200);
    assert.ok(find(after.json, c.id));
    const one = await api('GET', `/categories/${c.id}`);
    assert.equal((await api('GET', `/categories/${c.id}`, { headers: { 'If-None-Match': one.headers.get('etag') } })).status, 304);
    await api('PATCH', `/categories/${c.id}`, { as: who.ADMIN, body: { description: 'changed' } });
    assert.equal((await api('GET', `/categories/${c.id}`)).json.description, 'changed');
  });

  test('hostile names are stored exactly', async () => {
    for (const name of ["x'); DROP TABLE categories; --", 'Zoë 日本語 🍮 %_\\']) {
      const c = await make({ name });
      assert.equal(c.name, name);
      assert.match(c.slug, /^[a-z0-9]+(-[a-z0-9]+)*$/);
      assert.equal((await api('GET', `/categories/${c.id}`)).json.name, name);
    }
  });
});
