// Ending a session ends its access tokens everywhere, not only in the auth
// service: logout, revoking one session, refresh-token reuse and a role
// change all void the access tokens already handed out for that session, in
// every service (core http_authenticate asks Redis), within the token's
// lifetime. Everything goes through the gateway; the users service stands
// for "every other service".
import { test, describe, before } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { GATEWAY, env, http, assertProblem, eventually } from './lib.mjs';

const RUN = randomBytes(4).toString('hex');
const PASSWORD = 'Session-end-42';
let seq = 0;
const newEmail = () => `ended.${RUN}.${++seq}@example.test`;

function api(method, path, { token, body } = {}) {
  const headers = {};
  if (token) headers.Authorization = `Bearer ${token}`;
  if (body !== undefined) headers['Content-Type'] = 'application/json';
  return http(`${GATEWAY}${path}`, { method, headers, body: body === undefined ? undefined : JSON.stringify(body) });
}

async function ok(status, what, promise) {
  const res = await promise;
  assert.equal(res.status, status, `${what}: ${res.text}`);
  return res.json;
}

const login = (email) => ok(200, `login ${email}`, api('POST', '/auth/login', { body: { email, password: PASSWORD } }));
const claims = (jwt) => JSON.parse(Buffer.from(jwt.split('.')[1], 'base64url').toString('utf8'));

// A registered account whose users-service profile exists (it is made from
// the user.registered event).
async function account() {
  const email = newEmail();
  const created = await ok(201, 'register', api('POST', '/auth/register', {
    body: { email, password: PASSWORD, firstName: 'Ended', lastName: RUN },
  }));
  const session = await login(email);
  await eventually(async () => (await api('GET', '/users/me', { token: session.accessToken })).status === 200);
  return { id: created.id, email, session };
}

function assertEnded(res, what) {
  assertProblem(res, 401);
  assert.match(res.json.detail, /session/, what);
}

describe('ending a session ends its access tokens in every service', () => {
  let sa;
  before(async () => {
    sa = await ok(200, 'superadmin login', api('POST', '/auth/login', {
      body: { email: env.SUPERADMIN_EMAIL, password: env.SUPERADMIN_PASSWORD },
    }));
  });

  test('logout: the access token stops working at users and auth', async () => {
    const a = await account();
    await ok(204, 'logout', api('POST', '/auth/logout', { token: a.session.accessToken, body: { refreshToken: a.session.refreshToken } }));
    assertEnded(await api('GET', '/users/me', { token: a.session.accessToken }), 'users after logout');
    assertProblem(await api('GET', '/auth/me', { token: a.session.accessToken }), 401);
  });

  test('revoking one session ends only that one', async () => {
    const a = await account();
    const other = await login(a.email);
    const sid = claims(other.accessToken).sid;
    assert.ok(sid, 'access tokens carry their session id');
    await ok(204, 'delete session', api('DELETE', `/auth/sessions/${sid}`, { token: a.session.accessToken }));
    assertEnded(await api('GET', '/users/me', { token: other.accessToken }), 'revoked session');
    await ok(200, 'the first session lives on', api('GET', '/users/me', { token: a.session.accessToken }));
  });

  test('refresh-token reuse ends the access tokens of the family', async () => {
    const a = await account();
    const next = await ok(200, 'refresh', api('POST', '/auth/refresh', { body: { refreshToken: a.session.refreshToken } }));
    await ok(200, 'new access token works', api('GET', '/users/me', { token: next.accessToken }));
    assertProblem(await api('POST', '/auth/refresh', { body: { refreshToken: a.session.refreshToken } }), 401);
    assertEnded(await api('GET', '/users/me', { token: next.accessToken }), 'after reuse');
  });

  test('a demoted ADMIN loses admin access at once, not when the token expires', async () => {
    const a = await account();
    await ok(200, 'promote', api('PATCH', `/auth/admin/users/${a.id}/role`, { token: sa.accessToken, body: { role: 'ADMIN' } }));
    const admin = await login(a.email);
    await ok(200, 'admin lists users', api('GET', '/users?limit=1', { token: admin.accessToken }));
    await ok(200, 'demote', api('PATCH', `/auth/admin/users/${a.id}/role`, { token: sa.accessToken, body: { role: 'CUSTOMER' } }));
    assertEnded(await api('GET', '/users?limit=1', { token: admin.accessToken }), 'old ADMIN token');
    const again = await login(a.email);
    assertProblem(await api('GET', '/users?limit=1', { token: again.accessToken }), 403);
  });
});
