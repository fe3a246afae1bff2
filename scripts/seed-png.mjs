// seed-png.mjs - a tiny PNG encoder for the demo catalog's product images:
// a solid colour with up to three white letters or digits, drawn from a
// 5x7 bitmap font. No image library may be assumed on the machine, and a
// PNG is only a header, zlib-compressed rows and CRCs.
import { deflateSync } from 'node:zlib';

// 5x7 glyphs, one string of 7 rows of 5 bits each ('#' = ink).
// prettier-ignore
const FONT = {
  A: '.###.#...##...#######...##...##...#', B: '####.#...##...#####.#...##...#####.',
  C: '.###.#...##....#....#....#...#.###.', D: '####.#...##...##...##...##...#####.',
  E: '######....#....####.#....#....#####', F: '######....#....####.#....#....#....',
  G: '.###.#...##....#.####...##...#.###.', H: '#...##...##...#######...##...##...#',
  I: '.###...#....#....#....#....#...###.', J: '..###...#....#....#....#.#..#..##..',
  K: '#...##..#.#.#..##...#.#..#..#.#...#', L: '#....#....#....#....#....#....#####',
  M: '#...###.###.#.##...##...##...##...#', N: '#...###..##.#.##..###...##...##...#',
  O: '.###.#...##...##...##...##...#.###.', P: '####.#...##...#####.#....#....#....',
  Q: '.###.#...##...##...##.#.##..#..##.#', R: '####.#...##...#####.#.#..#..#.#...#',
  S: '.####.....#.....###.....#....#####.', T: '#####..#....#....#....#....#....#..',
  U: '#...##...##...##...##...##...#.###.', V: '#...##...##...##...##...#.#.#...#..',
  W: '#...##...##...##.#.##.#.##.#.#.#.#.', X: '#...##...#.#.#...#...#.#.#...##...#',
  Y: '#...##...#.#.#...#....#....#....#..', Z: '#####....#...#...#...#...#....#####',
  0: '.###.#...##..###.#.###..##...#.###.', 1: '..#...##....#....#....#....#...###.',
  2: '.###.#...#....#...#...#...#...#####', 3: '#####...#...#.....#.....##...#.###.',
  4: '...#...##..#.#.#..#.#####...#....#.', 5: '#####.....####.....#....##...#.###.',
  6: '..##..#...#....####.#...##...#.###.', 7: '#####....#...#...#...#....#....#...',
  8: '.###.#...##...#.###.#...##...#.###.', 9: '.###.#...##...#.####....#...#..##..',
};

// CRC-32 (ISO 3309) as PNG chunks need it.
const CRC_TABLE = Array.from({ length: 256 }, (_, n) => {
  let c = n;
  for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
  return c >>> 0;
});
function crc32(buf) {
  let c = 0xffffffff;
  for (const b of buf) c = CRC_TABLE[(c ^ b) & 0xff] ^ (c >>> 8);
  return (c ^ 0xffffffff) >>> 0;
}

// One PNG chunk: length, type, data, CRC.
export function chunk(type, data) {
  const len = Buffer.alloc(4);
  len.writeUInt32BE(data.length);
  const body = Buffer.concat([Buffer.from(type, 'ascii'), data]);
  const crc = Buffer.alloc(4);
  crc.writeUInt32BE(crc32(body));
  return Buffer.concat([len, body, crc]);
}

// Paint 'text' (A-Z, 0-9; others skipped) centred on an RGB raster.
function paintText(px, size, text, scale) {
  const glyphs = [...text.toUpperCase()].filter((ch) => FONT[ch]);
  const gap = scale;
  const width = glyphs.length * 5 * scale + Math.max(0, glyphs.length - 1) * gap;
  const x0 = Math.floor((size - width) / 2);
  const y0 = Math.floor((size - 7 * scale) / 2);
  glyphs.forEach((ch, g) => {
    for (let row = 0; row < 7; row++)
      for (let col = 0; col < 5; col++) {
        if (FONT[ch][row * 5 + col] !== '#') continue;
        for (let dy = 0; dy < scale; dy++)
          for (let dx = 0; dx < scale; dx++) {
            const x = x0 + g * (5 * scale + gap) + col * scale + dx;
            const y = y0 + row * scale + dy;
            px.fill(255, (y * size + x) * 3, (y * size + x) * 3 + 3);
          }
      }
  });
}

export const PNG_SIGNATURE = Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);

// The IHDR chunk of an 8-bit truecolour (RGB), non-interlaced image.
export function ihdr(width, height) {
  const h = Buffer.alloc(13);
  h.writeUInt32BE(width, 0);
  h.writeUInt32BE(height, 4);
  h.set([8, 2, 0, 0, 0], 8); // 8-bit depth, truecolour, deflate, no filter, no interlace
  return chunk('IHDR', h);
}

// A whole RGB PNG from its filtered rows (each row: a filter byte, then
// width x 3 bytes).
export function rgbPng(width, height, rows, level = 6) {
  return Buffer.concat([PNG_SIGNATURE, ihdr(width, height), chunk('IDAT', deflateSync(rows, { level })), chunk('IEND', Buffer.alloc(0))]);
}

// A size x size PNG (RGB, 8 bits) of colour [r, g, b] with 'text' on it.
export function productPng(rgb, text, size = 256) {
  const px = Buffer.alloc(size * size * 3);
  for (let i = 0; i < size * size; i++) px.set(rgb, i * 3);
  paintText(px, size, text.slice(0, 3), Math.floor(size / 24));
  // Each row starts with its filter type (0: none).
  const raw = Buffer.alloc(size * (size * 3 + 1));
  for (let y = 0; y < size; y++) px.copy(raw, y * (size * 3 + 1) + 1, y * size * 3, (y + 1) * size * 3);
  return rgbPng(size, size, raw);
}
