// RBAC matrix (issue 3): every protected route of the auth and users
// services x {anonymous, CUSTOMER, SELLER, ADMIN, SUPERADMIN}, through the
// gateway. The table below is the specification: one row per route (and per
// case where the role rules depend on the target), one expected status per
// caller. Each cell is its own test named "<METHOD> <route> [(case)] as
// <caller> -> <status>".
//
// Every request is valid apart from authorisation (real ids, valid bodies),
// so a status reflects the permission check and nothing else. Cells that
// change something (end sessions, change a password or a role, deactivate)
// act on throwaway accounts made for that cell, so no cell depends on
// another. The public routes (register, login, refresh, logout, password
// forgot/reset, verify-email, health/ready/metrics/docs) are not in it.
//
// An anonymous call is 401 whether the gateway or the service refuses it.
import { test, describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { GATEWAY, ROOT, env, http, eventually } from './lib.mjs';

// prettier-ignore
const MATRIX = [
  // method   route                            case                          anon CUST SELL ADMN SUPR
  ['POST',   '/auth/logout-all',               '',                            401, 204, 204, 204, 204],
  ['GET',    '/auth/me',                       '',                            401, 200, 200, 200, 200],
  ['GET',    '/auth/sessions',                 '',                            401, 200, 200, 200, 200],
  ['DELETE', '/auth/sessions/:id',             'own other session',           401, 204, 204, 204, 204],
  ['DELETE', '/auth/sessions/:id',             "another user's session",      401, 404, 404, 404, 404],
  ['POST',   '/auth/verify-email/resend',      '',                            401, 202, 202, 202, 202],
  ['POST',   '/auth/password/change',          '',                            401, 204, 204, 204, 204],
  ['GET',    '/auth/admin/users',              '',                            401, 403, 403, 200, 200],
  ['POST',   '/auth/admin/users',              'new CUSTOMER',                401, 403, 403, 201, 201],
  ['POST',   '/auth/admin/users',              'new ADMIN',                   401, 403, 403, 403, 201],
  ['PATCH',  '/auth/admin/users/:id/role',     'CUSTOMER -> SELLER',          401, 403, 403, 200, 200],
  ['PATCH',  '/auth/admin/users/:id/role',     'CUSTOMER -> ADMIN',           401, 403, 403, 403, 200],
  ['PATCH',  '/auth/admin/users/:id/role',     'ADMIN -> CUSTOMER',           401, 403, 403, 403, 200],
  ['PATCH',  '/auth/admin/users/:id/role',     'SUPERADMIN -> ADMIN',         401, 403, 403, 403, 200],
  ['GET',    '/auth/roles',                    '',                            401, 403, 403, 200, 200],
  ['GET',    '/users/me',                      '',                            401, 200, 200, 200, 200],
  ['PATCH',  '/users/me',                      '',                            401, 200, 200, 200, 200],
  ['POST',   '/users/me/deactivate',           '',                            401, 200, 200, 200, 200],
  ['GET',    '/users/me/addresses',            '',                            401, 200, 200, 200, 200],
  ['POST',   '/users/me/addresses',            '',                            401, 201, 201, 201, 201],
  ['GET',    '/users/me/addresses/:id',        'own',                         401, 200, 200, 200, 200],
  ['GET',    '/users/me/addresses/:id',        "another user's",              401, 404, 404, 404, 404],
  ['PATCH',  '/users/me/addresses/:id',        'own',                         401, 200, 200, 200, 200],
  ['PATCH',  '/users/me/addresses/:id',        "another user's",              401, 404, 404, 404, 404],
  ['DELETE', '/users/me/addresses/:id',        'own',                         401, 204, 204, 204, 204],
  ['DELETE', '/users/me/addresses/:id',        "another user's",              401, 404, 404, 404, 404],
  ['GET',    '/users/me/preferences',          '',                            401, 200, 200, 200, 200],
  ['PUT',    '/users/me/preferences',          '',                            401, 200, 200, 200, 200],
  ['GET',    '/users',                         '',                            401, 403, 403, 200, 200],
  ['GET',    '/users/:id',                     '',                            401, 403, 403, 200, 200],
  ['PATCH',  '/users/:id',                     'deactivate a CUSTOMER',       401, 403, 403, 200, 200],
  ['PATCH',  '/users/:id',                     'deactivate an ADMIN',         401, 403, 403, 403, 200],
];
const CALLERS = ['anon', 'CUSTOMER', 'SELLER', 'ADMIN', 'SUPERADMIN'];

// ---- HTTP through the gateway -------------------------------------------------

const RUN = randomBytes(4).toString('hex');
const PASSWORD = 'Matrix-pass-42';
let seq = 0;
const newEmail = (tag) => `rbac.${tag}.${RUN}.${++seq}@example.test`;

function api(method, path, { token, body } = {}) {
  const headers = {};
  if (token) headers.Authorization = `Bearer ${token}`;
  if (body !== undefined) headers['Content-Type'] = 'application/json';
  const payload = body === undefined ? undefined : JSON.stringify(body);
  return http(`${GATEWAY}${path}`, { method, headers, body: payload });
}

// The JSON of a setup request that must answer 'status'.
async function expect(status, what, promise) {
  const res = await promise;
  assert.equal(res.status, status, `setup: ${what}: ${res.text}`);
  return res.json;
}

// ---- accounts -------------------------------------------------------------------

const ctx = { sa: null, main: {}, owner: null, ownerAddress: null, promoted: [] };

const login = (email, password = PASSWORD) =>
  expect(200, `login ${email}`, api('POST', '/auth/login', { body: { email, password } }));

const setRole = (id, role) =>
  expect(200, `role ${role}`, api('PATCH', `/auth/admin/users/${id}/role`, { token: ctx.sa.accessToken, body: { role } }));

// A new account with 'role': registered as a CUSTOMER, then given the role
// by the SUPERADMIN (the admin role-change endpoint), then signed in (the
// role change ends the account's sessions). { id, email, role, token, session }.
async function account(role, tag = role.toLowerCase()) {
  const email = newEmail(tag);
  const body = { email, password: PASSWORD, firstName: 'Matrix', lastName: `${tag}-${RUN}` };
  const created = await expect(201, `register ${email}`, api('POST', '/auth/register', { body }));
  if (role !== 'CUSTOMER') await setRole(created.id, role);
  if (role === 'SUPERADMIN') ctx.promoted.push(created.id);
  const session = await login(email);
  return { id: created.id, email, role, token: session.accessToken, session };
}

// Wait until the users service holds the profile of 'id' (made from the
// user.registered event) with 'role' (kept current by user.role_changed).
async function profileReady(id, role) {
  await eventually(async () => {
    const r = await api('GET', `/users/${id}`, { token: ctx.sa.accessToken });
    return r.status === 200 && (!role || r.json.role === role);
  });
}

// A throwaway caller for a cell that changes the caller itself; nobody for
// the anonymous column.
async function freshCaller(who, { profile = false } = {}) {
  if (who === 'anon') return { token: undefined };
  const a = await account(who, `fresh-${who.toLowerCase()}`);
  if (profile) await profileReady(a.id);
  return a;
}

const token = (who) => (who === 'anon' ? undefined : ctx.main[who].token);

// ---- request builders: one per row, (caller) -> { path, body, token, cleanup } ----

const ADDRESS = { fullName: 'Matrix Tester', line1: 'Rua Augusta 1', city: 'Lisboa', postalCode: '1100-048', country: 'PT' };

// An address of the caller's own (made for the cell, removed after it); the
// owner fixture's for the anonymous column, which must not reach it anyway.
async function ownAddress(who) {
  if (who === 'anon') return { id: ctx.ownerAddress, cleanup: async () => {} };
  const t = token(who);
  const a = await expect(201, 'create address', api('POST', '/users/me/addresses', { token: t, body: ADDRESS }));
  return { id: a.id, cleanup: () => api('DELETE', `/users/me/addresses/${a.id}`, { token: t }) };
}

// A role-change target of 'role', made for the cell.
async function roleTarget(role) {
  const t = await account(role, `target-${role.toLowerCase()}`);
  return t.id;
}

const BUILD = {
  'POST /auth/logout-all': async (who) => ({ path: '/auth/logout-all', token: (await freshCaller(who)).token }),
  'GET /auth/me': async (who) => ({ path: '/auth/me', token: token(who) }),
  'GET /auth/sessions': async (who) => ({ path: '/auth/sessions', token: token(who) }),
  'DELETE /auth/sessions/:id (own other session)': async (who) => {
    // A second sign-in of the caller (of the CUSTOMER for the anonymous
    // column), so the session of the token in use stays live.
    const u = ctx.main[who === 'anon' ? 'CUSTOMER' : who];
    const other = await login(u.email, u.password);
    return { path: `/auth/sessions/${other.sessionId}`, token: token(who) };
  },
  "DELETE /auth/sessions/:id (another user's session)": async (who) => ({
    path: `/auth/sessions/${ctx.owner.session.sessionId}`,
    token: token(who),
  }),
  'POST /auth/verify-email/resend': async (who) => ({ path: '/auth/verify-email/resend', token: (await freshCaller(who)).token }),
  'POST /auth/password/change': async (who) => ({
    path: '/auth/password/change',
    token: (await freshCaller(who)).token,
    body: { currentPassword: PASSWORD, newPassword: 'Matrix-changed-43' },
  }),
  'GET /auth/admin/users': async (who) => ({ path: '/auth/admin/users?limit=5', token: token(who) }),
  'POST /auth/admin/users (new CUSTOMER)': async (who) => ({
    path: '/auth/admin/users',
    token: token(who),
    body: { email: newEmail('made'), password: PASSWORD, firstName: 'Made', lastName: 'Customer', role: 'CUSTOMER' },
  }),
  'POST /auth/admin/users (new ADMIN)': async (who) => ({
    path: '/auth/admin/users',
    token: token(who),
    body: { email: newEmail('made'), password: PASSWORD, firstName: 'Made', lastName: 'Admin', role: 'ADMIN' },
  }),
  'PATCH /auth/admin/users/:id/role (CUSTOMER -> SELLER)': async (who) => ({
    path: `/auth/admin/users/${await roleTarget('CUSTOMER')}/role`,
    token: token(who),
    body: { role: 'SELLER' },
  }),
  'PATCH /auth/admin/users/:id/role (CUSTOMER -> ADMIN)': async (who) => ({
    path: `/auth/admin/users/${await roleTarget('CUSTOMER')}/role`,
    token: token(who),
    body: { role: 'ADMIN' },
  }),
  'PATCH /auth/admin/users/:id/role (ADMIN -> CUSTOMER)': async (who) => ({
    path: `/auth/admin/users/${await roleTarget('ADMIN')}/role`,
    token: token(who),
    body: { role: 'CUSTOMER' },
  }),
  'PATCH /auth/admin/users/:id/role (SUPERADMIN -> ADMIN)': async (who) => ({
    path: `/auth/admin/users/${await roleTarget('SUPERADMIN')}/role`,
    token: token(who),
    body: { role: 'ADMIN' },
  }),
  'GET /auth/roles': async (who) => ({ path: '/auth/roles', token: token(who) }),
  'GET /users/me': async (who) => ({ path: '/users/me', token: token(who) }),
  'PATCH /users/me': async (who) => {
    // The caller's own first name again: a valid change that alters nothing.
    let firstName = 'Matrix';
    if (who !== 'anon') firstName = (await expect(200, 'read profile', api('GET', '/users/me', { token: token(who) }))).firstName;
    return { path: '/users/me', token: token(who), body: { firstName } };
  },
  'POST /users/me/deactivate': async (who) => ({
    path: '/users/me/deactivate',
    token: (await freshCaller(who, { profile: true })).token,
  }),
  'GET /users/me/addresses': async (who) => ({ path: '/users/me/addresses', token: token(who) }),
  'POST /users/me/addresses': async (who) => ({
    path: '/users/me/addresses',
    token: token(who),
    body: ADDRESS,
    cleanup: async (res) => {
      if (res.status === 201) await api('DELETE', `/users/me/addresses/${res.json.id}`, { token: token(who) });
    },
  }),
  'GET /users/me/addresses/:id (own)': async (who) => {
    const a = await ownAddress(who);
    return { path: `/users/me/addresses/${a.id}`, token: token(who), cleanup: a.cleanup };
  },
  "GET /users/me/addresses/:id (another user's)": async (who) => ({
    path: `/users/me/addresses/${ctx.ownerAddress}`,
    token: token(who),
  }),
  'PATCH /users/me/addresses/:id (own)': async (who) => {
    const a = await ownAddress(who);
    return { path: `/users/me/addresses/${a.id}`, token: token(who), body: { city: 'Braga' }, cleanup: a.cleanup };
  },
  "PATCH /users/me/addresses/:id (another user's)": async (who) => ({
    path: `/users/me/addresses/${ctx.ownerAddress}`,
    token: token(who),
    body: { city: 'Braga' },
  }),
  'DELETE /users/me/addresses/:id (own)': async (who) => {
    const a = await ownAddress(who);
    return { path: `/users/me/addresses/${a.id}`, token: token(who), cleanup: a.cleanup };
  },
  "DELETE /users/me/addresses/:id (another user's)": async (who) => ({
    path: `/users/me/addresses/${ctx.ownerAddress}`,
    token: token(who),
  }),
  'GET /users/me/preferences': async (who) => ({ path: '/users/me/preferences', token: token(who) }),
  'PUT /users/me/preferences': async (who) => {
    // The caller's current preferences again (valid, changes nothing).
    let body = { language: 'en', currency: 'USD', notifications: { email: true, sms: false, push: false }, marketingOptIn: false };
    if (who !== 'anon') {
      const { updatedAt, ...current } = await expect(200, 'read preferences', api('GET', '/users/me/preferences', { token: token(who) }));
      body = current;
    }
    return { path: '/users/me/preferences', token: token(who), body };
  },
  'GET /users': async (who) => ({ path: '/users?limit=5', token: token(who) }),
  'GET /users/:id': async (who) => ({ path: `/users/${ctx.owner.id}`, token: token(who) }),
  'PATCH /users/:id (deactivate a CUSTOMER)': async (who) => {
    const target = await account('CUSTOMER', 'status-customer');
    await profileReady(target.id, 'CUSTOMER');
    return { path: `/users/${target.id}`, token: token(who), body: { active: false } };
  },
  'PATCH /users/:id (deactivate an ADMIN)': async (who) => {
    const target = await account('ADMIN', 'status-admin');
    await profileReady(target.id, 'ADMIN'); // the users service judges by the profile's role
    return { path: `/users/${target.id}`, token: token(who), body: { active: false } };
  },
};

// ---- the matrix -------------------------------------------------------------------

describe('RBAC matrix through the gateway', () => {
  before(async () => {
    ctx.sa = await login(env.SUPERADMIN_EMAIL, env.SUPERADMIN_PASSWORD);
    const [customer, seller, admin, owner] = await Promise.all([
      account('CUSTOMER', 'customer'),
      account('SELLER', 'seller'),
      account('ADMIN', 'admin'),
      account('CUSTOMER', 'owner'),
    ]);
    const sa = { id: ctx.sa.user.id, email: env.SUPERADMIN_EMAIL, password: env.SUPERADMIN_PASSWORD, token: ctx.sa.accessToken };
    ctx.main = { CUSTOMER: customer, SELLER: seller, ADMIN: admin, SUPERADMIN: sa };
    for (const u of [customer, seller, admin]) u.password = PASSWORD;
    ctx.owner = owner;
    await Promise.all([customer, seller, admin, owner, sa].map((u) => profileReady(u.id)));
    const address = await expect(201, 'owner address', api('POST', '/users/me/addresses', { token: owner.token, body: ADDRESS }));
    ctx.ownerAddress = address.id;
  });

  // Throwaway SUPERADMINs would make "the last SUPERADMIN" checks elsewhere
  // meaningless: they go back to CUSTOMER.
  after(async () => {
    for (const id of ctx.promoted) {
      await api('PATCH', `/auth/admin/users/${id}/role`, { token: ctx.sa.accessToken, body: { role: 'CUSTOMER' } });
    }
  });

  for (const [method, route, kase, ...statuses] of MATRIX) {
    const key = `${method} ${route}${kase ? ` (${kase})` : ''}`;
    const build = BUILD[key];
    assert.ok(build, `a request builder for ${key}`);
    for (const [i, who] of CALLERS.entries()) {
      const want = statuses[i];
      test(`${key} as ${who === 'anon' ? 'anonymous' : who} -> ${want}`, async () => {
        const req = await build(who);
        const res = await api(method, req.path, { token: req.token, body: req.body });
        try {
          assert.equal(res.status, want, `${key} as ${who}: ${res.text}`);
          if (want >= 400) {
            assert.match(res.headers.get('content-type') || '', /^application\/problem\+json/, res.text);
            assert.equal(res.json?.status, want);
          }
        } finally {
          await req.cleanup?.(res);
        }
      });
    }
  }
});

// The table must name every protected route of both services' OpenAPI
// documents, so a new route cannot be added without a row.
describe('RBAC matrix coverage', () => {
  const PUBLIC = new Set([
    'POST /auth/register', 'POST /auth/login', 'POST /auth/refresh', 'POST /auth/logout',
    'POST /auth/password/forgot', 'POST /auth/password/reset', 'POST /auth/verify-email',
  ]);
  const STANDARD = new Set(['/health', '/ready', '/metrics', '/docs', '/docs/openapi.json']);

  test('every protected route of auth and users has a row', () => {
    const inMatrix = new Set(MATRIX.map(([m, r]) => `${m} ${r.replace(/:(\w+)/g, '{$1}')}`));
    for (const service of ['auth', 'users']) {
      const doc = JSON.parse(readFileSync(path.join(ROOT, 'services', service, 'openapi.json'), 'utf8'));
      for (const [route, ops] of Object.entries(doc.paths)) {
        if (STANDARD.has(route)) continue;
        for (const method of Object.keys(ops).filter((k) => /^(get|post|put|patch|delete)$/.test(k))) {
          const key = `${method.toUpperCase()} ${route}`;
          if (!PUBLIC.has(key)) assert.ok(inMatrix.has(key), `${key} (${service}) has a row in MATRIX`);
        }
      }
    }
  });
});
