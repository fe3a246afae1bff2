// Product images through the gateway: upload (PNG, JPEG, WebP, GIF), the
// resized WebP variants and how they are served (cache headers, ETag, 304),
// bad uploads (wrong type, too large, truncated, absurd dimensions), roles,
// alt/position edits and deletion (files gone from disk).
//
// Products are inserted straight into the catalog database: this file tests
// images, not product creation (POST /products has its own tests).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { deflateSync } from 'node:zlib';
import { randomUUID, randomBytes } from 'node:crypto';
import path from 'node:path';
import { GATEWAY, ROOT, env, http, assertProblem, testToken } from './lib.mjs';
import { PNG_SIGNATURE, chunk, ihdr, rgbPng } from '../../scripts/seed-png.mjs';

const FIXTURES = path.join(ROOT, 'tests/fixtures/images');
const MAX_BYTES = Number(env.CATALOG_IMAGE_MAX_BYTES || 10485760);
const IMAGE_DIR = path.join(env.VAR_DIR, 'catalog/images');

// ---- images made here --------------------------------------------------------

// An RGB PNG: a gradient, or noise (which does not compress: a big file).
function png(width, height, { noise = false, level = 6 } = {}) {
  const raw = Buffer.alloc((width * 3 + 1) * height);
  const rnd = noise ? randomBytes(width * height * 3) : null;
  for (let y = 0; y < height; y++) {
    const row = y * (width * 3 + 1);
    for (let x = 0; x < width; x++) {
      const o = row + 1 + x * 3;
      if (rnd) rnd.copy(raw, o, (y * width + x) * 3, (y * width + x) * 3 + 3);
      else raw.set([(x * 255) / width, (y * 255) / height, 128], o);
    }
  }
  return rgbPng(width, height, raw, level);
}

// [width, height] from a PNG or WebP header.
function dimensions(buf) {
  if (buf.subarray(0, 8).equals(PNG_SIGNATURE)) return [buf.readUInt32BE(16), buf.readUInt32BE(20)];
  assert.equal(buf.toString('ascii', 0, 4), 'RIFF');
  assert.equal(buf.toString('ascii', 8, 12), 'WEBP');
  const kind = buf.toString('ascii', 12, 16);
  if (kind === 'VP8X') return [buf.readUIntLE(24, 3) + 1, buf.readUIntLE(27, 3) + 1];
  if (kind === 'VP8 ') return [buf.readUInt16LE(26) & 0x3fff, buf.readUInt16LE(28) & 0x3fff];
  if (kind === 'VP8L') {
    const b = buf.readUInt32LE(21);
    return [(b & 0x3fff) + 1, ((b >> 14) & 0x3fff) + 1];
  }
  throw new Error(`unknown WebP chunk ${kind}`);
}

// ---- platform access ----------------------------------------------------------

function sql(query) {
  return execFileSync('psql', [env.CATALOG_DATABASE_URL, '-Atqc', query], { encoding: 'utf8' }).trim();
}

function product(sellerId, { active = true } = {}) {
  const n = randomUUID().slice(0, 8);
  return sql(
    `INSERT INTO products (seller_id, name, slug, sku, price, currency, is_active)
     VALUES ('${sellerId}', 'Image test ${n}', 'image-test-${n}', 'IMG-${n}', 1999, 'EUR', ${active})
     RETURNING id`,
  );
}

const SELLER = randomUUID();
const OTHER_SELLER = randomUUID();
const auth = (sub, role) => ({ Authorization: `Bearer ${testToken({ sub, role, permissions: [] })}` });
const seller = () => auth(SELLER, 'SELLER');
const otherSeller = () => auth(OTHER_SELLER, 'SELLER');
const admin = () => auth(randomUUID(), 'ADMIN');
const customer = () => auth(randomUUID(), 'CUSTOMER');

function form(bytes, { name = 'image.png', type = 'image/png', alt, field = 'file' } = {}) {
  const f = new FormData();
  if (bytes) f.append(field, new Blob([bytes], { type }), name);
  if (alt !== undefined) f.append('alt', alt);
  return f;
}

function upload(productId, body, headers = seller()) {
  return http(`${GATEWAY}/products/${productId}/images`, { method: 'POST', headers, body, timeoutMs: 60000 });
}

async function binary(url, headers = {}) {
  const res = await fetch(`${GATEWAY}${url}`, { headers, signal: AbortSignal.timeout(10000) });
  return { status: res.status, headers: res.headers, body: Buffer.from(await res.arrayBuffer()) };
}

// Fetch every variant and check it fits its box (max side 200/600/1200),
// never larger than 'original'; returns {thumb: [w, h], ...}.
async function checkVariants(image, original) {
  const sizes = {};
  for (const [variant, box] of [['thumb', 200], ['medium', 600], ['large', 1200]]) {
    const res = await binary(image.variants[variant]);
    assert.equal(res.status, 200, `${variant}: ${res.status}`);
    assert.equal(res.headers.get('content-type'), 'image/webp');
    const [w, h] = dimensions(res.body);
    const expectMax = Math.min(box, Math.max(...original));
    assert.equal(Math.max(w, h), expectMax, `${variant} is ${w}x${h}`);
    sizes[variant] = [w, h];
  }
  return sizes;
}

// ---- uploads -------------------------------------------------------------------

test('a seller uploads a PNG: 201, three WebP variants within their boxes', async () => {
  const pid = product(SELLER);
  const res = await upload(pid, form(png(900, 500), { alt: 'a red mug' }));
  assert.equal(res.status, 201, res.text);
  const img = res.json;
  assert.equal(img.productId, pid);
  assert.equal(img.contentType, 'image/png');
  assert.equal(img.alt, 'a red mug');
  assert.deepEqual([img.width, img.height], [900, 500]);
  assert.equal(img.position, 0);
  const base = `/products/${pid}/images/${img.id}/`;
  assert.deepEqual(img.variants, { thumb: `${base}thumb`, medium: `${base}medium`, large: `${base}large` });
  assert.equal(res.headers.get('location'), `${base}large`);
  const sizes = await checkVariants(img, [900, 500]);
  assert.deepEqual(sizes.large, [900, 500], 'never enlarged');
  assert.equal(sizes.medium[0], 600);
  assert.ok(Math.abs(sizes.medium[1] - 333) <= 1, `medium keeps the aspect: ${sizes.medium}`);
  // the row and its product.updated event committed together
  const events = sql(`SELECT count(*) FROM outbox WHERE routing_key = 'product.updated'
                      AND payload->'data'->>'imageId' = '${img.id}'`);
  assert.equal(events, '1');
  assert.equal(sql(`SELECT sha256 FROM product_images WHERE id = '${img.id}'`).length, 64);
});

test('a JPEG is turned upright by its EXIF orientation and loses its metadata', async () => {
  const pid = product(SELLER);
  // 1500x1000, EXIF orientation 6, Make "SecretCam", Artist "Jane Private"
  const jpeg = readFileSync(path.join(FIXTURES, 'photo-orient6.jpg'));
  assert.notEqual(jpeg.indexOf('SecretCam'), -1);
  const res = await upload(pid, form(jpeg, { name: 'photo.jpg', type: 'image/jpeg' }));
  assert.equal(res.status, 201, res.text);
  assert.equal(res.json.contentType, 'image/jpeg');
  const sizes = await checkVariants(res.json, [1500, 1000]);
  assert.deepEqual(sizes.large, [800, 1200], 'rotated a quarter turn');
  for (const variant of ['thumb', 'medium', 'large']) {
    const { body } = await binary(res.json.variants[variant]);
    for (const marker of ['SecretCam', 'Jane Private', 'EXIF', 'XMP ']) {
      assert.equal(body.indexOf(marker), -1, `${variant} holds ${marker}`);
    }
  }
});

test('WebP and GIF uploads are accepted and never enlarged', async () => {
  const pid = product(SELLER);
  const webp = await upload(pid, form(readFileSync(path.join(FIXTURES, 'small.webp')), { name: 'a.webp', type: 'image/webp' }));
  assert.equal(webp.status, 201, webp.text);
  assert.equal(webp.json.contentType, 'image/webp');
  const sizes = await checkVariants(webp.json, [300, 200]);
  assert.deepEqual(sizes.medium, [300, 200]);
  // the bytes decide, not the declared type or name
  const gif = await upload(pid, form(readFileSync(path.join(FIXTURES, 'tiny.gif')), { name: 'a.png', type: 'image/png' }));
  assert.equal(gif.status, 201, gif.text);
  assert.equal(gif.json.contentType, 'image/gif');
  await checkVariants(gif.json, [60, 40]);
  assert.equal(gif.json.position, 1, 'the next position');
});

test('an upload above the 1 MB default body limit is accepted', async () => {
  const pid = product(SELLER);
  const big = png(700, 700, { noise: true, level: 0 });
  assert.ok(big.length > 1.2 * 1048576, `${big.length} bytes`);
  const res = await upload(pid, form(big));
  assert.equal(res.status, 201, res.text);
  assert.equal(res.json.bytes, big.length);
});

// ---- serving ----------------------------------------------------------------------

test('variants are served immutable with a strong ETag; If-None-Match gives 304', async () => {
  const pid = product(SELLER);
  const up = await upload(pid, form(png(300, 300)));
  assert.equal(up.status, 201, up.text);
  const first = await binary(up.json.variants.medium);
  assert.equal(first.status, 200);
  assert.equal(first.headers.get('cache-control'), 'public, max-age=31536000, immutable');
  const etag = first.headers.get('etag');
  assert.match(etag, /^"[0-9a-f]{64}-medium"$/);
  const again = await binary(up.json.variants.medium, { 'If-None-Match': etag });
  assert.equal(again.status, 304);
  assert.equal(again.body.length, 0);
  assert.equal(again.headers.get('etag'), etag);
  const head = await fetch(`${GATEWAY}${up.json.variants.medium}`, { method: 'HEAD' });
  assert.equal(head.status, 200);
  assert.equal(head.headers.get('etag'), etag);
  assert.equal((await head.arrayBuffer()).byteLength, 0);
  const other = await binary(up.json.variants.thumb, { 'If-None-Match': etag });
  assert.equal(other.status, 200, 'each variant has its own tag');
  assert.notEqual(other.headers.get('etag'), etag);
});

test('unknown variants, images and products are 404', async () => {
  const pid = product(SELLER);
  const up = await upload(pid, form(png(50, 50)));
  assert.equal(up.status, 201, up.text);
  const base = `/products/${pid}/images/${up.json.id}`;
  for (const url of [`${base}/huge`, `${base}/original`, `/products/${pid}/images/${randomUUID()}/thumb`,
    `/products/${randomUUID()}/images/${up.json.id}/thumb`, `/products/${pid}/images/not-a-uuid/thumb`]) {
    assertProblem(await http(`${GATEWAY}${url}`), 404);
  }
});

test('images of an inactive product are hidden from the public, not from its seller', async () => {
  const pid = product(SELLER, { active: false });
  const up = await upload(pid, form(png(64, 64)));
  assert.equal(up.status, 201, up.text);
  assertProblem(await http(`${GATEWAY}${up.json.variants.thumb}`), 404);
  assertProblem(await http(`${GATEWAY}${up.json.variants.thumb}`, { headers: otherSeller() }), 404);
  const own = await binary(up.json.variants.thumb, seller());
  assert.equal(own.status, 200);
  assert.equal(own.headers.get('cache-control'), 'private, no-cache');
  assert.equal((await binary(up.json.variants.thumb, admin())).status, 200);
});

test('the product JSON lists its images with their variant URLs', async () => {
  const pid = product(SELLER);
  const up = await upload(pid, form(png(120, 80), { alt: 'front' }));
  assert.equal(up.status, 201, up.text);
  const res = await http(`${GATEWAY}/products/${pid}`);
  assert.equal(res.status, 200, res.text);
  const listed = res.json.images.find((i) => i.id === up.json.id);
  assert.ok(listed, JSON.stringify(res.json.images));
  assert.equal(listed.alt, 'front');
  assert.deepEqual(listed.variants, up.json.variants);
  assert.equal(listed.url, up.json.variants.large);
});

// ---- bad uploads ----------------------------------------------------------------------

test('a file that is not an image is 415, whatever it claims to be', async () => {
  const pid = product(SELLER);
  const text = Buffer.from('just some text pretending to be a picture\n');
  assertProblem(await upload(pid, form(text, { name: 'cat.png', type: 'image/png' })), 415);
  const pdf = Buffer.from('%PDF-1.7\n1 0 obj\n<< /Type /Catalog >>\nendobj\ntrailer\n%%EOF\n');
  assertProblem(await upload(pid, form(pdf, { name: 'cat.jpg', type: 'image/jpeg' })), 415);
  const svg = Buffer.from('<svg xmlns="http://www.w3.org/2000/svg" width="10" height="10"/>');
  assertProblem(await upload(pid, form(svg, { name: 'cat.svg', type: 'image/svg+xml' })), 415);
  // not multipart at all
  const json = await http(`${GATEWAY}/products/${pid}/images`, {
    method: 'POST', headers: { ...seller(), 'Content-Type': 'application/json' }, body: '{"file":"x"}',
  });
  assertProblem(json, 415);
  assert.equal(sql(`SELECT count(*) FROM product_images WHERE product_id = '${pid}'`), '0');
});

test('an image over CATALOG_IMAGE_MAX_BYTES is 413', async () => {
  const pid = product(SELLER);
  const tooBig = Buffer.concat([png(10, 10), Buffer.alloc(MAX_BYTES + 1 - png(10, 10).length)]);
  assert.equal(tooBig.length, MAX_BYTES + 1);
  const res = await upload(pid, form(tooBig));
  assertProblem(res, 413);
  assert.match(res.json.detail, new RegExp(String(MAX_BYTES)));
  // a body far over the route's limit is refused from its Content-Length
  const huge = await upload(pid, form(Buffer.alloc(MAX_BYTES + 200000)));
  assertProblem(huge, 413);
});

test('a truncated or corrupt image is 422, never 500', async () => {
  const pid = product(SELLER);
  const full = png(400, 300, { noise: true });
  const jpeg = readFileSync(path.join(FIXTURES, 'photo-orient6.jpg'));
  const webp = readFileSync(path.join(FIXTURES, 'small.webp'));
  const cases = [
    ['png cut in half', full.subarray(0, full.length / 2), 'image/png'],
    ['png signature only', PNG_SIGNATURE, 'image/png'],
    ['jpeg cut in half', jpeg.subarray(0, jpeg.length / 2), 'image/jpeg'],
    ['jpeg magic only', jpeg.subarray(0, 3), 'image/jpeg'],
    ['webp cut', webp.subarray(0, 40), 'image/webp'],
  ];
  for (const [what, bytes, type] of cases) {
    const res = await upload(pid, form(bytes, { type }));
    assertProblem(res, 422);
    assert.equal(res.json.errors?.[0]?.field, 'file', what);
  }
  assert.equal(sql(`SELECT count(*) FROM product_images WHERE product_id = '${pid}'`), '0');
});

test('an image announcing absurd dimensions is 422 before it is decoded', async () => {
  const pid = product(SELLER);
  // 20000 x 20000 in the header, a few bytes of pixels: the header decides
  const bomb = Buffer.concat([PNG_SIGNATURE, ihdr(20000, 20000), chunk('IDAT', deflateSync(Buffer.alloc(1000))), chunk('IEND', Buffer.alloc(0))]);
  const res = await upload(pid, form(bomb));
  assertProblem(res, 422);
  assert.equal(res.json.errors[0].field, 'file');
  assert.match(res.json.errors[0].message, /10000 px/);
  // wide but thin: 12000 x 1
  assertProblem(await upload(pid, form(Buffer.concat([PNG_SIGNATURE, ihdr(12000, 1), chunk('IEND', Buffer.alloc(0))]))), 422);
});

test('missing file, empty file or an over-long alt are 422 naming the field', async () => {
  const pid = product(SELLER);
  const none = await upload(pid, form(null, { alt: 'x' }));
  assertProblem(none, 422);
  assert.deepEqual(none.json.errors.map((e) => e.field), ['file']);
  const empty = await upload(pid, form(Buffer.alloc(0)));
  assertProblem(empty, 422);
  assert.equal(empty.json.errors[0].field, 'file');
  const longAlt = await upload(pid, form(png(20, 20), { alt: 'a'.repeat(301) }));
  assertProblem(longAlt, 422);
  assert.equal(longAlt.json.errors[0].field, 'alt');
  const okAlt = await upload(pid, form(png(20, 20), { alt: 'ä'.repeat(300) }));
  assert.equal(okAlt.status, 201, '300 characters are fine, whatever their bytes');
});

// ---- roles -----------------------------------------------------------------------------

test('uploads: anonymous 401, customer 403, another seller 403, admin any product', async () => {
  const pid = product(SELLER);
  assertProblem(await upload(pid, form(png(20, 20)), {}), 401);
  assertProblem(await upload(pid, form(png(20, 20)), customer()), 403);
  assertProblem(await upload(pid, form(png(20, 20)), otherSeller()), 403);
  assertProblem(await upload(randomUUID(), form(png(20, 20))), 404);
  const byAdmin = await upload(pid, form(png(20, 20)), admin());
  assert.equal(byAdmin.status, 201, byAdmin.text);
  const bySuper = await upload(pid, form(png(20, 20)), auth(randomUUID(), 'SUPERADMIN'));
  assert.equal(bySuper.status, 201, bySuper.text);
  assert.equal(sql(`SELECT count(*) FROM product_images WHERE product_id = '${pid}'`), '2');
});

test('PATCH changes alt and position; roles and validation apply', async () => {
  const pid = product(SELLER);
  const up = await upload(pid, form(png(20, 20)));
  assert.equal(up.status, 201, up.text);
  const url = `${GATEWAY}/products/${pid}/images/${up.json.id}`;
  const patch = (body, headers = seller()) =>
    http(url, { method: 'PATCH', headers: { ...headers, 'Content-Type': 'application/json' }, body: JSON.stringify(body) });
  const ok = await patch({ alt: 'side view', position: 3 });
  assert.equal(ok.status, 200, ok.text);
  assert.equal(ok.json.alt, 'side view');
  assert.equal(ok.json.position, 3);
  const keep = await patch({ position: 4 });
  assert.equal(keep.json.alt, 'side view', 'absent fields keep their value');
  const bad = await patch({ alt: 'x'.repeat(301), position: -1, color: 'red' });
  assertProblem(bad, 422);
  assert.deepEqual(bad.json.errors.map((e) => e.field).sort(), ['alt', 'color', 'position']);
  assertProblem(await patch({ alt: 'x' }, customer()), 403);
  assertProblem(await patch({ alt: 'x' }, otherSeller()), 403);
  assertProblem(await patch({ alt: 'x' }, {}), 401);
  assertProblem(await http(`${GATEWAY}/products/${pid}/images/${randomUUID()}`, {
    method: 'PATCH', headers: { ...seller(), 'Content-Type': 'application/json' }, body: '{"alt":"x"}',
  }), 404);
});

test('DELETE removes the row and the files; the next GET is 404', async () => {
  const pid = product(SELLER);
  const up = await upload(pid, form(png(300, 200)));
  assert.equal(up.status, 201, up.text);
  const id = up.json.id;
  const dir = path.join(IMAGE_DIR, id);
  assert.ok(existsSync(path.join(dir, 'thumb.webp')));
  // served (and its metadata cached) before the delete
  assert.equal((await binary(up.json.variants.thumb)).status, 200);
  const url = `${GATEWAY}/products/${pid}/images/${id}`;
  assertProblem(await http(url, { method: 'DELETE' }), 401);
  assertProblem(await http(url, { method: 'DELETE', headers: customer() }), 403);
  assertProblem(await http(url, { method: 'DELETE', headers: otherSeller() }), 403);
  const del = await http(url, { method: 'DELETE', headers: seller() });
  assert.equal(del.status, 204, del.text);
  assert.equal(existsSync(dir), false, 'files removed');
  assertProblem(await http(`${GATEWAY}${up.json.variants.thumb}`), 404);
  assertProblem(await http(url, { method: 'DELETE', headers: seller() }), 404);
  const events = sql(`SELECT string_agg(payload->'data'->>'change', ',' ORDER BY created_at) FROM outbox
                      WHERE payload->'data'->>'imageId' = '${id}'`);
  assert.equal(events, 'image_added,image_removed');
  // an admin deletes any product's image
  const again = await upload(pid, form(png(30, 30)));
  const byAdmin = await http(`${GATEWAY}/products/${pid}/images/${again.json.id}`, { method: 'DELETE', headers: admin() });
  assert.equal(byAdmin.status, 204);
});

test('concurrent uploads to one product all land, each at its own position', async () => {
  const pid = product(SELLER);
  const results = await Promise.all(Array.from({ length: 6 }, (_, i) => upload(pid, form(png(40 + i, 40)))));
  for (const r of results) assert.equal(r.status, 201, r.text);
  const positions = results.map((r) => r.json.position).sort((a, b) => a - b);
  assert.deepEqual(positions, [0, 1, 2, 3, 4, 5]);
});
