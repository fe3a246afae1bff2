// Shared helpers for the API tests: where the platform under test listens,
// HTTP helpers, and access to its logs and infrastructure scripts.
//
// The test runner (scripts/run-tests.sh) starts a complete platform on shifted
// ports and passes PLATFORM_ENV_FILE, the env file every service was started with.
import { readFileSync, existsSync } from 'node:fs';
import { execFileSync } from 'node:child_process';
import { createHmac, randomUUID } from 'node:crypto';
import path from 'node:path';
import assert from 'node:assert/strict';

export const ROOT = process.env.REPO_ROOT || path.resolve(import.meta.dirname, '../..');
export const ENV_FILE = process.env.PLATFORM_ENV_FILE || path.join(ROOT, 'var/test/platform.env');

function parseEnv(text) {
  const env = {};
  for (const line of text.split('\n')) {
    const m = line.match(/^\s*(?:export\s+)?([A-Za-z_][A-Za-z0-9_]*)\s*=\s*(.*)\s*$/);
    if (!m) continue;
    let v = m[2];
    if (/^(['"]).*\1$/.test(v)) v = v.slice(1, -1);
    env[m[1]] = v;
  }
  return env;
}

export const env = parseEnv(readFileSync(ENV_FILE, 'utf8'));

// name -> { port, url }
export const SERVICES = Object.fromEntries(
  [
    ['gateway', 'GATEWAY_PORT'],
    ['auth', 'AUTH_SERVICE_PORT'],
    ['users', 'USERS_SERVICE_PORT'],
    ['catalog', 'CATALOG_SERVICE_PORT'],
    ['cart', 'CART_SERVICE_PORT'],
    ['orders', 'ORDERS_SERVICE_PORT'],
    ['payments', 'PAYMENTS_SERVICE_PORT'],
    ['notifications', 'NOTIFICATIONS_SERVICE_PORT'],
    ['realtime', 'REALTIME_SERVICE_PORT'],
  ].map(([name, key]) => {
    const port = Number(env[key]);
    assert.ok(port > 0, `${key} missing from ${ENV_FILE}`);
    return [name, { port, url: `http://127.0.0.1:${port}` }];
  }),
);

export const GATEWAY = SERVICES.gateway.url;

export function newRequestId() {
  return `test-${randomUUID()}`;
}

// fetch with a timeout; returns { status, headers, text, json }.
export async function http(url, { method = 'GET', headers = {}, body, timeoutMs = 10000 } = {}) {
  const res = await fetch(url, { method, headers, body, signal: AbortSignal.timeout(timeoutMs) });
  const text = await res.text();
  let json;
  try {
    json = text ? JSON.parse(text) : undefined;
  } catch {
    json = undefined;
  }
  return { status: res.status, headers: res.headers, text, json };
}

// Assert a 422 problem document whose errors[] names every one of 'fields'.
export function assertInvalid(res, ...fields) {
  assertProblem(res, 422);
  assert.ok(Array.isArray(res.json.errors), `errors[] in ${res.text}`);
  const named = res.json.errors.map((e) => e.field);
  for (const f of fields) assert.ok(named.includes(f), `${f} reported in ${res.text}`);
}

// Assert that a response is an RFC 9457 problem document with 'status'.
export function assertProblem(res, status) {
  assert.equal(res.status, status, `expected ${status}, got ${res.status}: ${res.text}`);
  assert.match(res.headers.get('content-type') || '', /^application\/problem\+json/);
  assert.equal(res.json?.status, status);
  assert.equal(typeof res.json?.title, 'string');
  assert.equal(typeof res.json?.type, 'string');
}

// Lines of a service's JSON log that mention 'needle' (parsed).
export function logLines(service, needle) {
  const file = path.join(env.VAR_DIR, 'log', `${service}.log`);
  if (!existsSync(file)) return [];
  return readFileSync(file, 'utf8')
    .split('\n')
    .filter((l) => l.includes(needle))
    .map((l) => {
      try {
        return JSON.parse(l);
      } catch {
        return { unparsable: l };
      }
    });
}

// Poll 'fn' until it returns a truthy value or the time runs out.
export async function eventually(fn, { timeoutMs = 15000, intervalMs = 200 } = {}) {
  const end = Date.now() + timeoutMs;
  let last;
  while (Date.now() < end) {
    try {
      last = await fn();
      if (last) return last;
    } catch (e) {
      last = e;
    }
    await new Promise((r) => setTimeout(r, intervalMs));
  }
  throw new Error(`condition not met in ${timeoutMs} ms (last: ${last})`);
}

// Run scripts/infra.sh with an action against the platform under test.
export function infra(action) {
  execFileSync(path.join(ROOT, 'scripts/infra.sh'), [action, ENV_FILE], {
    cwd: ROOT,
    stdio: ['ignore', 'pipe', 'pipe'],
    timeout: 120000,
  });
}

// ---- access tokens ----------------------------------------------------------
// HS256 JWTs signed with the platform's JWT_SECRET, as the auth service signs
// them: for calls through the gateway, which wants a valid bearer token on
// every route that is not public.

export const b64url = (v) => Buffer.from(typeof v === 'string' ? v : JSON.stringify(v)).toString('base64url');

export function signJwt(claims, { secret = env.JWT_SECRET, header = { alg: 'HS256', typ: 'JWT' } } = {}) {
  const head = `${b64url(header)}.${b64url(claims)}`;
  return `${head}.${createHmac('sha256', secret).update(head).digest('base64url')}`;
}

// Claims of a valid CUSTOMER access token for a random user; 'over' replaces fields.
export function tokenClaims(over = {}) {
  const now = Math.floor(Date.now() / 1000);
  const sub = over.sub || randomUUID();
  return {
    sub, email: `${sub}@example.test`, role: 'CUSTOMER', permissions: ['orders:read', 'orders:write'],
    jti: randomUUID(), sid: randomUUID(), iat: now, exp: now + 600,
    iss: env.JWT_ISSUER, aud: env.JWT_AUDIENCE, ...over,
  };
}

export const testToken = (over) => signJwt(tokenClaims(over));
export const bearer = (over) => ({ Authorization: `Bearer ${testToken(over)}` });

// ---- RabbitMQ's management HTTP API (events are read from queues bound here) ----

export const RABBIT_VHOST = encodeURIComponent(decodeURIComponent(new URL(env.RABBITMQ_URL).pathname.slice(1)) || '/');
export const RABBIT_EXCHANGE = encodeURIComponent(env.RABBITMQ_EXCHANGE || 'ecommerce.events');
const MGMT_URL = `http://127.0.0.1:${env.RABBITMQ_MANAGEMENT_PORT}`;
const MGMT_AUTH = `Basic ${Buffer.from('guest:guest').toString('base64')}`;

// One management API call ('path' starts with /api); returns http()'s result.
export function rabbitMgmt(method, path, body) {
  return http(`${MGMT_URL}${path}`, {
    method,
    headers: { Authorization: MGMT_AUTH, 'Content-Type': 'application/json' },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
}

// A queue of the test's own bound to 'bindingKey' on the events exchange:
// open() waits for the exchange (the relay declares it when it connects),
// declares and binds the queue; drain() appends every waiting event
// ({routingKey, ...envelope}) to 'received' and returns it; remove() deletes
// the queue. The queue also expires by itself after 30 minutes unused.
export function eventQueue(name, bindingKey) {
  const q = `/api/queues/${RABBIT_VHOST}/${encodeURIComponent(name)}`;
  const received = [];
  return {
    received,
    async open() {
      await eventually(async () => (await rabbitMgmt('GET', `/api/exchanges/${RABBIT_VHOST}/${RABBIT_EXCHANGE}`)).status === 200);
      const made = await rabbitMgmt('PUT', q, { durable: false, auto_delete: false, arguments: { 'x-expires': 30 * 60 * 1000 } });
      assert.ok([201, 204].includes(made.status), made.text);
      const bound = await rabbitMgmt('POST', `/api/bindings/${RABBIT_VHOST}/e/${RABBIT_EXCHANGE}/q/${encodeURIComponent(name)}`, { routing_key: bindingKey });
      assert.equal(bound.status, 201, bound.text);
    },
    async drain() {
      const res = await rabbitMgmt('POST', `${q}/get`, { count: 1000, ackmode: 'ack_requeue_false', encoding: 'auto', truncate: 1000000 });
      assert.equal(res.status, 200, res.text);
      for (const m of res.json) received.push({ routingKey: m.routing_key, ...JSON.parse(m.payload) });
      return received;
    },
    remove: () => rabbitMgmt('DELETE', q),
  };
}

// A caller with a minted token of 'role' and a fresh user id (no account):
// { sub, role, token }.
export function testCaller(role) {
  const sub = randomUUID();
  return { sub, role, token: signJwt(tokenClaims({ sub, role, permissions: [] })) };
}

// A request as 'as' (a testCaller, or null for anonymous) through the
// gateway (or 'base'); an object body is sent as JSON.
export function apiAs(method, path, { as = null, body, headers = {}, base = GATEWAY } = {}) {
  const h = { ...headers };
  if (as) h.Authorization = `Bearer ${as.token}`;
  let payload = body;
  if (body !== undefined && typeof body !== 'string') {
    payload = JSON.stringify(body);
    h['Content-Type'] ??= 'application/json';
  }
  return http(`${base}${path}`, { method, headers: h, body: payload });
}
