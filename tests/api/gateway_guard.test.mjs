// The gateway guards the door: bearer tokens on protected routes, rate
// limits in Redis, security headers, CORS. Services check tokens themselves
// too (auth.test.mjs, users.test.mjs); here we make sure the gateway answers
// first, so that a rejected request never reaches an upstream.
//
// The rate-limit tests start their own gateway (tiny limits, own Redis key
// prefix) beside the platform's, whose limits are generous so the rest of
// the suite never meets a 429. The Redis-down test runs last.
import { test, describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import {
  SERVICES, GATEWAY, env, http, assertProblem, logLines, eventually, newRequestId,
  signJwt, tokenClaims, testToken, b64url,
} from './lib.mjs';

const PASSWORD = 'Correct-horse-42';
const RUN = randomUUID().slice(0, 8);
let seq = 0;
const newEmail = () => `guard.${RUN}.${++seq}@example.test`;

function call(base, method, path, { token, body, headers = {} } = {}) {
  const h = { ...headers };
  if (token) h.Authorization = `Bearer ${token}`;
  if (body !== undefined) h['Content-Type'] = 'application/json';
  return http(`${base}${path}`, { method, headers: h, body: body === undefined ? undefined : JSON.stringify(body) });
}

// The gateway's counter value for a series of gateway_* metrics.
async function counter(base, name, label = '') {
  const res = await http(`${base}/metrics`);
  const line = res.text.split('\n').find((l) => l.startsWith(`${name}{`) && l.includes(label));
  return line ? Number(line.split(' ').at(-1)) : 0;
}

// A request that the gateway rejects must not show up in the service's log.
async function assertNotForwarded(service, rid) {
  await new Promise((r) => setTimeout(r, 300));
  assert.equal(logLines(service, rid).length, 0, `${service} saw request ${rid}`);
}

async function registerAndLogin(base = GATEWAY) {
  const email = newEmail();
  const reg = await call(base, 'POST', '/auth/register', { body: { email, password: PASSWORD, firstName: 'Gia', lastName: 'Guard' } });
  assert.equal(reg.status, 201, reg.text);
  const login = await call(base, 'POST', '/auth/login', { body: { email, password: PASSWORD } });
  assert.equal(login.status, 200, login.text);
  return { email, id: reg.json.id, ...login.json };
}

describe('gateway: bearer tokens on protected routes', () => {
  const PROTECTED = [
    ['GET', '/auth/me'], ['GET', '/users/me'], ['GET', '/orders/probe'], ['GET', '/cart/probe'],
    ['POST', '/payments/probe'], ['GET', '/inventory/probe'], ['POST', '/products'], ['DELETE', '/categories/x'],
    ['POST', '/auth/verify-email/resend'], ['GET', '/notifications/probe'],
  ];

  test('no token: 401 problem+json with WWW-Authenticate, not forwarded', async () => {
    const before = await counter(GATEWAY, 'gateway_auth_rejected_total', 'reason="missing"');
    for (const [method, path] of PROTECTED) {
      const rid = newRequestId();
      const res = await call(GATEWAY, method, path, { headers: { 'X-Request-Id': rid } });
      assertProblem(res, 401);
      assert.match(res.headers.get('www-authenticate') || '', /^Bearer/, `${method} ${path}`);
      assert.equal(res.headers.get('x-request-id'), rid);
    }
    const rid = newRequestId();
    await call(GATEWAY, 'GET', '/orders/probe', { headers: { 'X-Request-Id': rid, Authorization: 'Basic Zm9vOmJhcg==' } });
    await assertNotForwarded('orders', rid);
    const after = await counter(GATEWAY, 'gateway_auth_rejected_total', 'reason="missing"');
    assert.ok(after >= before + PROTECTED.length + 1, `counted ${before} -> ${after}`);
  });

  test('expired, tampered, alg none, wrong issuer/audience/key, malformed: 401', async () => {
    const good = testToken();
    const [h, p, sig] = good.split('.');
    const bad = {
      expired: signJwt(tokenClaims({ iat: 1000, exp: 2000 })),
      escalated: `${h}.${b64url(tokenClaims({ role: 'SUPERADMIN' }))}.${sig}`,
      flipped: `${h}.${p}.${sig.slice(0, -2)}${sig.at(-2) === 'A' ? 'B' : 'A'}${sig.at(-1)}`,
      algNone: `${b64url({ alg: 'none', typ: 'JWT' })}.${b64url(tokenClaims())}.`,
      hs512: signJwt(tokenClaims(), { header: { alg: 'HS512', typ: 'JWT' } }),
      otherKey: signJwt(tokenClaims(), { secret: 'not-the-secret-not-the-secret-0123456789' }),
      wrongIss: signJwt(tokenClaims({ iss: 'evil' })),
      wrongAud: signJwt(tokenClaims({ aud: 'someone-else' })),
      noExp: signJwt(tokenClaims({ exp: undefined })),
      garbage: 'garbage',
      dots: `${'x'.repeat(20)}.${'y'.repeat(20)}.z`,
      empty: '',
    };
    const before = await counter(GATEWAY, 'gateway_auth_rejected_total', 'reason="invalid"');
    for (const [name, token] of Object.entries(bad)) {
      const rid = newRequestId();
      const headers = { 'X-Request-Id': rid, Authorization: `Bearer ${token}` };
      const res = await call(GATEWAY, 'GET', '/orders/probe', { headers });
      assertProblem(res, 401);
      assert.match(res.headers.get('www-authenticate') || '', /^Bearer/, name);
      if (name === 'expired') await assertNotForwarded('orders', rid);
    }
    const after = await counter(GATEWAY, 'gateway_auth_rejected_total', 'reason="invalid"');
    assert.ok(after >= before + Object.keys(bad).length - 1, `counted ${before} -> ${after}`);
  });

  test('a valid token passes through (GET /auth/me, GET /users/me) and is logged', async () => {
    const s = await registerAndLogin();
    const rid = newRequestId();
    const me = await call(GATEWAY, 'GET', '/auth/me', { token: s.accessToken, headers: { 'X-Request-Id': rid } });
    assert.equal(me.status, 200, me.text);
    assert.equal(me.json.email, s.email);
    const line = await eventually(() => logLines('gateway', rid).find((l) => l.requestId === rid && l.status));
    assert.equal(line.userId, s.id);
    // the users service makes the profile from the user.registered event
    await eventually(async () => (await call(GATEWAY, 'GET', '/users/me', { token: s.accessToken })).status === 200);
    // a valid signature is the gateway's part; the orders service answers for itself
    const probe = await call(GATEWAY, 'GET', '/orders/probe', { token: testToken() });
    assert.notEqual(probe.status, 401, probe.text);
  });

  test('public routes need no token', async () => {
    const PUBLIC = [
      ['POST', '/auth/refresh', 'auth', { refreshToken: 'x'.repeat(43) }],
      ['POST', '/auth/logout', 'auth', { refreshToken: 'x'.repeat(43) }],
      ['POST', '/auth/password/forgot', 'auth', { email: newEmail() }],
      ['POST', '/auth/password/reset', 'auth', { token: 'x'.repeat(43), password: PASSWORD }],
      ['POST', '/auth/verify-email', 'auth', { token: 'x'.repeat(43) }],
      ['POST', '/auth/login', 'auth', { email: newEmail(), password: PASSWORD }],
      ['POST', '/auth/register', 'auth', { email: 'not-an-email' }],
      ['GET', '/products/probe', 'catalog'],
      ['HEAD', '/products', 'catalog'],
      ['GET', '/categories/probe', 'catalog'],
      ['GET', '/socket.io/?EIO=4&transport=polling', 'realtime'],
    ];
    for (const [method, path, service, body] of PUBLIC) {
      const rid = newRequestId();
      // an expired token on a public route is ignored, not rejected
      const token = path === '/products/probe' ? signJwt(tokenClaims({ iat: 1000, exp: 2000 })) : undefined;
      await call(GATEWAY, method, path, { body, token, headers: { 'X-Request-Id': rid } });
      await eventually(() => logLines(service, rid).some((l) => l.requestId === rid), { timeoutMs: 5000 });
    }
    for (const path of ['/health', '/ready', '/metrics', '/docs', '/docs/openapi.json', '/services/auth/health']) {
      assert.equal((await http(`${GATEWAY}${path}`)).status, 200, path);
    }
  });
});
