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
import { spawn } from 'node:child_process';
import { createServer } from 'node:net';
import { openSync, closeSync, readFileSync } from 'node:fs';
import path from 'node:path';
import {
  ROOT, SERVICES, GATEWAY, env, http, assertProblem, logLines, eventually, newRequestId, infra,
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

describe('gateway: request head limits', () => {
  const maxUrl = Number(env.GATEWAY_MAX_URL_BYTES || 8192);
  const maxHeaders = Number(env.GATEWAY_MAX_HEADER_BYTES || 16384);

  test('a request target past GATEWAY_MAX_URL_BYTES is 414 problem+json, with a request id', async () => {
    const rid = newRequestId();
    const res = await http(`${GATEWAY}/products?q=${'x'.repeat(maxUrl)}`, { headers: { 'X-Request-Id': rid } });
    assertProblem(res, 414);
    assert.equal(res.headers.get('x-request-id'), rid);
    // just under the limit the request goes on (to the catalog, which may 404)
    const ok = await http(`${GATEWAY}/products?q=${'x'.repeat(maxUrl - 20)}`);
    assert.notEqual(ok.status, 414);
    assert.ok(ok.status < 500, `${ok.status}`);
  });

  test('request headers past GATEWAY_MAX_HEADER_BYTES are 431 problem+json', async () => {
    const res = await http(`${GATEWAY}/products`, { headers: { 'X-Padding': 'p'.repeat(maxHeaders) } });
    assertProblem(res, 431);
    const ok = await http(`${GATEWAY}/products`, { headers: { 'X-Padding': 'p'.repeat(maxHeaders / 2) } });
    assert.notEqual(ok.status, 431);
    assert.ok(ok.status < 500, `${ok.status}`);
  });
});

describe('gateway: security headers', () => {
  const HELMET = {
    'x-content-type-options': 'nosniff',
    'x-frame-options': 'SAMEORIGIN',
    'referrer-policy': 'no-referrer',
    'cross-origin-opener-policy': 'same-origin',
    'cross-origin-resource-policy': 'same-origin',
    'x-dns-prefetch-control': 'off',
    'x-download-options': 'noopen',
    'x-permitted-cross-domain-policies': 'none',
    'origin-agent-cluster': '?1',
  };

  function assertSecure(res, what) {
    for (const [name, value] of Object.entries(HELMET)) assert.equal(res.headers.get(name), value, `${what}: ${name}`);
    const csp = res.headers.get('content-security-policy') || '';
    assert.match(csp, /default-src 'self'/, what);
    assert.match(csp, /frame-ancestors 'self'/, what);
    assert.match(csp, /object-src 'none'/, what);
    assert.doesNotMatch(csp, /,/, `${what}: one CSP header, not two merged`);
    // plain HTTP, no trusted proxy: no HSTS
    assert.equal(res.headers.get('strict-transport-security'), null, what);
  }

  test('on a proxied response, a gateway 404, a 401 and /docs', async () => {
    assertSecure(await http(`${GATEWAY}/products/probe`), 'proxied');
    assertSecure(await http(`${GATEWAY}/services/auth/health`), 'proxied health');
    assertSecure(await http(`${GATEWAY}/nowhere`), 'gateway 404');
    assertSecure(await http(`${GATEWAY}/orders/probe`), 'gateway 401');
    assertSecure(await http(`${GATEWAY}/docs`), '/docs');
    assertSecure(await http(`${GATEWAY}/health`), '/health');
  });

  test('X-Forwarded-Proto from an untrusted peer does not turn on HSTS', async () => {
    const res = await http(`${GATEWAY}/health`, { headers: { 'X-Forwarded-Proto': 'https' } });
    assert.equal(res.headers.get('strict-transport-security'), null);
  });

  test('the Swagger UI page loads every script from its own origin under the CSP', async () => {
    const page = await http(`${GATEWAY}/docs`);
    assert.equal(page.status, 200);
    const csp = page.headers.get('content-security-policy');
    const scriptSrc = csp.split(';').find((d) => d.trim().startsWith('script-src '));
    assert.equal(scriptSrc.trim(), "script-src 'self'");
    // no inline script (script-src 'self' would block it), no inline handlers
    const scripts = [...page.text.matchAll(/<script([^>]*)>([\s\S]*?)<\/script>/g)];
    assert.ok(scripts.length >= 3);
    assert.doesNotMatch(page.text, /\son[a-z]+=/i);
    for (const [, attrs, body] of scripts) {
      assert.equal(body.trim(), '', 'inline script body');
      const src = /src="([^"]+)"/.exec(attrs)?.[1];
      assert.ok(src?.startsWith('/docs/'), `same-origin script ${src}`);
      const js = await http(`${GATEWAY}${src}`);
      assert.equal(js.status, 200, src);
      assert.match(js.headers.get('content-type'), /javascript/, src);
    }
    const init = await http(`${GATEWAY}/docs/swagger-init.js`);
    assert.match(init.text, /SwaggerUIBundle\(/);
    assert.match(init.text, /dataset\.url/);
    assert.match(page.text, /data-url="\/docs\/openapi\.json"/);
    for (const link of page.text.matchAll(/href="([^"]+)"/g)) {
      assert.ok(link[1].startsWith('/docs/'), link[1]);
      assert.equal((await http(`${GATEWAY}${link[1]}`)).status, 200, link[1]);
    }
  });
});

describe('gateway: CORS', () => {
  const allowed = env.CORS_ORIGINS.split(',')[0].trim();
  const preflight = (origin, path = '/orders/probe') => http(`${GATEWAY}${path}`, {
    method: 'OPTIONS',
    headers: { Origin: origin, 'Access-Control-Request-Method': 'POST', 'Access-Control-Request-Headers': 'authorization,content-type' },
  });

  test('a preflight from an allowed origin is 204 with the CORS headers, not forwarded', async () => {
    const res = await preflight(allowed);
    assert.equal(res.status, 204, res.text);
    assert.equal(res.headers.get('access-control-allow-origin'), allowed);
    assert.equal(res.headers.get('access-control-allow-credentials'), 'true');
    assert.match(res.headers.get('vary') || '', /Origin/);
    const methods = res.headers.get('access-control-allow-methods').split(/,\s*/);
    for (const m of ['GET', 'POST', 'PUT', 'PATCH', 'DELETE', 'OPTIONS']) assert.ok(methods.includes(m), m);
    const hdrs = res.headers.get('access-control-allow-headers').toLowerCase().split(/,\s*/);
    for (const h of ['authorization', 'content-type', 'x-request-id', 'traceparent']) assert.ok(hdrs.includes(h), h);
    assert.equal(res.headers.get('access-control-max-age'), '600');
    assert.equal(res.text, '');
  });

  test('a preflight from another origin is 403 problem+json without CORS headers', async () => {
    for (const origin of ['http://evil.example', 'null', `${allowed}.evil.example`]) {
      const res = await preflight(origin);
      assertProblem(res, 403);
      assert.equal(res.headers.get('access-control-allow-origin'), null, origin);
      assert.equal(res.headers.get('access-control-allow-credentials'), null, origin);
    }
  });

  test('actual requests: allowed origin echoed with exposed headers; others get none', async () => {
    const ok = await http(`${GATEWAY}/products/probe`, { headers: { Origin: allowed } });
    assert.equal(ok.headers.get('access-control-allow-origin'), allowed);
    assert.equal(ok.headers.get('access-control-allow-credentials'), 'true');
    assert.match(ok.headers.get('vary') || '', /Origin/);
    const exposed = ok.headers.get('access-control-expose-headers').toLowerCase();
    for (const h of ['x-request-id', 'ratelimit-limit', 'ratelimit-remaining', 'ratelimit-reset', 'retry-after']) {
      assert.ok(exposed.includes(h), h);
    }
    // a gateway 401 is readable by the allowed origin too
    const denied = await http(`${GATEWAY}/orders/probe`, { headers: { Origin: allowed } });
    assertProblem(denied, 401);
    assert.equal(denied.headers.get('access-control-allow-origin'), allowed);
    const other = await http(`${GATEWAY}/products/probe`, { headers: { Origin: 'http://evil.example' } });
    assert.equal(other.headers.get('access-control-allow-origin'), null);
    assert.match(other.headers.get('vary') || '', /Origin/);
  });

  test('OPTIONS without preflight headers is an ordinary request (token needed)', async () => {
    assertProblem(await http(`${GATEWAY}/orders/probe`, { method: 'OPTIONS' }), 401);
  });
});

// ---- rate limits: a gateway of our own with tiny limits ---------------------

const LIMITS = { RATE_LIMIT_AUTH_MAX: 3, RATE_LIMIT_ANON_MAX: 5, RATE_LIMIT_USER_MAX: 4, RATE_LIMIT_WINDOW: 2 };
const WINDOW_MS = LIMITS.RATE_LIMIT_WINDOW * 1000;
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

function freePort() {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.on('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address();
      srv.close(() => resolve(port));
    });
  });
}

// Start build/test/bin/gateway with the platform's env plus 'extra'; its log
// and any sanitizer report land in the platform's log directory.
async function startGateway(extra) {
  const port = await freePort();
  const logDir = path.join(env.VAR_DIR, 'log');
  const logFile = path.join(logDir, 'gateway-ratelimit.log');
  const fd = openSync(logFile, 'a');
  const child = spawn(path.join(env.BIN_DIR, 'gateway'), [], {
    cwd: ROOT,
    env: {
      ...process.env, ...env, ...Object.fromEntries(Object.entries(extra).map(([k, v]) => [k, String(v)])),
      GATEWAY_PORT: String(port),
      ASAN_OPTIONS: `detect_leaks=1:abort_on_error=0:log_path=${logDir}/asan`,
      LSAN_OPTIONS: 'print_suppressions=0',
      UBSAN_OPTIONS: `print_stacktrace=1:halt_on_error=1:log_path=${logDir}/ubsan`,
    },
    stdio: ['ignore', fd, fd],
  });
  closeSync(fd);
  const base = `http://127.0.0.1:${port}`;
  const exited = new Promise((resolve) => child.on('exit', (code, signal) => resolve({ code, signal })));
  await eventually(async () => (await http(`${base}/health`)).status === 200, { timeoutMs: 20000 });
  return {
    base, logFile,
    async stop() {
      child.kill('SIGTERM');
      const how = await Promise.race([exited, sleep(20000).then(() => null)]);
      assert.ok(how, 'the extra gateway exits on SIGTERM');
      assert.equal(how.code, 0, `exit ${JSON.stringify(how)}`);
    },
  };
}

function assertRateHeaders(res, limit) {
  assert.equal(res.headers.get('ratelimit-limit'), String(limit), res.text);
  const remaining = Number(res.headers.get('ratelimit-remaining'));
  assert.ok(remaining >= 0 && remaining < limit, `remaining ${remaining}`);
  const reset = Number(res.headers.get('ratelimit-reset'));
  assert.ok(reset >= 1 && reset <= LIMITS.RATE_LIMIT_WINDOW, `reset ${reset}`);
  return remaining;
}

function assertLimited(res, limit) {
  assertProblem(res, 429);
  const retry = Number(res.headers.get('retry-after'));
  assert.ok(retry >= 1 && retry <= LIMITS.RATE_LIMIT_WINDOW, `Retry-After ${res.headers.get('retry-after')}`);
  assert.equal(assertRateHeaders(res, limit), 0);
}

describe('gateway: rate limits (own gateway, tiny limits)', () => {
  let gw;
  before(async () => {
    gw = await startGateway({ ...LIMITS, RATE_LIMIT_PREFIX: `test:${RUN}:`, RATE_LIMIT_REDIS_TIMEOUT_MS: 200, GATEWAY_THREADS: 2 });
  });
  after(async () => {
    await gw?.stop();
  });

  // An invalid body: the auth service answers 422 without counting a failed login.
  const login = (headers = {}) => call(gw.base, 'POST', '/auth/login', { body: {}, headers });

  test('login/register: 429 after RATE_LIMIT_AUTH_MAX per address, back after the window', async () => {
    const max = LIMITS.RATE_LIMIT_AUTH_MAX;
    const before = await counter(gw.base, 'gateway_ratelimit_limited_total', 'bucket="auth"');
    let last = max;
    for (let i = 0; i < max; i++) {
      const res = await (i % 2 ? call(gw.base, 'POST', '/auth/register', { body: {} }) : login());
      assert.notEqual(res.status, 429, res.text);
      const remaining = assertRateHeaders(res, max);
      assert.ok(remaining < last, `remaining goes down: ${remaining} after ${last}`);
      last = remaining;
    }
    const rid = newRequestId();
    // a client-sent X-Forwarded-For does not buy a fresh bucket (TRUST_PROXY is off)
    const limited = await login({ 'X-Request-Id': rid, 'X-Forwarded-For': '203.0.113.7' });
    assertLimited(limited, max);
    assert.match(limited.json.detail, /rate limit/);
    await assertNotForwarded('auth', rid);
    assert.equal(await counter(gw.base, 'gateway_ratelimit_limited_total', 'bucket="auth"'), before + 1);
    // other routes of the same address have their own bucket
    assert.notEqual((await http(`${gw.base}/products/probe`)).status, 429);
    await sleep(WINDOW_MS + 200);
    const again = await login();
    assert.notEqual(again.status, 429, again.text);
    assertRateHeaders(again, max);
  });

  test('anonymous requests per address; users have buckets of their own', async () => {
    const anonMax = LIMITS.RATE_LIMIT_ANON_MAX;
    const userMax = LIMITS.RATE_LIMIT_USER_MAX;
    await sleep(WINDOW_MS + 200); // a full bucket
    for (let i = 0; i < anonMax; i++) {
      const res = await http(`${gw.base}/products/probe`);
      assert.notEqual(res.status, 429, `request ${i + 1}: ${res.text}`);
      assertRateHeaders(res, anonMax);
    }
    assertLimited(await http(`${gw.base}/categories/probe`), anonMax);

    // the same address with a token: the user's bucket, not the exhausted one
    const alice = testToken();
    for (let i = 0; i < userMax; i++) {
      const res = await call(gw.base, 'GET', '/products/probe', { token: alice });
      assert.notEqual(res.status, 429, `alice ${i + 1}: ${res.text}`);
      assertRateHeaders(res, userMax);
    }
    const limited = await call(gw.base, 'GET', '/orders/probe', { token: alice });
    assertLimited(limited, userMax);
    assert.match(limited.json.detail, /user/);
    const bob = await call(gw.base, 'GET', '/products/probe', { token: testToken() });
    assert.notEqual(bob.status, 429, bob.text);
    assertRateHeaders(bob, userMax);
    // an invalid token on a public route is anonymous: still limited
    assertLimited(await http(`${gw.base}/products/probe`, { headers: { Authorization: 'Bearer junk' } }), anonMax);

    // the gateway's own endpoints and preflights are never limited
    for (const p of ['/health', '/ready', '/metrics', '/docs']) {
      const res = await http(`${gw.base}${p}`);
      assert.equal(res.status, 200, p);
      assert.equal(res.headers.get('ratelimit-limit'), null, p);
    }
    const pre = await http(`${gw.base}/products/probe`, {
      method: 'OPTIONS', headers: { Origin: env.CORS_ORIGINS.split(',')[0], 'Access-Control-Request-Method': 'GET' },
    });
    assert.equal(pre.status, 204);
    assert.ok(await counter(gw.base, 'gateway_ratelimit_limited_total', 'bucket="user"') >= 1);

    await sleep(WINDOW_MS + 200);
    const back = await http(`${gw.base}/products/probe`);
    assert.notEqual(back.status, 429, back.text);
  });

  test('the platform gateway never limits the rest of the suite', async () => {
    const res = await http(`${GATEWAY}/products/probe`);
    assert.equal(res.headers.get('ratelimit-limit'), env.RATE_LIMIT_ANON_MAX);
  });

  // Last: takes Redis away from the whole platform, and gives it back.
  test('Redis hung or down: requests pass unchecked (fail open), limits return with Redis', async () => {
    const redisPid = Number(readFileSync(path.join(env.VAR_DIR, 'run', 'redis.pid'), 'utf8').trim());
    assert.ok(redisPid > 0);
    await sleep(WINDOW_MS + 200);
    for (let i = 0; i < LIMITS.RATE_LIMIT_ANON_MAX; i++) await http(`${gw.base}/products/probe`);
    assertLimited(await http(`${gw.base}/products/probe`), LIMITS.RATE_LIMIT_ANON_MAX);
    const before = await counter(gw.base, 'gateway_ratelimit_unavailable_total');

    // hung: replies never come; each request waits RATE_LIMIT_REDIS_TIMEOUT_MS at most
    process.kill(redisPid, 'SIGSTOP');
    try {
      const t0 = Date.now();
      const res = await http(`${gw.base}/products/probe`);
      assert.notEqual(res.status, 429, res.text);
      assert.equal(res.headers.get('ratelimit-limit'), null);
      assert.ok(Date.now() - t0 < 1500, `answered in ${Date.now() - t0} ms`);
    } finally {
      process.kill(redisPid, 'SIGCONT');
    }

    infra('stop-redis');
    try {
      for (let i = 0; i < 3; i++) {
        const t0 = Date.now();
        const res = await http(`${gw.base}/products/probe`);
        assert.notEqual(res.status, 429, res.text);
        assert.ok(res.status < 500 || res.status === 503, `${res.status} ${res.text}`);
        assert.ok(Date.now() - t0 < 1500, `answered in ${Date.now() - t0} ms`);
      }
      const res = await call(gw.base, 'GET', '/orders/probe', { token: testToken() });
      assert.notEqual(res.status, 429);
      assert.ok(await counter(gw.base, 'gateway_ratelimit_unavailable_total') >= before + 4);
      assert.match(readFileSync(gw.logFile, 'utf8'), /rate limits not enforced \(failing open\)/);
    } finally {
      infra('start-redis');
    }
    // the connection comes back by itself (backoff at most 5 s) and limits apply again
    await eventually(async () => (await http(`${gw.base}/products/probe`)).headers.get('ratelimit-limit') !== null,
      { timeoutMs: 20000 });
    await eventually(async () => (await http(`${SERVICES.auth.url}/ready`)).status === 200, { timeoutMs: 20000 });
  });
});
