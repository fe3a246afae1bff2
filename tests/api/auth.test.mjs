// The auth service: accounts, passwords, tokens, sessions, email flows,
// roles and permissions. Tested against the service directly
// (SERVICES.auth.url); the last describe runs the main flow through the
// gateway.
//
// Events are read from RabbitMQ through its management HTTP API: a queue of
// this run is bound to the exchange with "user.#" and drained as needed.
//
// Per-address login limits: every request that logs in sends its own
// X-Forwarded-For address (the auth service trusts the last hop, which is
// what the gateway appends), so the failures one test provokes never lock
// another test out.
import { test, describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes, randomUUID } from 'node:crypto';
import { SERVICES, GATEWAY, env, http, assertProblem, eventually, infra, rabbitMgmt, eventQueue, RABBIT_VHOST, RABBIT_EXCHANGE } from './lib.mjs';

const AUTH = SERVICES.auth.url;
const RUN = randomBytes(4).toString('hex');
const PASSWORD = 'Correct-horse-42';

const MAX_ATTEMPTS = Number(env.LOGIN_MAX_ATTEMPTS || 5);
const IP_MAX_ATTEMPTS = Number(env.LOGIN_IP_MAX_ATTEMPTS || 4 * MAX_ATTEMPTS);
const LOCK_SECONDS = durationSeconds(env.LOGIN_LOCK || '15m');

function durationSeconds(text) {
  const m = /^(\d+)([smhd]?)$/.exec(text);
  assert.ok(m, `duration ${text}`);
  return Number(m[1]) * { '': 1, s: 1, m: 60, h: 3600, d: 86400 }[m[2]];
}

let seq = 0;
const newEmail = (tag = 'user') => `${tag}.${RUN}.${++seq}@example.test`;
const freshIp = () => `10.${[1, 2, 3].map(() => randomBytes(1)[0]).join('.')}`;

// One request to the auth service (or 'base'); body objects are sent as JSON.
function api(method, path, { body, token, ip, ua, base = AUTH, headers = {} } = {}) {
  const h = { ...headers };
  if (body !== undefined) h['Content-Type'] = 'application/json';
  if (token) h.Authorization = `Bearer ${token}`;
  if (ip) h['X-Forwarded-For'] = ip;
  if (ua) h['User-Agent'] = ua;
  const payload = body === undefined || typeof body === 'string' ? body : JSON.stringify(body);
  return http(`${base}${path}`, { method, headers: h, body: payload });
}

async function register(over = {}, base = AUTH) {
  const user = { email: newEmail(), password: PASSWORD, firstName: 'Ann', lastName: 'Tester', ...over };
  const res = await api('POST', '/auth/register', { body: user, base });
  assert.equal(res.status, 201, res.text);
  return { ...user, id: res.json.id, created: res.json };
}

async function login(email, password = PASSWORD, { ip = freshIp(), ua, base = AUTH } = {}) {
  const res = await api('POST', '/auth/login', { body: { email, password }, ip, ua, base });
  assert.equal(res.status, 200, res.text);
  return res.json;
}

const refresh = (refreshToken, base = AUTH) => api('POST', '/auth/refresh', { body: { refreshToken }, base });
const claims = (jwt) => JSON.parse(Buffer.from(jwt.split('.')[1], 'base64url').toString('utf8'));

// ---- RabbitMQ management API -------------------------------------------------

const events = eventQueue(`auth-api-test-${RUN}`, 'user.#');
const received = events.received;
const drainQueue = () => events.drain();

// The first not yet taken event of 'type' whose data matches; taken from the list.
async function takeEvent(type, match) {
  const find = () => {
    const i = received.findIndex((e) => e.type === type && match(e.data));
    return i < 0 ? null : received.splice(i, 1)[0];
  };
  return eventually(async () => find() || (await drainQueue(), find()), { timeoutMs: 20000 });
}

// Publish an event as another service would (for user.deactivated / activated).
async function publishEvent(type, data) {
  const envelope = { id: randomUUID(), type, source: 'users', occurredAt: new Date().toISOString(), data };
  const res = await rabbitMgmt('POST', `/api/exchanges/${RABBIT_VHOST}/${RABBIT_EXCHANGE}/publish`, {
    properties: { content_type: 'application/json', message_id: envelope.id, type, delivery_mode: 2 },
    routing_key: type,
    payload: JSON.stringify(envelope),
    payload_encoding: 'string',
  });
  assert.equal(res.status, 200, res.text);
  assert.equal(res.json.routed, true, 'someone consumes the event');
}

before(() => events.open());
after(() => events.remove());

// ---- the superadmin from the environment -------------------------------------------

let superCache;
async function superadmin() {
  superCache ||= await login(env.SUPERADMIN_EMAIL, env.SUPERADMIN_PASSWORD);
  return superCache;
}

// ==================================================================================

describe('auth: registration', () => {
  test('register creates a CUSTOMER and emits user.registered and a verification request', async () => {
    const u = await register({ firstName: 'Zoë', lastName: 'Ünal' });
    assert.match(u.id, /^[0-9a-f-]{36}$/);
    assert.equal(u.created.role, 'CUSTOMER');
    assert.equal(u.created.emailVerified, false);
    assert.equal(u.created.isActive, true);
    assert.equal(u.created.email, u.email);
    assert.equal(u.created.password, undefined);
    assert.equal(u.created.passwordHash, undefined);

    const reg = await takeEvent('user.registered', (d) => d.userId === u.id);
    assert.deepEqual(reg.data, {
      userId: u.id, email: u.email, firstName: 'Zoë', lastName: 'Ünal', role: 'CUSTOMER', emailVerified: false,
    });
    assert.equal(reg.source, 'auth');
    const ver = await takeEvent('user.email_verification_requested', (d) => d.userId === u.id);
    assert.equal(ver.data.email, u.email);
    assert.equal(ver.data.firstName, 'Zoë');
    assert.match(ver.data.token, /^[A-Za-z0-9_-]{43}$/);
    assert.ok(Date.parse(ver.data.expiresAt) > Date.now());
    assert.equal(ver.data.verifyUrl, `${env.PUBLIC_APP_URL}/verify-email?token=${ver.data.token}`);
  });

  test('a role other than CUSTOMER on public register is 403', async () => {
    for (const role of ['ADMIN', 'SELLER', 'SUPERADMIN', 'root']) {
      const res = await api('POST', '/auth/register', {
        body: { email: newEmail(), password: PASSWORD, firstName: 'A', lastName: 'B', role },
      });
      assertProblem(res, 403);
    }
    const ok = await register({ role: 'CUSTOMER' });
    assert.equal(ok.created.role, 'CUSTOMER');
  });

  test('a duplicate email, in any case, is 409', async () => {
    const u = await register();
    const res = await api('POST', '/auth/register', {
      body: { email: u.email.toUpperCase(), password: PASSWORD, firstName: 'A', lastName: 'B' },
    });
    assertProblem(res, 409);
  });

  test('the password policy answers 422 with a field error per broken rule', async () => {
    const email = newEmail();
    const cases = [
      ['Short1a', /at least 10/],
      [`${'a1'.repeat(64)}x`, /at most 128/],
      ['onlyletterspassword', /letter and one digit/],
      ['12345678901234', /letter and one digit/],
      [email, /email/],
    ];
    for (const [password, message] of cases) {
      const res = await api('POST', '/auth/register', { body: { email, password, firstName: 'A', lastName: 'B' } });
      assertProblem(res, 422);
      const errs = res.json.errors.filter((e) => e.field === 'password');
      assert.ok(errs.some((e) => message.test(e.message)), `${password}: ${res.text}`);
    }
    // Unicode counts code points: 10 characters, 20 bytes.
    await register({ password: 'ééééééééé1' });
  });

  test('missing, malformed and unknown fields are 422 with every error listed', async () => {
    const res = await api('POST', '/auth/register', { body: { email: 'not-an-email', isAdmin: true } });
    assertProblem(res, 422);
    const fields = res.json.errors.map((e) => e.field).sort();
    assert.deepEqual(fields, ['email', 'firstName', 'isAdmin', 'lastName', 'password']);
  });
});

describe('auth: login and tokens', () => {
  test('login answers a token pair and the user; the access token carries the claims', async () => {
    const u = await register();
    const ip = freshIp();
    const res = await api('POST', '/auth/login', { body: { email: u.email.toUpperCase(), password: PASSWORD }, ip });
    assert.equal(res.status, 200, res.text);
    const { accessToken, refreshToken, expiresIn, user, tokenType } = res.json;
    assert.equal(tokenType, 'Bearer');
    assert.match(refreshToken, /^[A-Za-z0-9_-]{43}$/);
    assert.equal(typeof expiresIn, 'number');
    assert.equal(user.id, u.id);
    assert.equal(res.headers.get('cache-control'), 'no-store');
    const c = claims(accessToken);
    assert.equal(c.sub, u.id);
    assert.equal(c.email, u.email);
    assert.equal(c.role, 'CUSTOMER');
    assert.ok(c.permissions.includes('profile:read'));
    assert.ok(!c.permissions.includes('users:read'));
    assert.equal(c.exp - c.iat, expiresIn);
    assert.equal(c.iss, env.JWT_ISSUER);
    assert.equal(c.aud, env.JWT_AUDIENCE);
    assert.match(c.jti, /^[0-9a-f-]{36}$/);
    assert.match(c.sid, /^[0-9a-f-]{36}$/);
  });

  test('a wrong password and an unknown email are the same 401', async () => {
    const u = await register();
    const wrong = await api('POST', '/auth/login', { body: { email: u.email, password: 'Wrong-password-1' }, ip: freshIp() });
    assertProblem(wrong, 401);
    const unknown = await api('POST', '/auth/login', { body: { email: newEmail('nobody'), password: PASSWORD }, ip: freshIp() });
    assertProblem(unknown, 401);
    assert.equal(wrong.json.detail, unknown.json.detail);
  });

  test(`after ${MAX_ATTEMPTS} failures the account is locked: 429 with Retry-After even for the right password`, async () => {
    const u = await register();
    const ip = freshIp();
    const times = [];
    for (let i = 0; i < MAX_ATTEMPTS; i++) {
      const t0 = Date.now();
      const res = await api('POST', '/auth/login', { body: { email: u.email, password: `Wrong-pass-${i}x` }, ip });
      times.push(Date.now() - t0);
      assertProblem(res, 401);
    }
    if (MAX_ATTEMPTS >= 3) assert.ok(times.at(-1) - times[0] >= 200, `failures are slowed down: ${times}`);
    const locked = await api('POST', '/auth/login', { body: { email: u.email, password: PASSWORD }, ip });
    assertProblem(locked, 429);
    const retry = Number(locked.headers.get('retry-after'));
    assert.ok(retry > 0 && retry <= LOCK_SECONDS, `Retry-After ${retry}`);
    // The lock is the account's, whatever address asks.
    assertProblem(await api('POST', '/auth/login', { body: { email: u.email, password: PASSWORD }, ip: freshIp() }), 429);
  });

  test('a successful login clears the account failure count', async () => {
    const u = await register();
    for (let round = 0; round < 2; round++) {
      for (let i = 0; i < MAX_ATTEMPTS - 1; i++) {
        const res = await api('POST', '/auth/login', { body: { email: u.email, password: 'Wrong-pass-99' }, ip: freshIp() });
        assertProblem(res, 401);
      }
      await login(u.email);
    }
  });

  test(`one address is locked after ${IP_MAX_ATTEMPTS} failures on any accounts`, async () => {
    const u = await register();
    const ip = freshIp();
    for (let i = 0; i < IP_MAX_ATTEMPTS; i++) {
      const res = await api('POST', '/auth/login', { body: { email: newEmail('spray'), password: PASSWORD }, ip });
      assertProblem(res, 401);
    }
    const locked = await api('POST', '/auth/login', { body: { email: u.email, password: PASSWORD }, ip });
    assertProblem(locked, 429);
    assert.ok(Number(locked.headers.get('retry-after')) > 0);
    await login(u.email, PASSWORD, { ip: freshIp() });
  });

  test('refresh rotates; reusing a rotated token revokes the whole session family', async () => {
    const u = await register();
    const first = await login(u.email);
    const r1 = await refresh(first.refreshToken);
    assert.equal(r1.status, 200, r1.text);
    assert.notEqual(r1.json.refreshToken, first.refreshToken);
    assert.equal(claims(r1.json.accessToken).sid, claims(first.accessToken).sid);
    assert.equal(r1.json.user.id, u.id);

    const reuse = await refresh(first.refreshToken);
    assertProblem(reuse, 401);
    assert.match(reuse.json.detail, /already used/);
    assertProblem(await refresh(r1.json.refreshToken), 401);
    // The family's access tokens no longer pass the auth service either.
    assertProblem(await api('GET', '/auth/me', { token: r1.json.accessToken }), 401);
  });

  test('two concurrent refreshes with one token cannot both succeed', async () => {
    const u = await register();
    const s = await login(u.email);
    const results = await Promise.all([refresh(s.refreshToken), refresh(s.refreshToken), refresh(s.refreshToken)]);
    const ok = results.filter((r) => r.status === 200);
    assert.ok(ok.length <= 1, results.map((r) => r.status).join(','));
    for (const r of results) assert.ok([200, 401].includes(r.status), r.text);
  });

  test('malformed and unknown refresh tokens are 401; a missing one is 422', async () => {
    assertProblem(await refresh('x'.repeat(43)), 401);
    assertProblem(await refresh("' OR 1=1 --"), 401);
    assertProblem(await api('POST', '/auth/refresh', { body: {} }), 422);
  });

  test('me answers the fresh account with its permissions; bad tokens are 401', async () => {
    const u = await register();
    const s = await login(u.email);
    const me = await api('GET', '/auth/me', { token: s.accessToken });
    assert.equal(me.status, 200, me.text);
    assert.equal(me.json.id, u.id);
    assert.ok(me.json.permissions.includes('orders:write'));
    assertProblem(await api('GET', '/auth/me'), 401);
    assertProblem(await api('GET', '/auth/me', { token: 'not.a.jwt' }), 401);
    const [h, , sig] = s.accessToken.split('.');
    const forged = Buffer.from(JSON.stringify({ ...claims(s.accessToken), role: 'SUPERADMIN' })).toString('base64url');
    assertProblem(await api('GET', '/auth/me', { token: `${h}.${forged}.${sig}` }), 401);
  });
});

describe('auth: logout and sessions', () => {
  test('logout with the refresh token revokes that session', async () => {
    const u = await register();
    const s = await login(u.email);
    const res = await api('POST', '/auth/logout', { body: { refreshToken: s.refreshToken } });
    assert.equal(res.status, 204, res.text);
    assertProblem(await refresh(s.refreshToken), 401);
    assertProblem(await api('GET', '/auth/me', { token: s.accessToken }), 401);
  });

  test('logout with only the access token revokes its session (sid)', async () => {
    const u = await register();
    const s = await login(u.email);
    const other = await login(u.email);
    const res = await api('POST', '/auth/logout', { token: s.accessToken });
    assert.equal(res.status, 204, res.text);
    assertProblem(await refresh(s.refreshToken), 401);
    assert.equal((await refresh(other.refreshToken)).status, 200, 'other sessions stay');
    assertProblem(await api('POST', '/auth/logout'), 401);
  });

  test('logout-all revokes every session of the caller', async () => {
    const u = await register();
    const a = await login(u.email);
    const b = await login(u.email);
    assert.equal((await api('POST', '/auth/logout-all', { token: a.accessToken })).status, 204);
    assertProblem(await refresh(a.refreshToken), 401);
    assertProblem(await refresh(b.refreshToken), 401);
  });

  test('sessions lists the caller\'s devices; deleting one ends it; others\' are 404', async () => {
    const u = await register();
    const ipA = freshIp();
    const a = await login(u.email, PASSWORD, { ip: ipA, ua: 'Browser A/1.0' });
    const b = await login(u.email, PASSWORD, { ua: 'Phone B/2.0' });
    const list = await api('GET', '/auth/sessions', { token: a.accessToken });
    assert.equal(list.status, 200, list.text);
    assert.equal(list.json.items.length, 2);
    const mine = list.json.items.find((x) => x.current);
    assert.equal(mine.id, claims(a.accessToken).sid);
    assert.equal(mine.userAgent, 'Browser A/1.0');
    assert.equal(mine.ip, ipA);
    for (const k of ['createdAt', 'lastUsedAt']) assert.ok(Date.parse(mine[k]) > 0, k);
    const otherId = claims(b.accessToken).sid;
    assert.equal(list.json.items.find((x) => !x.current).id, otherId);

    const stranger = await register();
    const st = await login(stranger.email);
    assertProblem(await api('DELETE', `/auth/sessions/${otherId}`, { token: st.accessToken }), 404);
    assertProblem(await api('DELETE', '/auth/sessions/not-a-uuid', { token: a.accessToken }), 404);

    assert.equal((await api('DELETE', `/auth/sessions/${otherId}`, { token: a.accessToken })).status, 204);
    assertProblem(await refresh(b.refreshToken), 401);
    assertProblem(await api('DELETE', `/auth/sessions/${otherId}`, { token: a.accessToken }), 404);
    const after = await api('GET', '/auth/sessions', { token: a.accessToken });
    assert.deepEqual(after.json.items.map((x) => x.id), [mine.id]);
  });
});

describe('auth: email verification and passwords', () => {
  test('verify-email with the token from the event; the token works once', async () => {
    const u = await register();
    const { data } = await takeEvent('user.email_verification_requested', (d) => d.userId === u.id);
    const res = await api('POST', '/auth/verify-email', { body: { token: data.token } });
    assert.equal(res.status, 200, res.text);
    assert.equal(res.json.emailVerified, true);
    const verified = await takeEvent('user.email_verified', (d) => d.userId === u.id);
    assert.equal(verified.data.email, u.email);
    assertProblem(await api('POST', '/auth/verify-email', { body: { token: data.token } }), 400);
    assertProblem(await api('POST', '/auth/verify-email', { body: { token: 'A'.repeat(43) } }), 400);
    const s = await login(u.email);
    assert.equal(s.user.emailVerified, true);
    assertProblem(await api('POST', '/auth/verify-email/resend', { token: s.accessToken }), 409);
  });

  test('resend issues a new verification token; only the newest works', async () => {
    const u = await register();
    const first = await takeEvent('user.email_verification_requested', (d) => d.userId === u.id);
    const s = await login(u.email);
    assertProblem(await api('POST', '/auth/verify-email/resend'), 401);
    const res = await api('POST', '/auth/verify-email/resend', { token: s.accessToken });
    assert.equal(res.status, 202, res.text);
    const second = await takeEvent('user.email_verification_requested', (d) => d.userId === u.id);
    assert.notEqual(second.data.token, first.data.token);
    assert.equal((await api('POST', '/auth/verify-email', { body: { token: second.data.token } })).status, 200);
    assertProblem(await api('POST', '/auth/verify-email', { body: { token: first.data.token } }), 400);
  });

  test('forgot-password is 202 for unknown emails too, with no event', async () => {
    const email = newEmail('ghost');
    const res = await api('POST', '/auth/password/forgot', { body: { email } });
    assert.equal(res.status, 202, res.text);
    assertProblem(await api('POST', '/auth/password/forgot', { body: {} }), 422);
    await drainQueue();
    assert.ok(!received.some((e) => e.data?.email === email));
  });

  test('password reset with the emailed token: policy first, then one use, all sessions revoked', async () => {
    const u = await register();
    const s = await login(u.email);
    assert.equal((await api('POST', '/auth/password/forgot', { body: { email: u.email.toUpperCase() } })).status, 202);
    const ev = await takeEvent('user.password_reset_requested', (d) => d.userId === u.id);
    assert.equal(ev.data.email, u.email);
    assert.ok(Date.parse(ev.data.expiresAt) > Date.now());
    assert.equal(ev.data.resetUrl, `${env.PUBLIC_APP_URL}/reset-password?token=${ev.data.token}`);

    const weak = await api('POST', '/auth/password/reset', { body: { token: ev.data.token, password: 'short' } });
    assertProblem(weak, 422);
    assert.equal(weak.json.errors[0].field, 'password');
    const NEW = 'Brand-new-password-7';
    const res = await api('POST', '/auth/password/reset', { body: { token: ev.data.token, password: NEW } });
    assert.equal(res.status, 204, res.text);
    assertProblem(await api('POST', '/auth/password/reset', { body: { token: ev.data.token, password: NEW } }), 400);
    assertProblem(await refresh(s.refreshToken), 401);
    assertProblem(await api('POST', '/auth/login', { body: { email: u.email, password: PASSWORD }, ip: freshIp() }), 401);
    await login(u.email, NEW);
    const changed = await takeEvent('user.password_changed', (d) => d.userId === u.id);
    assert.equal(changed.data.reason, 'reset');
  });

  test('password change checks the current password and revokes the other sessions', async () => {
    const u = await register();
    const here = await login(u.email);
    const there = await login(u.email);
    const wrong = await api('POST', '/auth/password/change', {
      token: here.accessToken, body: { currentPassword: 'Not-my-password-1', newPassword: 'Another-password-8' },
    });
    assertProblem(wrong, 422);
    assert.equal(wrong.json.errors[0].field, 'currentPassword');
    const weak = await api('POST', '/auth/password/change', {
      token: here.accessToken, body: { currentPassword: PASSWORD, newPassword: 'abcdefghijk' },
    });
    assertProblem(weak, 422);
    assert.equal(weak.json.errors[0].field, 'newPassword');
    const same = await api('POST', '/auth/password/change', {
      token: here.accessToken, body: { currentPassword: PASSWORD, newPassword: PASSWORD },
    });
    assertProblem(same, 422);

    const NEW = 'Another-password-8';
    const ok = await api('POST', '/auth/password/change', {
      token: here.accessToken, body: { currentPassword: PASSWORD, newPassword: NEW },
    });
    assert.equal(ok.status, 204, ok.text);
    assertProblem(await refresh(there.refreshToken), 401);
    assert.equal((await api('GET', '/auth/me', { token: here.accessToken })).status, 200);
    assert.equal((await refresh(here.refreshToken)).status, 200);
    await login(u.email, NEW);
    const ev = await takeEvent('user.password_changed', (d) => d.userId === u.id);
    assert.equal(ev.data.reason, 'change');
  });
});

describe('auth: roles and administration', () => {
  test('customers cannot use the admin endpoints', async () => {
    const u = await register();
    const s = await login(u.email);
    assertProblem(await api('GET', '/auth/admin/users', { token: s.accessToken }), 403);
    assertProblem(await api('GET', '/auth/roles', { token: s.accessToken }), 403);
    assertProblem(await api('POST', '/auth/admin/users', {
      token: s.accessToken, body: { email: newEmail(), password: PASSWORD, firstName: 'A', lastName: 'B', role: 'CUSTOMER' },
    }), 403);
    assertProblem(await api('GET', '/auth/admin/users'), 401);
  });

  test('roles list every role with its permissions', async () => {
    const sa = await superadmin();
    const res = await api('GET', '/auth/roles', { token: sa.accessToken });
    assert.equal(res.status, 200, res.text);
    const byName = Object.fromEntries(res.json.items.map((r) => [r.name, r.permissions]));
    assert.deepEqual(Object.keys(byName), ['SUPERADMIN', 'ADMIN', 'SELLER', 'CUSTOMER']);
    assert.ok(byName.SUPERADMIN.includes('roles:write'));
    assert.ok(!byName.ADMIN.includes('roles:write'));
    assert.ok(byName.SELLER.includes('products:write'));
    assert.ok(!byName.CUSTOMER.includes('products:write'));
    for (const p of res.json.permissions) {
      assert.match(p.name, /^[a-z_]+:[a-z_]+$/);
      assert.ok(p.description.length > 10, p.name);
    }
  });

  test('ADMIN creates SELLER and CUSTOMER but not ADMIN; SUPERADMIN creates ADMIN', async () => {
    const sa = await superadmin();
    const make = (token, role, over = {}) => api('POST', '/auth/admin/users', {
      token, body: { email: newEmail(role.toLowerCase()), password: PASSWORD, firstName: 'Made', lastName: role, role, ...over },
    });
    const adminRes = await make(sa.accessToken, 'ADMIN');
    assert.equal(adminRes.status, 201, adminRes.text);
    assert.equal(adminRes.json.role, 'ADMIN');
    await takeEvent('user.registered', (d) => d.userId === adminRes.json.id && d.role === 'ADMIN');
    const admin = await login(adminRes.json.email);
    assert.ok(claims(admin.accessToken).permissions.includes('users:write'));

    const seller = await make(admin.accessToken, 'SELLER', { emailVerified: true });
    assert.equal(seller.status, 201, seller.text);
    assert.equal(seller.json.emailVerified, true);
    assert.equal((await make(admin.accessToken, 'CUSTOMER')).status, 201);
    assertProblem(await make(admin.accessToken, 'ADMIN'), 403);
    assertProblem(await make(admin.accessToken, 'SUPERADMIN'), 403);
    assertProblem(await make(admin.accessToken, 'OWNER'), 422);
    assertProblem(await make(admin.accessToken, 'CUSTOMER', { email: adminRes.json.email.toUpperCase() }), 409);
  });

  test('admin user list: filters, search and pagination', async () => {
    const sa = await superadmin();
    const tag = `srch${RUN}`;
    for (let i = 0; i < 3; i++) await register({ lastName: `${tag}-${i}` });
    const page1 = await api('GET', `/auth/admin/users?search=${tag.toUpperCase()}&role=CUSTOMER&limit=2&page=1`, { token: sa.accessToken });
    assert.equal(page1.status, 200, page1.text);
    assert.equal(page1.json.total, 3);
    assert.equal(page1.json.items.length, 2);
    assert.equal(page1.json.page, 1);
    assert.equal(page1.json.limit, 2);
    const page2 = await api('GET', `/auth/admin/users?search=${tag}&limit=2&page=2`, { token: sa.accessToken });
    assert.equal(page2.json.items.length, 1);
    const ids = new Set([...page1.json.items, ...page2.json.items].map((x) => x.id));
    assert.equal(ids.size, 3);
    const sellers = await api('GET', `/auth/admin/users?search=${tag}&role=SELLER`, { token: sa.accessToken });
    assert.equal(sellers.json.total, 0);
    for (const q of ['role=KING', 'limit=0', 'limit=101', 'page=0', 'page=x', `search=${'s'.repeat(101)}`]) {
      assertProblem(await api('GET', `/auth/admin/users?${q}`, { token: sa.accessToken }), 422);
    }
    // Not UTF-8 once decoded: refused or ignored, never a database error.
    const bad = await api('GET', '/auth/admin/users?search=%FF%FE', { token: sa.accessToken });
    assert.ok([200, 422].includes(bad.status), bad.text);
    const sql = await api('GET', `/auth/admin/users?search=${encodeURIComponent("' OR 1=1 --%_")}`, { token: sa.accessToken });
    assert.equal(sql.status, 200, sql.text);
    assert.equal(sql.json.total, 0);
  });

  test('role changes: rules, event, sessions revoked, new permissions at next login', async () => {
    const sa = await superadmin();
    const adminAcc = await api('POST', '/auth/admin/users', {
      token: sa.accessToken, body: { email: newEmail('admin'), password: PASSWORD, firstName: 'Ad', lastName: 'Min', role: 'ADMIN' },
    });
    assert.equal(adminAcc.status, 201);
    const admin = await login(adminAcc.json.email);
    const u = await register();
    const userSession = await login(u.email);

    const res = await api('PATCH', `/auth/admin/users/${u.id}/role`, { token: admin.accessToken, body: { role: 'SELLER' } });
    assert.equal(res.status, 200, res.text);
    assert.equal(res.json.role, 'SELLER');
    const ev = await takeEvent('user.role_changed', (d) => d.userId === u.id);
    assert.deepEqual(ev.data, { userId: u.id, oldRole: 'CUSTOMER', newRole: 'SELLER', changedBy: adminAcc.json.id });
    assertProblem(await refresh(userSession.refreshToken), 401);
    const again = await login(u.email);
    assert.equal(claims(again.accessToken).role, 'SELLER');
    assert.ok(claims(again.accessToken).permissions.includes('products:write'));

    const path = `/auth/admin/users/${u.id}/role`;
    assertProblem(await api('PATCH', path, { token: admin.accessToken, body: { role: 'ADMIN' } }), 403);
    assertProblem(await api('PATCH', `/auth/admin/users/${adminAcc.json.id}/role`, { token: admin.accessToken, body: { role: 'CUSTOMER' } }), 403);
    assertProblem(await api('PATCH', path, { token: admin.accessToken, body: { role: 'EMPEROR' } }), 422);
    assertProblem(await api('PATCH', `/auth/admin/users/${randomUUID()}/role`, { token: admin.accessToken, body: { role: 'SELLER' } }), 404);
    assertProblem(await api('PATCH', '/auth/admin/users/nope/role', { token: admin.accessToken, body: { role: 'SELLER' } }), 404);
    const promoted = await api('PATCH', path, { token: sa.accessToken, body: { role: 'ADMIN' } });
    assert.equal(promoted.status, 200, promoted.text);
    assert.equal(promoted.json.role, 'ADMIN');
  });

  test('the last SUPERADMIN cannot lose the role (409); another one can be demoted', async (t) => {
    const sa = await superadmin();
    const second = await api('POST', '/auth/admin/users', {
      token: sa.accessToken, body: { email: newEmail('super'), password: PASSWORD, firstName: 'Su', lastName: 'Per', role: 'SUPERADMIN' },
    });
    assert.equal(second.status, 201, second.text);
    const demoted = await api('PATCH', `/auth/admin/users/${second.json.id}/role`, { token: sa.accessToken, body: { role: 'ADMIN' } });
    assert.equal(demoted.status, 200, demoted.text);

    const supers = await api('GET', '/auth/admin/users?role=SUPERADMIN&limit=100', { token: sa.accessToken });
    const active = supers.json.items.filter((x) => x.isActive);
    if (active.length !== 1) {
      t.skip(`${active.length} active SUPERADMINs exist: demoting ${env.SUPERADMIN_EMAIL} would succeed`);
      return;
    }
    const me = claims(sa.accessToken).sub;
    const last = await api('PATCH', `/auth/admin/users/${me}/role`, { token: sa.accessToken, body: { role: 'ADMIN' } });
    assertProblem(last, 409);
    assert.equal((await api('GET', '/auth/me', { token: sa.accessToken })).json.role, 'SUPERADMIN');
  });

  test('deactivated accounts (user.deactivated) cannot log in or refresh; user.activated restores login', async () => {
    const u = await register();
    const s = await login(u.email);
    await publishEvent('user.deactivated', { userId: u.id });
    await eventually(async () => {
      const r = await api('POST', '/auth/login', { body: { email: u.email, password: PASSWORD }, ip: freshIp() });
      return r.status === 403;
    });
    const r = await refresh(s.refreshToken);
    assertProblem(r, 403);
    assertProblem(await api('GET', '/auth/me', { token: s.accessToken }), 401);
    await publishEvent('user.activated', { userId: u.id });
    await eventually(async () => {
      const res = await api('POST', '/auth/login', { body: { email: u.email, password: PASSWORD }, ip: freshIp() });
      return res.status === 200;
    });
    assertProblem(await refresh(s.refreshToken), 401);
  });
});

describe('auth: hostile and unusual input', () => {
  test('SQL metacharacters in names and email are stored and returned exactly', async () => {
    const firstName = "Robert'); DROP TABLE users;--";
    const lastName = String.raw`"; SELECT * FROM x; \ % _ $1 ::text`;
    const email = `o'brien+${RUN}.${++seq}@example.test`;
    const u = await register({ firstName, lastName, email });
    assert.equal(u.created.firstName, firstName);
    assert.equal(u.created.lastName, lastName);
    const s = await login(email);
    const me = await api('GET', '/auth/me', { token: s.accessToken });
    assert.equal(me.json.firstName, firstName);
    assert.equal(me.json.lastName, lastName);
    assert.equal(me.json.email, email);
  });

  test('unicode names up to 100 code points are stored exactly; longer ones are 422', async () => {
    const rocket = '🚀'.repeat(100);
    const u = await register({ firstName: rocket, lastName: 'Zoë 山田 O\u0301' });
    assert.equal(u.created.firstName, rocket);
    assert.equal(u.created.lastName, 'Zoë 山田 O\u0301');
    for (const firstName of ['🚀'.repeat(101), 'a'.repeat(101), 'Line\nbreak', '   ', '', 42]) {
      const res = await api('POST', '/auth/register', { body: { email: newEmail(), password: PASSWORD, firstName, lastName: 'X' } });
      assertProblem(res, 422);
      assert.equal(res.json.errors[0].field, 'firstName');
    }
    // A NUL character is refused by the JSON parser already (400).
    const nul = await api('POST', '/auth/register', { body: { email: newEmail(), password: PASSWORD, firstName: 'nul\u0000byte', lastName: 'X' } });
    assertProblem(nul, 400);
  });

  test('emails: 254 bytes accepted, 255 rejected; unicode compared case-insensitively', async () => {
    const local = `e${RUN}`.padEnd(64, 'x');
    const domainFor = (len) => `${'d'.repeat(len - '.test'.length)}.test`;
    const e254 = `${local}@${domainFor(254 - 65)}`;
    assert.equal(Buffer.byteLength(e254), 254);
    const u = await register({ email: e254 });
    assert.equal(u.created.email, e254);
    const e255 = `${local}@${domainFor(255 - 65)}`;
    assertProblem(await api('POST', '/auth/register', { body: { email: e255, password: PASSWORD, firstName: 'A', lastName: 'B' } }), 422);

    const uni = `zoë.${RUN}@exämple.test`;
    const z = await register({ email: uni });
    assert.equal(z.created.email, uni);
    const dup = await api('POST', '/auth/register', { body: { email: uni.toUpperCase(), password: PASSWORD, firstName: 'A', lastName: 'B' } });
    assertProblem(dup, 409);
    await login(uni.toUpperCase());
  });

  test('oversized and mistyped fields are 4xx, never 5xx', async () => {
    const bodies = [
      { email: newEmail(), password: 'a1'.repeat(5000), firstName: 'A', lastName: 'B' },
      { email: `${'a'.repeat(5000)}@example.test`, password: PASSWORD, firstName: 'A', lastName: 'B' },
      { email: ['x'], password: { p: 1 }, firstName: null, lastName: true },
    ];
    for (const body of bodies) {
      const res = await api('POST', '/auth/register', { body });
      assertProblem(res, 422);
    }
    const login1 = await api('POST', '/auth/login', { body: { email: 'a'.repeat(300), password: 'x'.repeat(2000) }, ip: freshIp() });
    assertProblem(login1, 422);
    const login2 = await api('POST', '/auth/login', { body: { email: `' OR '1'='1 ${RUN}`, password: "' OR '1'='1" }, ip: freshIp() });
    assertProblem(login2, 401);
  });
});

describe('auth: documentation', () => {
  test('the OpenAPI document covers every route with its statuses', async () => {
    const res = await api('GET', '/docs/openapi.json');
    assert.equal(res.status, 200);
    const doc = res.json;
    assert.equal(doc.openapi, '3.0.3');
    assert.ok(doc.components.securitySchemes.bearerAuth);
    assert.ok(doc.components.schemas.Problem);
    const routes = [
      ['post', '/auth/register'], ['post', '/auth/login'], ['post', '/auth/refresh'], ['post', '/auth/logout'],
      ['post', '/auth/logout-all'], ['get', '/auth/me'], ['get', '/auth/sessions'], ['delete', '/auth/sessions/{id}'],
      ['post', '/auth/verify-email'], ['post', '/auth/verify-email/resend'], ['post', '/auth/password/forgot'],
      ['post', '/auth/password/reset'], ['post', '/auth/password/change'], ['get', '/auth/admin/users'],
      ['post', '/auth/admin/users'], ['patch', '/auth/admin/users/{id}/role'], ['get', '/auth/roles'],
      ['get', '/health'], ['get', '/ready'], ['get', '/metrics'], ['get', '/docs'], ['get', '/docs/openapi.json'],
    ];
    for (const [method, path] of routes) {
      const op = doc.paths[path]?.[method];
      assert.ok(op, `${method.toUpperCase()} ${path} is documented`);
      assert.ok(Object.keys(op.responses).length >= 1, `${method} ${path} responses`);
    }
    assert.match(doc.paths['/auth/login'].post.description, /Redis/);
  });
});

// Runs last in this file: it stops Redis for the whole test platform.
describe('auth: Redis down', () => {
  test('login fails closed (503 + Retry-After); refresh keeps working', async () => {
    const u = await register();
    const s = await login(u.email);
    infra('stop-redis');
    try {
      const res = await eventually(async () => {
        const r = await api('POST', '/auth/login', { body: { email: u.email, password: PASSWORD }, ip: freshIp() });
        return r.status === 503 ? r : null;
      });
      assertProblem(res, 503);
      assert.ok(Number(res.headers.get('retry-after')) > 0);
      const r = await refresh(s.refreshToken);
      assert.equal(r.status, 200, r.text);
    } finally {
      infra('start-redis');
    }
    await eventually(async () => {
      const r = await api('POST', '/auth/login', { body: { email: u.email, password: PASSWORD }, ip: freshIp() });
      return r.status === 200;
    }, { timeoutMs: 20000 });
  });
});

describe('auth through the gateway', () => {
  test('register -> login -> me -> refresh -> reuse (family revoked) -> logout', async () => {
    const u = await register({}, GATEWAY);
    const s = await login(u.email, PASSWORD, { base: GATEWAY });
    const me = await api('GET', '/auth/me', { base: GATEWAY, token: s.accessToken });
    assert.equal(me.status, 200, me.text);
    assert.equal(me.json.email, u.email);

    const r1 = await refresh(s.refreshToken, GATEWAY);
    assert.equal(r1.status, 200, r1.text);
    const reuse = await refresh(s.refreshToken, GATEWAY);
    assertProblem(reuse, 401);
    assertProblem(await refresh(r1.json.refreshToken, GATEWAY), 401);

    const s2 = await login(u.email, PASSWORD, { base: GATEWAY });
    const out = await api('POST', '/auth/logout', { base: GATEWAY, body: { refreshToken: s2.refreshToken } });
    assert.equal(out.status, 204, out.text);
    assertProblem(await refresh(s2.refreshToken, GATEWAY), 401);
    assertProblem(await api('GET', '/auth/me', { base: GATEWAY, token: s2.accessToken }), 401);
  });
});
