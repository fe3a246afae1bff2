// The foundation contract every service keeps: health, readiness, metrics,
// docs, problem+json errors, request ids; and the gateway's routing.
import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import {
  SERVICES, GATEWAY, env, http, assertProblem, logLines, eventually, newRequestId, infra, bearer,
} from './lib.mjs';

const names = Object.keys(SERVICES);

describe('standard endpoints of every service', () => {
  for (const name of names) {
    const base = SERVICES[name].url;

    test(`${name}: GET /health answers 200 ok`, async () => {
      const res = await http(`${base}/health`);
      assert.equal(res.status, 200);
      assert.equal(res.json.status, 'ok');
    });

    test(`${name}: GET /ready answers 200 with its checks`, async () => {
      const res = await http(`${base}/ready`);
      assert.equal(res.status, 200, res.text);
      assert.equal(typeof res.json.checks, 'object');
      for (const [dep, state] of Object.entries(res.json.checks)) assert.equal(state, 'ok', dep);
    });

    test(`${name}: GET /metrics is Prometheus text with request counts`, async () => {
      await http(`${base}/health`);
      const res = await http(`${base}/metrics`);
      assert.equal(res.status, 200);
      assert.match(res.headers.get('content-type'), /^text\/plain/);
      assert.match(res.text, /^# TYPE http_requests_total counter$/m);
      assert.match(res.text, /^http_requests_total\{.*status="200".*\} \d+$/m);
      assert.match(res.text, /^http_request_duration_seconds_bucket\{.*le="\+Inf"\} \d+$/m);
      assert.match(res.text, /^http_requests_in_flight\{.*\} \d+$/m);
    });

    test(`${name}: GET /docs serves Swagger UI and its assets`, async () => {
      const page = await http(`${base}/docs`);
      assert.equal(page.status, 200);
      assert.match(page.headers.get('content-type'), /^text\/html/);
      assert.match(page.text, /swagger-ui-bundle\.js/);
      assert.match(page.text, /\/docs\/openapi\.json/);
      const js = await http(`${base}/docs/swagger-ui-bundle.js`);
      assert.equal(js.status, 200);
      assert.ok(js.text.length > 100000, 'the real swagger-ui bundle is served');
      const css = await http(`${base}/docs/swagger-ui.css`);
      assert.equal(css.status, 200);
      assert.match(css.headers.get('content-type'), /^text\/css/);
      const escape = await http(`${base}/docs/..%2F..%2Fpackage.json`);
      assert.notEqual(escape.status, 200);
    });

    test(`${name}: GET /docs/openapi.json is an OpenAPI 3 document`, async () => {
      const res = await http(`${base}/docs/openapi.json`);
      assert.equal(res.status, 200);
      assert.match(res.json.openapi, /^3\./);
      assert.equal(typeof res.json.info.title, 'string');
      for (const p of ['/health', '/ready', '/metrics']) assert.ok(res.json.paths[p], `${name} documents ${p}`);
    });

    test(`${name}: unknown route is 404 problem+json`, async () => {
      assertProblem(await http(`${base}/no/such/route`), 404);
    });

    test(`${name}: request id is echoed and logged`, async () => {
      const rid = newRequestId();
      const res = await http(`${base}/health`, { headers: { 'X-Request-Id': rid } });
      assert.equal(res.headers.get('x-request-id'), rid);
      await eventually(() => logLines(name, rid).some((l) => l.requestId === rid));
    });
  }

  test('a wrong method on a known route is 405 with Allow', async () => {
    const res = await http(`${SERVICES.auth.url}/health`, { method: 'DELETE' });
    assertProblem(res, 405);
    assert.match(res.headers.get('allow'), /GET/);
  });

  test('a generated request id is returned when none is sent', async () => {
    const res = await http(`${SERVICES.users.url}/health`);
    assert.match(res.headers.get('x-request-id'), /^[0-9a-f-]{36}$/);
  });

  test('an invalid request id is replaced, not trusted', async () => {
    const res = await http(`${SERVICES.users.url}/health`, { headers: { 'X-Request-Id': 'bad id with spaces' } });
    assert.match(res.headers.get('x-request-id'), /^[0-9a-f-]{36}$/);
  });
});

// Which service owns each gateway prefix, and a path on it that the service
// answers (404 from the service itself when no business route exists yet).
// The gateway wants a bearer token on every route that is not public
// (gateway_guard.test.mjs tests that), so these calls carry a valid one.
const ROUTES = [
  ['/auth/probe', 'auth'],
  ['/users/probe', 'users'],
  ['/products/probe', 'catalog'],
  ['/categories/probe', 'catalog'],
  ['/inventory/probe', 'catalog'],
  ['/cart/probe', 'cart'],
  ['/orders/probe', 'orders'],
  ['/payments/probe', 'payments'],
  ['/notifications/probe', 'notifications'],
  ['/socket.io/?EIO=4&transport=polling', 'realtime'],
];

describe('gateway routing', () => {
  for (const [path, service] of ROUTES) {
    test(`${path} reaches ${service} with the request id`, async () => {
      const rid = newRequestId();
      const res = await http(`${GATEWAY}${path}`, { headers: { 'X-Request-Id': rid, ...bearer() } });
      assert.ok(res.status < 500, `${path}: ${res.status} ${res.text}`);
      assert.equal(res.headers.get('x-request-id'), rid);
      const lines = await eventually(() => {
        const found = logLines(service, rid).filter((l) => l.requestId === rid);
        return found.length ? found : null;
      });
      assert.ok(lines.length >= 1);
    });
  }

  test('the gateway assigns a request id and trace context and passes them on', async () => {
    const res = await http(`${GATEWAY}/orders/probe`, { headers: bearer() });
    const rid = res.headers.get('x-request-id');
    assert.ok(rid, 'gateway returned a request id');
    const line = await eventually(() => logLines('orders', rid).find((l) => l.requestId === rid));
    assert.match(line.traceId, /^[0-9a-f]{32}$/);
  });

  test('a caller traceparent keeps its trace id across the hop', async () => {
    const traceId = '4bf92f3577b34da6a3ce929d0e0e4736';
    const rid = newRequestId();
    await http(`${GATEWAY}/cart/probe`, {
      headers: { 'X-Request-Id': rid, traceparent: `00-${traceId}-00f067aa0ba902b7-01`, ...bearer() },
    });
    const line = await eventually(() => logLines('cart', rid).find((l) => l.requestId === rid));
    assert.equal(line.traceId, traceId);
  });

  test('/services/<name>/health reaches each service, and only that path', async () => {
    for (const name of ['auth', 'users', 'catalog', 'cart', 'orders', 'payments', 'notifications', 'realtime']) {
      const rid = newRequestId();
      const res = await http(`${GATEWAY}/services/${name}/health`, { headers: { 'X-Request-Id': rid } });
      assert.equal(res.status, 200, `${name}: ${res.text}`);
      assert.equal(res.json.status, 'ok');
      const line = await eventually(() => logLines(name, rid).find((l) => l.requestId === rid));
      assert.equal(line.route, '/health');
    }
    assertProblem(await http(`${GATEWAY}/services/auth/health/x`), 404);
    assertProblem(await http(`${GATEWAY}/services/auth/metrics`), 404);
    assertProblem(await http(`${GATEWAY}/services/auth/health`, { method: 'POST' }), 405);
  });

  test('an unknown prefix is 404 problem+json from the gateway', async () => {
    assertProblem(await http(`${GATEWAY}/nowhere/at/all`), 404);
  });

  test('service errors pass through the gateway as problem+json', async () => {
    assertProblem(await http(`${GATEWAY}/users/no/such/route`, { headers: bearer() }), 404);
  });

  test('the gateway serves the merged API docs of all services', async () => {
    const res = await http(`${GATEWAY}/docs/openapi.json`);
    assert.equal(res.status, 200);
    assert.match(res.json.openapi, /^3\./);
    const page = await http(`${GATEWAY}/docs`);
    assert.equal(page.status, 200);
    assert.match(page.text, /swagger-ui/);
  });
});

describe('request bodies', () => {
  const target = `${GATEWAY}/auth/login`;

  test('malformed JSON is 400 problem+json', async () => {
    const res = await http(target, {
      method: 'POST', headers: { 'Content-Type': 'application/json' }, body: '{"email": "a@b.c",',
    });
    assertProblem(res, 400);
    assert.match(res.json.detail, /JSON/);
  });

  test('a JSON array where an object is expected is 400', async () => {
    const res = await http(target, { method: 'POST', headers: { 'Content-Type': 'application/json' }, body: '[1,2]' });
    assertProblem(res, 400);
  });

  test('a non-JSON content type is 415 problem+json', async () => {
    const res = await http(target, { method: 'POST', headers: { 'Content-Type': 'text/plain' }, body: 'hello' });
    assertProblem(res, 415);
  });

  test('an oversize body is 413 problem+json', async () => {
    const limit = Number(env.HTTP_MAX_BODY_BYTES || 1048576);
    const body = JSON.stringify({ email: 'a@b.c', password: 'x'.repeat(limit + 10) });
    const res = await http(target, { method: 'POST', headers: { 'Content-Type': 'application/json' }, body });
    assertProblem(res, 413);
  });
});

describe('readiness follows dependencies', () => {
  test('/ready turns 503 when Redis stops and 200 when it is back', async () => {
    const auth = SERVICES.auth.url;
    assert.equal((await http(`${auth}/ready`)).status, 200);
    infra('stop-redis');
    try {
      const down = await eventually(async () => {
        const r = await http(`${auth}/ready`);
        return r.status === 503 ? r : null;
      });
      assertProblem(down, 503);
      assert.notEqual(down.json.checks.redis, 'ok');
      assert.equal(down.json.checks.postgres, 'ok');
    } finally {
      infra('start-redis');
    }
    await eventually(async () => (await http(`${auth}/ready`)).status === 200, { timeoutMs: 20000 });
  });
});
