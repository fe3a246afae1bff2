// The users service against its real database and broker: profiles created
// from user.registered events, /users/me, addresses, preferences,
// deactivation, administration and access control.
//
// Independent of the auth service: tokens are minted here with JWT_SECRET
// (the same HS256 tokens auth signs) and user.* events are published to
// RabbitMQ through its management HTTP API. Every name and email carries
// RUN, so runs never see each other's data.
import { test, describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { createHmac, randomUUID } from 'node:crypto';
import { SERVICES, env, http, assertProblem, assertInvalid, eventually, rabbitMgmt } from './lib.mjs';

const BASE = SERVICES.users.url;
const RUN = randomUUID().slice(0, 8);
const EXCHANGE = env.RABBITMQ_EXCHANGE || 'ecommerce.events';
const ROLES = ['CUSTOMER', 'SELLER', 'ADMIN', 'SUPERADMIN'];
// What the auth service seeds: only administrators may manage users.
const PERMISSIONS = {
  CUSTOMER: ['orders:read', 'orders:write'],
  SELLER: ['products:write', 'orders:read'],
  ADMIN: ['users:read', 'users:write', 'orders:read'],
  SUPERADMIN: ['users:read', 'users:write', 'orders:read', 'roles:write'],
};

// ---- tokens ---------------------------------------------------------------

const b64url = (v) => Buffer.from(typeof v === 'string' ? v : JSON.stringify(v)).toString('base64url');

function sign(header, claims, secret = env.JWT_SECRET) {
  const head = `${b64url(header)}.${b64url(claims)}`;
  return `${head}.${createHmac('sha256', secret).update(head).digest('base64url')}`;
}

function claimsFor({ sub, role = 'CUSTOMER', email, permissions, ...rest }) {
  const now = Math.floor(Date.now() / 1000);
  return {
    sub,
    email: email || `${sub}@example.test`,
    role,
    permissions: permissions || PERMISSIONS[role],
    jti: randomUUID(),
    sid: randomUUID(),
    iat: now,
    exp: now + 600,
    iss: env.JWT_ISSUER,
    aud: env.JWT_AUDIENCE,
    ...rest,
  };
}

function mintToken(opts) {
  return sign({ alg: 'HS256', typ: 'JWT' }, claimsFor(opts));
}

// ---- HTTP -----------------------------------------------------------------

async function api(method, path, { token, body, headers = {} } = {}) {
  const h = { ...headers };
  if (token) h.Authorization = `Bearer ${token}`;
  let payload = body;
  if (body !== undefined && typeof body !== 'string') {
    payload = JSON.stringify(body);
    h['Content-Type'] ??= 'application/json';
  }
  return http(`${BASE}${path}`, { method, headers: h, body: payload });
}

// ---- RabbitMQ through the management API ----------------------------------

async function mgmt(method, path, body) {
  const res = await rabbitMgmt(method, `/api${path}`, body);
  assert.ok(res.status < 300, `management ${method} ${path}: ${res.status} ${res.text}`);
  return res.json;
}

async function publish(type, data, id = randomUUID()) {
  const envelope = { id, type, source: 'auth', occurredAt: new Date().toISOString(), data };
  const res = await mgmt('POST', `/exchanges/%2F/${encodeURIComponent(EXCHANGE)}/publish`, {
    properties: { message_id: id, content_type: 'application/json', delivery_mode: 2, type },
    routing_key: type,
    payload: JSON.stringify(envelope),
    payload_encoding: 'string',
  });
  assert.equal(res.routed, true, `${type} was routed to a queue`);
  return id;
}

// A queue of our own bound to 'keys', to see what the service emits.
async function tapQueue(keys) {
  const name = `users-test-${RUN}-${randomUUID().slice(0, 4)}`;
  await mgmt('PUT', `/queues/%2F/${name}`, { durable: false, auto_delete: false });
  for (const key of keys) {
    await mgmt('POST', `/bindings/%2F/e/${encodeURIComponent(EXCHANGE)}/q/${name}`, { routing_key: key });
  }
  const seen = [];
  return {
    // Events received so far (drained from the queue), envelopes parsed.
    async drain() {
      const msgs = await mgmt('POST', `/queues/%2F/${name}/get`, {
        count: 100, ackmode: 'ack_requeue_false', encoding: 'auto',
      });
      for (const m of msgs) seen.push({ key: m.routing_key, props: m.properties, event: JSON.parse(m.payload) });
      return seen;
    },
    async waitFor(pred) {
      return eventually(async () => (await this.drain()).find(pred));
    },
    remove: () => mgmt('DELETE', `/queues/%2F/${name}`),
  };
}

// ---- users ----------------------------------------------------------------

let seq = 0;

// Register a user by event and wait until its profile is served.
async function newUser({ role = 'CUSTOMER', firstName = 'Ann', lastName = `Tester${RUN}`, tag = 'u' } = {}) {
  const id = randomUUID();
  const email = `${tag}-${++seq}-${RUN}@Example.test`;
  const data = { userId: id, email, firstName, lastName, role, emailVerified: false };
  const eventId = await publish('user.registered', data);
  const token = mintToken({ sub: id, role, email });
  const res = await eventually(async () => {
    const r = await api('GET', '/users/me', { token });
    return r.status === 200 ? r : null;
  });
  return { id, email, role, token, data, eventId, profile: res.json };
}

const admin = () => mintToken({ sub: randomUUID(), role: 'ADMIN' });
const superadmin = () => mintToken({ sub: randomUUID(), role: 'SUPERADMIN' });

const ADDRESS = {
  label: 'Home',
  fullName: 'Ann Tester',
  line1: 'Rua Augusta 1',
  city: 'Lisboa',
  postalCode: '1100-048',
  country: 'PT',
  phone: '+351 912 345 678',
};

// ---------------------------------------------------------------------------

describe('users: standard endpoints', () => {
  test('/health and /ready answer', async () => {
    assert.equal((await http(`${BASE}/health`)).json.status, 'ok');
    const ready = await http(`${BASE}/ready`);
    assert.equal(ready.status, 200, ready.text);
    assert.equal(ready.json.checks.postgres, 'ok');
    assert.equal(ready.json.checks.rabbitmq, 'ok');
  });

  test('the OpenAPI document covers every route with schemas and bearer auth', async () => {
    const res = await http(`${BASE}/docs/openapi.json`);
    assert.equal(res.status, 200);
    const doc = res.json;
    assert.equal(doc.openapi, '3.0.3');
    const expected = {
      '/users/me': ['get', 'patch'],
      '/users/me/deactivate': ['post'],
      '/users/me/addresses': ['get', 'post'],
      '/users/me/addresses/{id}': ['get', 'patch', 'delete'],
      '/users/me/preferences': ['get', 'put'],
      '/users': ['get'],
      '/users/{id}': ['get', 'patch'],
      '/health': ['get'],
      '/ready': ['get'],
      '/metrics': ['get'],
      '/docs': ['get'],
      '/docs/openapi.json': ['get'],
    };
    for (const [path, methods] of Object.entries(expected)) {
      for (const m of methods) {
        const op = doc.paths[path]?.[m];
        assert.ok(op, `${m.toUpperCase()} ${path} documented`);
        assert.ok(Object.keys(op.responses).length > 0, `${m} ${path} has responses`);
        if (path.startsWith('/users')) {
          assert.deepEqual(op.security, [{ bearerAuth: [] }], `${m} ${path} needs bearer auth`);
          assert.ok(op.responses['401'], `${m} ${path} documents 401`);
        }
      }
    }
    assert.equal(doc.components.securitySchemes.bearerAuth.scheme, 'bearer');
    for (const s of ['Problem', 'Profile', 'ProfilePatch', 'Address', 'AddressCreate', 'AddressPatch', 'Preferences', 'UserPage']) {
      assert.ok(doc.components.schemas[s], `schema ${s}`);
    }
  });

  test('unknown route is 404 and a wrong method 405, as problem+json', async () => {
    assertProblem(await http(`${BASE}/users/me/nothing/here`), 404);
    const res = await http(`${BASE}/users/me/preferences`, { method: 'DELETE' });
    assertProblem(res, 405);
    assert.match(res.headers.get('allow'), /GET/);
  });
});

describe('users: profile from user.registered', () => {
  test('the profile appears with the event data', async () => {
    const u = await newUser({ firstName: 'Zoë', lastName: `Événement${RUN}` });
    assert.equal(u.profile.id, u.id);
    assert.equal(u.profile.email, u.email);
    assert.equal(u.profile.firstName, 'Zoë');
    assert.equal(u.profile.lastName, `Événement${RUN}`);
    assert.equal(u.profile.role, 'CUSTOMER');
    assert.equal(u.profile.emailVerified, false);
    assert.equal(u.profile.active, true);
    assert.equal(u.profile.phone, null);
    assert.match(u.profile.createdAt, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/);
  });

  test('GET /users/me before the event arrived is a clear 404', async () => {
    const res = await api('GET', '/users/me', { token: mintToken({ sub: randomUUID() }) });
    assertProblem(res, 404);
    assert.match(res.json.detail, /user\.registered/);
  });

  test('duplicate and repeated registration events leave exactly one profile', async () => {
    const u = await newUser({ tag: 'dup' });
    await publish('user.registered', u.data, u.eventId); // redelivery: same event id
    await publish('user.registered', { ...u.data, firstName: 'Second' }); // new id, same user
    // One queue, one consumer, in order: once this later event shows, the
    // two before it were handled.
    await publish('user.email_verified', { userId: u.id });
    await eventually(async () => (await api('GET', '/users/me', { token: u.token })).json.emailVerified === true);
    const me = await api('GET', '/users/me', { token: u.token });
    assert.equal(me.json.firstName, 'Ann', 'the first registration wins');
    const list = await api('GET', `/users?search=${encodeURIComponent(u.email)}`, { token: admin() });
    assert.equal(list.status, 200, list.text);
    assert.equal(list.json.total, 1);
    assert.equal(list.json.items[0].id, u.id);
  });

  test('user.role_changed and user.email_verified keep the profile current', async () => {
    const u = await newUser({ tag: 'role' });
    await publish('user.role_changed', { userId: u.id, oldRole: 'CUSTOMER', newRole: 'SELLER' });
    await publish('user.email_verified', { userId: u.id });
    const got = await eventually(async () => {
      const r = await api('GET', `/users/${u.id}`, { token: admin() });
      return r.json?.role === 'SELLER' && r.json.emailVerified ? r : null;
    });
    assert.equal(got.json.id, u.id);
  });
});

describe('users: events the service cannot apply', () => {
  // Non-destructive look at the dead-letter queue (messages are requeued).
  const deadLetters = () => mgmt('POST', '/queues/%2F/users.profiles.dlq/get', {
    count: 500, ackmode: 'ack_requeue_true', encoding: 'auto',
  });

  test('malformed or premature events are dead-lettered and do not block the queue', async () => {
    const malformed = await publish('user.registered', { userId: 'not-a-uuid', email: '' });
    const orphan = await publish('user.role_changed', { userId: randomUUID(), newRole: 'ADMIN' });
    const badRole = await publish('user.registered', { userId: randomUUID(), email: `r-${RUN}@example.test`, role: 'ROOT' });
    await eventually(async () => {
      const ids = (await deadLetters()).map((m) => m.properties.message_id);
      return [malformed, orphan, badRole].every((id) => ids.includes(id));
    }, { timeoutMs: 30000, intervalMs: 500 });
    const u = await newUser({ tag: 'after-dlq' }); // later events still flow
    assert.equal(u.profile.id, u.id);
  });
});

describe('users: PATCH /users/me', () => {
  let u;
  before(async () => {
    u = await newUser({ tag: 'patch' });
  });

  test('valid fields are stored and returned', async () => {
    const body = {
      firstName: 'Maria',
      lastName: 'da Silva',
      phone: '+351912345678',
      avatarUrl: 'https://cdn.example.com/a/b.png?s=64',
      dateOfBirth: '1990-02-28',
    };
    const res = await api('PATCH', '/users/me', { token: u.token, body });
    assert.equal(res.status, 200, res.text);
    for (const [k, v] of Object.entries(body)) assert.equal(res.json[k], v, k);
    const again = await api('GET', '/users/me', { token: u.token });
    for (const [k, v] of Object.entries(body)) assert.equal(again.json[k], v, k);
    assert.equal(again.json.email, u.email, 'email untouched');
  });

  test('null clears optional fields; absent fields stay', async () => {
    const res = await api('PATCH', '/users/me', { token: u.token, body: { phone: null, avatarUrl: null } });
    assert.equal(res.status, 200, res.text);
    assert.equal(res.json.phone, null);
    assert.equal(res.json.avatarUrl, null);
    assert.equal(res.json.firstName, 'Maria');
    assert.equal(res.json.dateOfBirth, '1990-02-28');
  });

  test('every invalid field is reported at once (422 errors[])', async () => {
    const res = await api('PATCH', '/users/me', {
      token: u.token,
      body: {
        firstName: '',
        lastName: 'x'.repeat(101),
        phone: '12345',
        avatarUrl: 'http://example.com/a.png',
        dateOfBirth: '2001-02-29',
        nickname: 'nope',
      },
    });
    assertInvalid(res, 'firstName', 'lastName', 'phone', 'avatarUrl', 'dateOfBirth', 'nickname');
  });

  test('email and role are read-only here', async () => {
    assertInvalid(await api('PATCH', '/users/me', { token: u.token, body: { email: 'x@example.test' } }), 'email');
    assertInvalid(await api('PATCH', '/users/me', { token: u.token, body: { role: 'ADMIN' } }), 'role');
    assertInvalid(await api('PATCH', '/users/me', { token: u.token, body: { active: true } }), 'active');
    const me = await api('GET', '/users/me', { token: u.token });
    assert.equal(me.json.role, 'CUSTOMER');
  });

  test('more format rules', async () => {
    const bad = [
      { firstName: null },
      { firstName: '   ' },
      { firstName: 42 },
      { firstName: 'a\nb' },
      { phone: '+0123456789' },
      { phone: '+1 (415) 555-0123' },
      { avatarUrl: 'https://' },
      { avatarUrl: 'https://user@evil.example/x' },
      { avatarUrl: 'https://exa mple.com/' },
      { avatarUrl: 'javascript:alert(1)' },
      { dateOfBirth: '3000-01-01' },
      { dateOfBirth: '1899-12-31' },
      { dateOfBirth: '1990-1-1' },
    ];
    for (const body of bad) {
      const field = Object.keys(body)[0];
      assertInvalid(await api('PATCH', '/users/me', { token: u.token, body }), field);
    }
    // JSON cannot smuggle a NUL into a text column: refused before or at validation
    const nul = await api('PATCH', '/users/me', { token: u.token, body: { firstName: 'nul\u0000byte' } });
    assert.ok(nul.status === 400 || nul.status === 422, nul.text);
    const ok = await api('PATCH', '/users/me', { token: u.token, body: { phone: '+1 415-555-0123' } });
    assert.equal(ok.status, 200, ok.text);
    assert.equal(ok.json.phone, '+1 415-555-0123');
  });

  test('bodies that are not JSON objects are refused', async () => {
    assertProblem(await api('PATCH', '/users/me', { token: u.token, body: '{"firstName":', headers: { 'Content-Type': 'application/json' } }), 400);
    assertProblem(await api('PATCH', '/users/me', { token: u.token, body: '[1]', headers: { 'Content-Type': 'application/json' } }), 400);
    assertProblem(await api('PATCH', '/users/me', { token: u.token, body: 'firstName=x', headers: { 'Content-Type': 'text/plain' } }), 415);
    const limit = Number(env.HTTP_MAX_BODY_BYTES || 1048576);
    assertProblem(await api('PATCH', '/users/me', { token: u.token, body: { firstName: 'x'.repeat(limit) } }), 413);
  });
});

describe('users: hostile and unusual text', () => {
  let u;
  before(async () => {
    u = await newUser({ tag: 'text' });
  });

  const EXACT = [
    "Robert'); DROP TABLE users;--",
    "'; DELETE FROM profiles WHERE '1'='1",
    '%',
    '_',
    '\\',
    '%_\\%',
    'Zoë Ñandú 漢字 🛒👩‍👩‍👧',
    '<script>alert(1)</script>',
    '🛒'.repeat(100), // 100 code points, 400 bytes: at the limit
  ];

  for (const value of EXACT) {
    test(`stored and returned exactly: ${JSON.stringify(value).slice(0, 40)}`, async () => {
      const res = await api('PATCH', '/users/me', { token: u.token, body: { firstName: value, lastName: value } });
      assert.equal(res.status, 200, res.text);
      assert.equal(res.json.firstName, value);
      const me = await api('GET', '/users/me', { token: u.token });
      assert.equal(me.json.firstName, value);
      assert.equal(me.json.lastName, value);
    });
  }

  test('oversized unicode is 422, not truncated', async () => {
    assertInvalid(await api('PATCH', '/users/me', { token: u.token, body: { firstName: '🛒'.repeat(101) } }), 'firstName');
    assertInvalid(await api('PATCH', '/users/me', { token: u.token, body: { avatarUrl: `https://example.com/${'a'.repeat(2100)}` } }), 'avatarUrl');
  });

  test('hostile text in addresses and unknown keys is stored exactly or refused', async () => {
    const body = { ...ADDRESS, fullName: "O'Brien \"Bob\" %_\\", line1: "1; DROP TABLE addresses;--", line2: '🏠 2º esq.' };
    const res = await api('POST', '/users/me/addresses', { token: u.token, body });
    assert.equal(res.status, 201, res.text);
    for (const k of ['fullName', 'line1', 'line2']) assert.equal(res.json[k], body[k]);
    const weird = await api('POST', '/users/me/addresses', { token: u.token, body: { ...ADDRESS, "x'); DROP TABLE addresses;--": 1 } });
    assertProblem(weird, 422);
    const list = await api('GET', '/users/me/addresses', { token: u.token });
    assert.equal(list.status, 200);
    assert.equal(list.json.items.length, 1);
  });

  test('hostile path ids and query strings are 4xx', async () => {
    for (const id of ["1' OR '1'='1", '%27', '..%2F..', 'x'.repeat(5000)]) {
      const res = await api('GET', `/users/me/addresses/${encodeURIComponent(id)}`, { token: u.token });
      assert.ok(res.status >= 400 && res.status < 500, `${id.slice(0, 20)}: ${res.status}`);
      const adm = await api('GET', `/users/${encodeURIComponent(id)}`, { token: admin() });
      assert.ok(adm.status >= 400 && adm.status < 500, `${id.slice(0, 20)}: ${adm.status}`);
    }
    for (const q of ["role=ADMIN' OR 1=1--", 'active=1', 'page=-1', 'limit=1e3', `search=${'x'.repeat(101)}`, 'search=%01']) {
      const res = await api('GET', `/users?${q}`, { token: admin() });
      assertProblem(res, 422);
    }
    // Values the HTTP layer cannot hand over as text (a NUL ends the C
    // string, invalid UTF-8 is dropped) act as absent filters: never a 5xx.
    for (const q of ['search=%FF', 'search=a%00b', 'role=%00ADMIN']) {
      const res = await api('GET', `/users?${q}`, { token: admin() });
      assert.ok(res.status === 200 || res.status === 422, `${q}: ${res.status}`);
    }
  });

  test('a query parameter cannot stand in for a path id', async () => {
    // Ulfius keeps path and query parameters in one map; the core reads a
    // route's own segments from the path, so ?id= changes nothing.
    const res = await api('GET', `/users/${u.id}?id=${randomUUID()}`, { token: admin() });
    assert.equal(res.status, 200, res.text);
    assert.equal(res.json.id, u.id);
  });
});

describe('users: addresses', () => {
  let u;
  before(async () => {
    u = await newUser({ tag: 'addr' });
  });

  const defaults = async (token) => {
    const list = (await api('GET', '/users/me/addresses', { token })).json.items;
    return {
      list,
      shipping: list.filter((a) => a.isDefaultShipping).map((a) => a.id),
      billing: list.filter((a) => a.isDefaultBilling).map((a) => a.id),
    };
  };

  test('CRUD with the default flag rules', async () => {
    assert.deepEqual((await api('GET', '/users/me/addresses', { token: u.token })).json, { items: [] });

    const first = await api('POST', '/users/me/addresses', { token: u.token, body: { ...ADDRESS, isDefaultShipping: false } });
    assert.equal(first.status, 201, first.text);
    assert.equal(first.headers.get('location'), `/users/me/addresses/${first.json.id}`);
    assert.equal(first.json.isDefaultShipping, true, 'the first address is the default shipping');
    assert.equal(first.json.isDefaultBilling, true, 'and the default billing');
    assert.equal(first.json.line2, null);
    assert.equal(first.json.country, 'PT');

    const second = await api('POST', '/users/me/addresses', {
      token: u.token, body: { ...ADDRESS, label: 'Work', line1: 'Av. da Liberdade 2', isDefaultShipping: true },
    });
    assert.equal(second.status, 201, second.text);
    assert.equal(second.json.isDefaultShipping, true);
    assert.equal(second.json.isDefaultBilling, false);
    let d = await defaults(u.token);
    assert.deepEqual(d.shipping, [second.json.id], 'setting a default clears the previous one');
    assert.deepEqual(d.billing, [first.json.id]);

    const third = await api('POST', '/users/me/addresses', { token: u.token, body: { ...ADDRESS, label: null, line1: 'Third 3' } });
    assert.equal(third.status, 201);
    assert.equal(third.json.isDefaultShipping, false);
    assert.equal(third.json.label, null);

    const patched = await api('PATCH', `/users/me/addresses/${third.json.id}`, {
      token: u.token, body: { isDefaultBilling: true, isDefaultShipping: true, city: 'Porto', region: null },
    });
    assert.equal(patched.status, 200, patched.text);
    assert.equal(patched.json.city, 'Porto');
    assert.equal(patched.json.line1, 'Third 3', 'absent fields stay');
    d = await defaults(u.token);
    assert.deepEqual(d.shipping, [third.json.id]);
    assert.deepEqual(d.billing, [third.json.id]);
    assert.equal(d.list.length, 3);

    const one = await api('GET', `/users/me/addresses/${first.json.id}`, { token: u.token });
    assert.equal(one.status, 200);
    assert.equal(one.json.isDefaultBilling, false);

    const del = await api('DELETE', `/users/me/addresses/${first.json.id}`, { token: u.token });
    assert.equal(del.status, 204);
    assert.equal(del.text, '');
    assertProblem(await api('GET', `/users/me/addresses/${first.json.id}`, { token: u.token }), 404);
    assertProblem(await api('DELETE', `/users/me/addresses/${first.json.id}`, { token: u.token }), 404);
    assert.equal((await defaults(u.token)).list.length, 2);
  });

  test('validation of addresses', async () => {
    const missing = await api('POST', '/users/me/addresses', { token: u.token, body: {} });
    assertInvalid(missing, 'fullName', 'line1', 'city', 'country');
    for (const country of ['pt', 'PRT', 'XX', 'P', '', 'ÉS']) {
      assertInvalid(await api('POST', '/users/me/addresses', { token: u.token, body: { ...ADDRESS, country } }), 'country');
    }
    assertInvalid(await api('POST', '/users/me/addresses', { token: u.token, body: { ...ADDRESS, postalCode: '12 -34' } }), 'postalCode');
    assertInvalid(await api('POST', '/users/me/addresses', { token: u.token, body: { ...ADDRESS, phone: 'call me' } }), 'phone');
    assertInvalid(await api('POST', '/users/me/addresses', { token: u.token, body: { ...ADDRESS, isDefaultBilling: 'yes' } }), 'isDefaultBilling');
    assertInvalid(await api('POST', '/users/me/addresses', { token: u.token, body: { ...ADDRESS, userId: randomUUID() } }), 'userId');
    assertInvalid(await api('POST', '/users/me/addresses', { token: u.token, body: { ...ADDRESS, line1: 'x'.repeat(201) } }), 'line1');
    const a = await api('POST', '/users/me/addresses', { token: u.token, body: ADDRESS });
    assert.equal(a.status, 201);
    assertInvalid(await api('PATCH', `/users/me/addresses/${a.json.id}`, { token: u.token, body: { city: null } }), 'city');
    assertInvalid(await api('PATCH', `/users/me/addresses/${a.json.id}`, { token: u.token, body: { colour: 'red' } }), 'colour');
    assertInvalid(await api('PATCH', `/users/me/addresses/${a.json.id}`, { token: u.token, body: { id: randomUUID() } }), 'id');
  });

  test("another user's address is invisible (404)", async () => {
    const other = await newUser({ tag: 'addr2' });
    const mine = await api('POST', '/users/me/addresses', { token: u.token, body: ADDRESS });
    const path = `/users/me/addresses/${mine.json.id}`;
    assertProblem(await api('GET', path, { token: other.token }), 404);
    assertProblem(await api('PATCH', path, { token: other.token, body: { city: 'Faro' } }), 404);
    assertProblem(await api('DELETE', path, { token: other.token }), 404);
    assert.equal((await api('GET', path, { token: u.token })).json.city, 'Lisboa');
    assertProblem(await api('GET', '/users/me/addresses/not-a-uuid', { token: u.token }), 404);
    assertProblem(await api('GET', `/users/me/addresses/${randomUUID()}`, { token: u.token }), 404);
  });

  test('at most 20 addresses, exact under concurrency, one default of each kind', async () => {
    const v = await newUser({ tag: 'limit' });
    const results = await Promise.all(
      Array.from({ length: 25 }, (_, i) => api('POST', '/users/me/addresses', {
        token: v.token, body: { ...ADDRESS, line1: `Street ${i}`, isDefaultShipping: i % 2 === 0, isDefaultBilling: i % 3 === 0 },
      })),
    );
    const statuses = results.map((r) => r.status).sort();
    assert.equal(statuses.filter((s) => s === 201).length, 20, statuses.join(','));
    for (const r of results.filter((x) => x.status !== 201)) assertProblem(r, 422);
    const d = await defaults(v.token);
    assert.equal(d.list.length, 20);
    assert.equal(d.shipping.length, 1);
    assert.equal(d.billing.length, 1);
    assertProblem(await api('POST', '/users/me/addresses', { token: v.token, body: ADDRESS }), 422);
    // freeing one slot makes room again
    await api('DELETE', `/users/me/addresses/${d.list[0].id}`, { token: v.token });
    assert.equal((await api('POST', '/users/me/addresses', { token: v.token, body: ADDRESS })).status, 201);
  });

  test('addresses of a user without a profile: 404', async () => {
    const token = mintToken({ sub: randomUUID() });
    assertProblem(await api('GET', '/users/me/addresses', { token }), 404);
    assertProblem(await api('POST', '/users/me/addresses', { token, body: ADDRESS }), 404);
  });
});

describe('users: preferences', () => {
  let u;
  before(async () => {
    u = await newUser({ tag: 'pref' });
  });

  test('defaults, then a full replacement', async () => {
    const res = await api('GET', '/users/me/preferences', { token: u.token });
    assert.equal(res.status, 200, res.text);
    assert.deepEqual(res.json, {
      language: 'en', currency: 'USD', notifications: { email: true, sms: false, push: false }, marketingOptIn: false, updatedAt: null,
    });
    const body = { language: 'pt-BR', currency: 'EUR', notifications: { email: false, sms: true, push: true }, marketingOptIn: true };
    const put = await api('PUT', '/users/me/preferences', { token: u.token, body });
    assert.equal(put.status, 200, put.text);
    const got = await api('GET', '/users/me/preferences', { token: u.token });
    const { updatedAt, ...rest } = got.json;
    assert.deepEqual(rest, body);
    assert.match(updatedAt, /Z$/);
    const again = await api('PUT', '/users/me/preferences', { token: u.token, body: { ...body, language: 'zh-Hant-TW' } });
    assert.equal(again.json.language, 'zh-Hant-TW');
    assert.equal((await api('PUT', '/users/me/preferences', { token: u.token, body: { ...body, language: 'es-419' } })).status, 200);
  });

  test('invalid preferences are 422 with the field named', async () => {
    const good = { language: 'en', currency: 'EUR', notifications: { email: true, sms: false, push: false }, marketingOptIn: false };
    const cases = [
      [{ ...good, language: 'english' }, 'language'],
      [{ ...good, language: 'en_US' }, 'language'],
      [{ ...good, language: 'e' }, 'language'],
      [{ ...good, currency: 'eur' }, 'currency'],
      [{ ...good, currency: 'EURO' }, 'currency'],
      [{ ...good, notifications: { email: true, sms: false } }, 'notifications.push'],
      [{ ...good, notifications: { email: 'yes', sms: false, push: false } }, 'notifications.email'],
      [{ ...good, notifications: { email: true, sms: false, push: false, fax: true } }, 'notifications.fax'],
      [{ ...good, notifications: true }, 'notifications'],
      [{ ...good, marketingOptIn: null }, 'marketingOptIn'],
      [{ ...good, theme: 'dark' }, 'theme'],
      [{ language: 'en' }, 'currency'],
    ];
    for (const [body, field] of cases) {
      assertInvalid(await api('PUT', '/users/me/preferences', { token: u.token, body }), field);
    }
  });
});

describe('users: deactivation', () => {
  let tap;
  before(async () => {
    tap = await tapQueue(['user.deactivated', 'user.activated']);
  });
  after(async () => tap?.remove());

  test('POST /users/me/deactivate marks the profile inactive and emits user.deactivated', async () => {
    const u = await newUser({ tag: 'deact' });
    const res = await api('POST', '/users/me/deactivate', { token: u.token });
    assert.equal(res.status, 200, res.text);
    assert.equal(res.json.active, false);
    assert.match(res.json.deactivatedAt, /Z$/);
    const got = await tap.waitFor((m) => m.event.data?.userId === u.id);
    assert.equal(got.key, 'user.deactivated');
    assert.deepEqual(got.event.data, { userId: u.id, by: 'self' });
    assert.equal(got.event.source, 'users');
    assert.equal(got.props.message_id, got.event.id);

    // Still readable; no more changes with the remaining token lifetime.
    assert.equal((await api('GET', '/users/me', { token: u.token })).json.active, false);
    assertProblem(await api('PATCH', '/users/me', { token: u.token, body: { firstName: 'Zed' } }), 403);
    assertProblem(await api('POST', '/users/me/addresses', { token: u.token, body: ADDRESS }), 403);
    assertProblem(await api('PUT', '/users/me/preferences', {
      token: u.token, body: { language: 'en', currency: 'EUR', notifications: { email: true, sms: false, push: false }, marketingOptIn: false },
    }), 403);

    // Repeating it changes nothing and emits nothing.
    assert.equal((await api('POST', '/users/me/deactivate', { token: u.token })).status, 200);
    await new Promise((r) => setTimeout(r, 1500));
    const all = (await tap.drain()).filter((m) => m.event.data?.userId === u.id);
    assert.equal(all.length, 1);
  });

  test('admins activate and deactivate with events naming them', async () => {
    const u = await newUser({ tag: 'adm-deact' });
    const adminId = randomUUID();
    const token = mintToken({ sub: adminId, role: 'ADMIN' });
    const off = await api('PATCH', `/users/${u.id}`, { token, body: { active: false } });
    assert.equal(off.status, 200, off.text);
    assert.equal(off.json.active, false);
    const ev1 = await tap.waitFor((m) => m.event.data?.userId === u.id && m.key === 'user.deactivated');
    assert.deepEqual(ev1.event.data, { userId: u.id, by: adminId });
    const on = await api('PATCH', `/users/${u.id.toUpperCase()}`, { token, body: { active: true } });
    assert.equal(on.status, 200, on.text);
    assert.equal(on.json.active, true);
    assert.equal(on.json.deactivatedAt, null);
    const ev2 = await tap.waitFor((m) => m.event.data?.userId === u.id && m.key === 'user.activated');
    assert.deepEqual(ev2.event.data, { userId: u.id, by: adminId });
  });

  test('status changes go down the hierarchy only', async () => {
    const boss = await newUser({ role: 'SUPERADMIN', tag: 'boss' });
    const adm = await newUser({ role: 'ADMIN', tag: 'adm' });
    const patch = (token, id, active) => api('PATCH', `/users/${id}`, { token, body: { active } });
    assertProblem(await patch(adm.token, boss.id, false), 403);
    assertProblem(await patch(adm.token, adm.id, false), 403);
    assertProblem(await patch(mintToken({ sub: randomUUID(), role: 'ADMIN' }), adm.id, false), 403);
    assertProblem(await patch(boss.token, boss.id, false), 403);
    assert.equal((await patch(boss.token, adm.id, false)).status, 200);
    assert.equal((await patch(boss.token, adm.id, true)).status, 200);
  });

  test('PATCH /users/:id validation', async () => {
    const u = await newUser({ tag: 'adm-val' });
    const token = admin();
    assertInvalid(await api('PATCH', `/users/${u.id}`, { token, body: {} }), 'active');
    assertInvalid(await api('PATCH', `/users/${u.id}`, { token, body: { active: 'false' } }), 'active');
    assertInvalid(await api('PATCH', `/users/${u.id}`, { token, body: { active: false, role: 'ADMIN' } }), 'role');
    assertProblem(await api('PATCH', `/users/${randomUUID()}`, { token, body: { active: false } }), 404);
    assert.equal((await api('GET', `/users/${u.id}`, { token })).json.active, true);
  });
});

describe('users: admin list', () => {
  const tag = `lst${RUN}`;
  let users;
  before(async () => {
    users = [];
    users.push(await newUser({ firstName: 'Alpha', lastName: `${tag}Pct%`, tag: 'l1' }));
    users.push(await newUser({ firstName: 'Bravo', lastName: `${tag}PctX`, tag: 'l2', role: 'SELLER' }));
    users.push(await newUser({ firstName: 'Charlie', lastName: `${tag}Und_`, tag: 'l3' }));
    users.push(await newUser({ firstName: 'Delta', lastName: `${tag}UndY`, tag: 'l4' }));
    users.push(await newUser({ firstName: 'Echo', lastName: `${tag}Back\\slash`, tag: 'l5' }));
    await api('PATCH', `/users/${users[3].id}`, { token: superadmin(), body: { active: false } });
  });

  const list = async (q) => {
    const res = await api('GET', `/users?${q}`, { token: admin() });
    assert.equal(res.status, 200, res.text);
    return res.json;
  };
  const s = (v) => `search=${encodeURIComponent(v)}`;

  test('search is case-insensitive over email and names', async () => {
    const all = await list(s(tag.toUpperCase()));
    assert.equal(all.total, 5);
    assert.equal(all.items.length, 5);
    assert.equal((await list(s(users[0].email.toUpperCase()))).total, 1);
    assert.equal((await list(s(`alpha ${tag}pct`))).items[0].id, users[0].id, '"first last"');
  });

  test('%, _ and \\ in a search match literally', async () => {
    const pct = await list(s(`${tag}Pct%`));
    assert.deepEqual(pct.items.map((x) => x.id), [users[0].id]);
    const und = await list(s(`${tag}Und_`));
    assert.deepEqual(und.items.map((x) => x.id), [users[2].id]);
    const bs = await list(s(`${tag}Back\\`));
    assert.deepEqual(bs.items.map((x) => x.id), [users[4].id]);
    assert.equal((await list(s('%'))).items.every((x) => `${x.email} ${x.firstName} ${x.lastName}`.includes('%')), true);
    assert.equal((await list(s(`${tag}%X`))).total, 0);
  });

  test('role and active filters', async () => {
    const sellers = await list(`${s(tag)}&role=SELLER`);
    assert.deepEqual(sellers.items.map((x) => x.id), [users[1].id]);
    const inactive = await list(`${s(tag)}&active=false`);
    assert.deepEqual(inactive.items.map((x) => x.id), [users[3].id]);
    assert.equal((await list(`${s(tag)}&active=true`)).total, 4);
    assert.equal((await list(`${s(tag)}&role=ADMIN`)).total, 0);
  });

  test('pagination: newest first, page and limit', async () => {
    const p1 = await list(`${s(tag)}&limit=2&page=1`);
    const p2 = await list(`${s(tag)}&limit=2&page=2`);
    const p3 = await list(`${s(tag)}&limit=2&page=3`);
    const p4 = await list(`${s(tag)}&limit=2&page=4`);
    assert.equal(p1.total, 5);
    assert.equal(p1.page, 1);
    assert.equal(p1.limit, 2);
    assert.deepEqual([p1.items.length, p2.items.length, p3.items.length, p4.items.length], [2, 2, 1, 0]);
    const ids = [...p1.items, ...p2.items, ...p3.items].map((x) => x.id);
    assert.deepEqual(ids, users.map((x) => x.id).reverse());
    assert.equal(p4.total, 5);
    const def = await list(s(tag));
    assert.equal(def.limit, 20);
    assert.equal((await list(`limit=100`)).limit, 100);
  });

  test('invalid filters are 422', async () => {
    for (const q of ['limit=101', 'limit=0', 'page=0', 'page=abc', 'role=ROOT', 'role=customer', 'active=yes']) {
      assertProblem(await api('GET', `/users?${q}`, { token: admin() }), 422);
    }
  });

  test('GET /users/:id', async () => {
    const res = await api('GET', `/users/${users[1].id}`, { token: admin() });
    assert.equal(res.status, 200);
    assert.equal(res.json.role, 'SELLER');
    assert.equal(res.json.email, users[1].email);
    assertProblem(await api('GET', `/users/${randomUUID()}`, { token: admin() }), 404);
    assertProblem(await api('GET', '/users/nobody', { token: admin() }), 404);
  });
});

describe('users: access control', () => {
  const byRole = {};
  let target;
  before(async () => {
    for (const role of ROLES) byRole[role] = await newUser({ role, tag: `rbac-${role.toLowerCase()}` });
    target = await newUser({ tag: 'rbac-target' });
  });

  // [method, name, path(), body, expected status per CUSTOMER, SELLER, ADMIN, SUPERADMIN]
  const ROUTES = [
    ['GET', '/users/me', () => '/users/me', undefined, [200, 200, 200, 200]],
    ['PATCH', '/users/me', () => '/users/me', { firstName: 'Rbac' }, [200, 200, 200, 200]],
    ['GET', '/users/me/addresses', () => '/users/me/addresses', undefined, [200, 200, 200, 200]],
    ['POST', '/users/me/addresses', () => '/users/me/addresses', ADDRESS, [201, 201, 201, 201]],
    ['GET', '/users/me/addresses/:id', () => `/users/me/addresses/${randomUUID()}`, undefined, [404, 404, 404, 404]],
    ['PATCH', '/users/me/addresses/:id', () => `/users/me/addresses/${randomUUID()}`, { city: 'Braga' }, [404, 404, 404, 404]],
    ['DELETE', '/users/me/addresses/:id', () => `/users/me/addresses/${randomUUID()}`, undefined, [404, 404, 404, 404]],
    ['GET', '/users/me/preferences', () => '/users/me/preferences', undefined, [200, 200, 200, 200]],
    ['PUT', '/users/me/preferences', () => '/users/me/preferences', { language: 'fr', currency: 'EUR', notifications: { email: true, sms: true, push: false }, marketingOptIn: false }, [200, 200, 200, 200]],
    ['GET', '/users', () => '/users', undefined, [403, 403, 200, 200]],
    ['GET', '/users/:id', () => `/users/${target.id}`, undefined, [403, 403, 200, 200]],
    ['PATCH', '/users/:id', () => `/users/${target.id}`, { active: true }, [403, 403, 200, 200]],
    // last: it deactivates each caller
    ['POST', '/users/me/deactivate', () => '/users/me/deactivate', undefined, [200, 200, 200, 200]],
  ];

  for (const [method, route, path, body, expected] of ROUTES) {
    const name = `${method} ${route}`;
    test(`${name}: 401 without a valid token`, async () => {
      const p = path();
      for (const token of [undefined, 'garbage', `${'x'.repeat(20)}.${'y'.repeat(20)}.z`]) {
        const res = await api(method, p, { token, body });
        assertProblem(res, 401);
        assert.match(res.headers.get('www-authenticate') || '', /^Bearer/);
      }
    });
    test(`${name}: by role ${expected.join('/')}`, async () => {
      for (const [i, role] of ROLES.entries()) {
        const res = await api(method, path(), { token: byRole[role].token, body });
        assert.equal(res.status, expected[i], `${role}: ${res.text}`);
        if (res.status >= 400) assertProblem(res, expected[i]);
      }
    });
  }

  test('tampered, forged, expired and foreign tokens are 401', async () => {
    const sub = byRole.ADMIN.id;
    const good = mintToken({ sub, role: 'CUSTOMER' });
    const [h, p, sig] = good.split('.');
    // payload changed to ADMIN, old signature kept
    const escalated = `${h}.${b64url(claimsFor({ sub, role: 'ADMIN' }))}.${sig}`;
    const flipped = `${h}.${p}.${sig.slice(0, -2)}${sig.at(-2) === 'A' ? 'B' : 'A'}${sig.at(-1)}`;
    const none = `${b64url({ alg: 'none', typ: 'JWT' })}.${b64url(claimsFor({ sub, role: 'ADMIN' }))}.`;
    const otherKey = sign({ alg: 'HS256', typ: 'JWT' }, claimsFor({ sub, role: 'ADMIN' }), 'not-the-secret-not-the-secret-0123456789');
    const expired = sign({ alg: 'HS256', typ: 'JWT' }, claimsFor({ sub, role: 'ADMIN', iat: 1000, exp: 2000 }));
    const wrongAud = sign({ alg: 'HS256', typ: 'JWT' }, claimsFor({ sub, role: 'ADMIN', aud: 'someone-else' }));
    const wrongIss = sign({ alg: 'HS256', typ: 'JWT' }, claimsFor({ sub, role: 'ADMIN', iss: 'evil' }));
    const badSub = sign({ alg: 'HS256', typ: 'JWT' }, claimsFor({ sub: "1' OR '1'='1", role: 'ADMIN' }));
    for (const token of [escalated, flipped, none, otherKey, expired, wrongAud, wrongIss]) {
      assertProblem(await api('GET', '/users', { token }), 401);
      assertProblem(await api('GET', '/users/me', { token }), 401);
    }
    assertProblem(await api('GET', '/users/me', { token: badSub }), 401);
  });

  test('permissions, not roles, decide: users:read without users:write', async () => {
    const reader = mintToken({ sub: randomUUID(), role: 'ADMIN', permissions: ['users:read'] });
    assert.equal((await api('GET', '/users', { token: reader })).status, 200);
    assertProblem(await api('PATCH', `/users/${target.id}`, { token: reader, body: { active: true } }), 403);
    const roleOnly = mintToken({ sub: randomUUID(), role: 'SUPERADMIN', permissions: [] });
    assertProblem(await api('GET', '/users', { token: roleOnly }), 403);
  });
});
