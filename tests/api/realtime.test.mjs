// The realtime service with the official socket.io-client: every transport,
// acknowledgements, namespaces, payload limits, and the way through the gateway.
import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { io } from 'socket.io-client';
import { SERVICES, GATEWAY } from './lib.mjs';

const withTimeout = (p, ms, what) =>
  Promise.race([p, new Promise((_, rej) => setTimeout(() => rej(new Error(`timeout: ${what}`)), ms))]);

function connect(url, opts = {}) {
  const socket = io(url, { reconnection: false, ...opts });
  return withTimeout(
    new Promise((res, rej) => {
      socket.on('connect', () => res(socket));
      socket.on('connect_error', rej);
    }),
    5000,
    'connect',
  );
}

async function roundTrips(socket) {
  const pong = await withTimeout(new Promise((res) => socket.emit('ping', res)), 3000, 'ping ack');
  assert.equal(pong, 'pong');
  const args = [1, 'two', { three: [3, null, true], 'é': 'ü' }];
  const echoed = await withTimeout(new Promise((res) => socket.emit('echo', ...args, (...a) => res(a))), 3000, 'echo');
  assert.deepEqual(echoed, args);
  const N = 100;
  const acks = await withTimeout(
    Promise.all(Array.from({ length: N }, (_, i) => new Promise((res) => socket.emit('echo', i, res)))),
    5000,
    'burst',
  );
  assert.deepEqual(acks, Array.from({ length: N }, (_, i) => i));
}

async function disconnect(socket) {
  const closed = new Promise((res) => socket.on('disconnect', res));
  socket.disconnect();
  await withTimeout(closed, 3000, 'disconnect');
}

for (const [where, url] of [['directly', () => SERVICES.realtime.url], ['through the gateway', () => GATEWAY]]) {
  describe(`realtime ${where}`, () => {
    test('polling upgrades to websocket; acks and bursts work', async () => {
      const s = await connect(url());
      assert.ok(s.id);
      const engine = s.io.engine;
      if (engine.transport.name !== 'websocket')
        await withTimeout(new Promise((res) => engine.once('upgrade', res)), 5000, 'upgrade');
      assert.equal(engine.transport.name, 'websocket');
      await roundTrips(s);
      await disconnect(s);
    });

    test('websocket-only clients work', async () => {
      const s = await connect(url(), { transports: ['websocket'] });
      await roundTrips(s);
      await disconnect(s);
    });

    test('polling-only clients work, including large messages', async () => {
      const s = await connect(url(), { transports: ['polling'] });
      await roundTrips(s);
      const big = 'x'.repeat(500000);
      assert.equal(await withTimeout(new Promise((res) => s.emit('echo', big, res)), 5000, 'big'), big);
      await disconnect(s);
    });
  });
}

describe('realtime limits', () => {
  test('an unknown namespace is refused', async () => {
    const s = io(`${SERVICES.realtime.url}/admin`, { reconnection: false, transports: ['websocket'] });
    const err = await withTimeout(new Promise((res) => s.on('connect_error', res)), 3000, 'nsp error');
    assert.equal(err.message, 'Invalid namespace');
    s.close();
  });

  test('a message over maxPayload drops the connection', async () => {
    const s = await connect(SERVICES.realtime.url, { transports: ['websocket'] });
    const gone = new Promise((res) => s.on('disconnect', res));
    s.emit('echo', 'y'.repeat(1100000));
    await withTimeout(gone, 3000, 'too large');
  });
});
