#!/usr/bin/env node
// seed-catalog.mjs - load a realistic demo catalog into a running platform
// through the catalog's API, as the SUPERADMIN of the platform's env file.
//
//   node scripts/seed-catalog.mjs [ENV_FILE] [--products=N] [--images=all|none]
//   make seed [SEED_ENV=var/test/platform.env] [SEED_ARGS=--products=500]
//
// ENV_FILE defaults to var/dev/platform.env (what `make up` writes). It loads
// a category tree (33 categories in 3 levels), N products (default 3000)
// with brand/colour/size/material attributes, prices, stock and one
// generated PNG image each.
//
// Idempotent: everything is keyed by a natural key. A category whose slug
// exists and a product whose SKU exists (409) are kept as they are; a kept
// product without images gets its image. The data comes from a fixed-seed
// generator, so a second run asks for exactly the same things.
//
// It talks to the auth and catalog services directly, not through the
// gateway: the gateway's per-user rate limit (600 a minute by default)
// would throttle a few thousand writes to a crawl, and the services check
// the SUPERADMIN's token themselves anyway.
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { productPng } from './seed-png.mjs';
import { CATEGORIES, LINES, COLOURS } from './seed-data.mjs';

const ROOT = path.resolve(import.meta.dirname, '..');
const CONCURRENCY = 8;

// ---- arguments and environment ---------------------------------------------

function parseArgs(argv) {
  const opts = { envFile: path.join(ROOT, 'var/dev/platform.env'), products: 3000, images: true };
  for (const a of argv) {
    if (a.startsWith('--products=')) opts.products = Number(a.slice(11));
    else if (a === '--images=none') opts.images = false;
    else if (a === '--images=all') opts.images = true;
    else if (!a.startsWith('--')) opts.envFile = path.resolve(a);
    else throw new Error(`unknown option ${a}`);
  }
  if (!Number.isInteger(opts.products) || opts.products < 0) throw new Error('--products must be an integer >= 0');
  return opts;
}

function readEnv(file) {
  const env = {};
  for (const line of readFileSync(file, 'utf8').split('\n')) {
    const m = line.match(/^\s*(?:export\s+)?([A-Za-z_][A-Za-z0-9_]*)\s*=\s*(.*?)\s*$/);
    if (m) env[m[1]] = /^(['"]).*\1$/.test(m[2]) ? m[2].slice(1, -1) : m[2];
  }
  for (const k of ['AUTH_SERVICE_URL', 'CATALOG_SERVICE_URL', 'SUPERADMIN_EMAIL', 'SUPERADMIN_PASSWORD'])
    if (!env[k]) throw new Error(`${k} missing from ${file}`);
  return env;
}

// ---- HTTP --------------------------------------------------------------------

// fetch with retries on 429/503 and connection errors; { status, json, text }.
async function request(url, { method = 'GET', token, json, form } = {}) {
  const headers = {};
  if (token) headers.Authorization = `Bearer ${token}`;
  if (json !== undefined) headers['Content-Type'] = 'application/json';
  for (let attempt = 1; ; attempt++) {
    try {
      const res = await fetch(url, { method, headers, body: json !== undefined ? JSON.stringify(json) : form });
      const text = await res.text();
      if ((res.status === 429 || res.status === 503) && attempt < 5) {
        await sleep(200 * 2 ** attempt);
        continue;
      }
      let body;
      try {
        body = text ? JSON.parse(text) : undefined;
      } catch {
        body = undefined;
      }
      return { status: res.status, json: body, text };
    } catch (e) {
      if (attempt >= 5) throw new Error(`${method} ${url}: ${e.cause?.code || e.message}`);
      await sleep(200 * 2 ** attempt);
    }
  }
}
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
const missingRoute = (res) => res.status === 404 || res.status === 405;

// Run 'fn' over 'items' with at most CONCURRENCY at a time.
async function pool(items, fn) {
  let next = 0;
  const worker = async () => {
    while (next < items.length) await fn(items[next++]);
  };
  await Promise.all(Array.from({ length: Math.min(CONCURRENCY, items.length) }, worker));
}

// ---- categories --------------------------------------------------------------

// slug -> id of every category in GET /categories (a tree, or a list).
function collectCategories(node, into = new Map()) {
  if (Array.isArray(node)) node.forEach((n) => collectCategories(n, into));
  else if (node && typeof node === 'object') {
    if (typeof node.slug === 'string' && typeof node.id === 'string') into.set(node.slug, node.id);
    for (const v of Object.values(node)) if (typeof v === 'object') collectCategories(v, into);
  }
  return into;
}

// Create the missing categories, parents first; slug -> id, or null when
// the platform has no category API yet.
async function seedCategories(api, stats) {
  const list = await api('GET', '/categories');
  if (missingRoute(list)) return null;
  const ids = list.status === 200 ? collectCategories(list.json) : new Map();
  for (const c of CATEGORIES) {
    if (ids.has(c.slug)) {
      stats.categoriesKept++;
      continue;
    }
    const body = { name: c.name, slug: c.slug, description: c.description };
    if (c.parent) body.parentId = ids.get(c.parent);
    const res = await api('POST', '/categories', body);
    if (missingRoute(res)) return null;
    if (res.status === 201) {
      ids.set(c.slug, res.json.id);
      stats.categoriesCreated++;
    } else if (res.status === 409) {
      stats.categoriesKept++; // created meanwhile; its id comes from the list below
    } else throw new Error(`POST /categories ${c.slug}: ${res.status} ${res.text}`);
  }
  const again = await api('GET', '/categories');
  if (again.status === 200) for (const [k, v] of collectCategories(again.json)) ids.set(k, v);
  return ids;
}

// ---- products ------------------------------------------------------------------

// A deterministic PRNG (mulberry32): the same seed gives the same catalog.
function prng(seed) {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const slugify = (s) =>
  s.toLowerCase().normalize('NFKD').replace(/[^a-z0-9]+/g, '-').replace(/^-|-$/g, '');

// Product number i (0-based) of the demo catalog, as POST /products takes it.
export function demoProduct(i) {
  const rnd = prng(i * 7919 + 17);
  const pick = (a) => a[Math.floor(rnd() * a.length)];
  const line = LINES[i % LINES.length];
  const brand = pick(line.brands);
  const noun = pick(line.nouns);
  const colour = pick(Object.keys(COLOURS));
  const material = pick(line.materials);
  const model = `${pick(['S', 'X', 'Pro', 'Air', 'Max', 'Lite', 'One', 'Neo'])} ${1 + Math.floor(rnd() * 9)}`;
  const name = `${brand} ${pick(line.adjectives)} ${noun} ${model}`;
  const sku = `DEMO-${line.code}-${String(i + 1).padStart(5, '0')}`;
  const [lo, hi] = line.price;
  const price = (lo + Math.floor(rnd() * (hi - lo))) * 100 + 99; // minor units, x.99
  const attributes = { brand, color: colour, material };
  if (line.sizes) attributes.size = pick(line.sizes);
  return {
    name,
    sku,
    slug: `${slugify(name)}-${sku.toLowerCase()}`,
    description:
      `The ${name} by ${brand}: ${pick(line.pitches)} Made of ${material.toLowerCase()}, ` +
      `in ${colour.toLowerCase()}. ${pick(line.details)}`,
    price,
    currency: 'EUR',
    quantity: rnd() < 0.08 ? 0 : Math.floor(rnd() * 200) + 1,
    lowStockThreshold: pick([5, 5, 10, 20]),
    attributes,
    categorySlug: line.category,
    isActive: rnd() >= 0.03,
    initials: `${brand[0]}${noun[0]}`,
    rgb: COLOURS[colour],
  };
}

// A product's image upload; 'created', 'missing' (no upload API) or throws.
async function uploadImage(env, token, id, p) {
  const form = new FormData();
  form.append('file', new Blob([productPng(p.rgb, p.initials)], { type: 'image/png' }), `${p.slug}.png`);
  form.append('alt', p.name);
  const res = await request(`${env.CATALOG_SERVICE_URL}/products/${id}/images`, { method: 'POST', token, form });
  if (res.status === 201) return 'created';
  if (missingRoute(res)) return 'missing';
  throw new Error(`POST /products/${id}/images: ${res.status} ${res.text}`);
}

// The id and image count of an existing product (by its slug), or null.
async function existingProduct(api, slug) {
  const res = await api('GET', `/products/slug/${encodeURIComponent(slug)}`);
  return res.status === 200 ? { id: res.json.id, images: res.json.images?.length ?? 0 } : null;
}

async function seedProduct(ctx, i) {
  const { api, categories, stats } = ctx;
  const p = demoProduct(i);
  const { initials, rgb, categorySlug, ...body } = p;
  const category = categories?.get(categorySlug);
  if (category) body.categories = [category];
  const res = await api('POST', '/products', body);
  let target = null;
  if (res.status === 201) {
    stats.productsCreated++;
    target = { id: res.json.id, images: 0 };
  } else if (res.status === 409) {
    stats.productsKept++;
    target = ctx.imagesOn ? await existingProduct(api, p.slug) : null;
  } else if (missingRoute(res)) {
    ctx.productsMissing = true;
    return;
  } else throw new Error(`POST /products ${p.sku}: ${res.status} ${res.text}`);
  if (!ctx.imagesOn || !target || target.images > 0) return;
  const up = await uploadImage(ctx.env, ctx.token, target.id, { ...p, initials, rgb });
  if (up === 'created') stats.imagesUploaded++;
  else if (stats.imagesUploaded === 0) ctx.imagesOn = false; // the route is not there: stop trying
}

// ---- main ------------------------------------------------------------------------

async function main() {
  const opts = parseArgs(process.argv.slice(2));
  const env = readEnv(opts.envFile);
  const login = await request(`${env.AUTH_SERVICE_URL}/auth/login`, {
    method: 'POST',
    json: { email: env.SUPERADMIN_EMAIL, password: env.SUPERADMIN_PASSWORD },
  });
  if (login.status !== 200) throw new Error(`login as ${env.SUPERADMIN_EMAIL}: ${login.status} ${login.text}`);
  const token = login.json.accessToken;
  const api = (method, p, json) => request(`${env.CATALOG_SERVICE_URL}${p}`, { method, token, json });
  const stats = { categoriesCreated: 0, categoriesKept: 0, productsCreated: 0, productsKept: 0, imagesUploaded: 0, failures: [] };
  console.log(`seeding the catalog at ${env.CATALOG_SERVICE_URL} (env ${opts.envFile})`);

  const categories = await seedCategories(api, stats);
  if (categories) console.log(`categories: ${stats.categoriesCreated} created, ${stats.categoriesKept} already there`);
  else console.log('categories: skipped, the catalog has no category API (GET/POST /categories answer 404/405)');

  const ctx = { env, token, api, categories, stats, imagesOn: opts.images, productsMissing: false, done: 0 };
  const t0 = Date.now();
  const indexes = Array.from({ length: opts.products }, (_, i) => i);
  await pool(indexes, async (i) => {
    if (ctx.productsMissing) return;
    try {
      await seedProduct(ctx, i);
    } catch (e) {
      // One bad product must not stop the other thousands: count it, say why.
      if (stats.failures.push(e.message) <= 5) console.error(`  failed: ${e.message}`);
    }
    if (++ctx.done % 500 === 0) console.log(`  ${ctx.done}/${opts.products} products ...`);
  });
  if (ctx.productsMissing) {
    console.log('products: skipped, the catalog has no POST /products yet (404/405)');
    return;
  }
  const secs = ((Date.now() - t0) / 1000).toFixed(1);
  console.log(`products: ${stats.productsCreated} created, ${stats.productsKept} already there (SKU taken) in ${secs} s`);
  if (!opts.images) console.log('images: not asked for (--images=none)');
  else if (!ctx.imagesOn) console.log('images: skipped, the catalog has no POST /products/:id/images yet (404/405)');
  else console.log(`images: ${stats.imagesUploaded} uploaded (products that had one were left alone)`);
  if (stats.failures.length) {
    console.error(`${stats.failures.length} products failed (run again to retry them)`);
    process.exitCode = 1;
  }
}

// Run when executed, not when imported (demoProduct is reused by tests).
if (import.meta.url === pathToFileURL(process.argv[1] || '').href)
  main().catch((e) => {
    console.error(`seed failed: ${e.message}`);
    process.exit(1);
  });
