/**
 * The kernelspec's logos, drawn here (no image files to ship): a supervision tree — a supervisor above three
 * workers — on a TypeScript-blue rounded square. PNG is encoded by hand (zlib + CRC-32): it needs no dependency.
 */
import { deflateSync } from "node:zlib";
import { crc32 } from "./crc32.js";

type RGBA = [number, number, number, number];

const BLUE: RGBA = [49, 120, 198, 255];
const WHITE: RGBA = [255, 255, 255, 255];
const ORANGE: RGBA = [255, 166, 43, 255];

/** Signed distance helpers in unit coordinates (0..1). */
function inRoundedSquare(x: number, y: number, r: number): boolean {
  const cx = Math.min(Math.max(x, r), 1 - r);
  const cy = Math.min(Math.max(y, r), 1 - r);
  return (x - cx) ** 2 + (y - cy) ** 2 <= r * r;
}

function nearSegment(x: number, y: number, ax: number, ay: number, bx: number, by: number, w: number): boolean {
  const dx = bx - ax;
  const dy = by - ay;
  const t = Math.max(0, Math.min(1, ((x - ax) * dx + (y - ay) * dy) / (dx * dx + dy * dy)));
  return (x - ax - t * dx) ** 2 + (y - ay - t * dy) ** 2 <= w * w;
}

function colourAt(x: number, y: number): RGBA | null {
  if (!inRoundedSquare(x, y, 0.18)) return null;
  const top = [0.5, 0.3] as const;
  const leaves = [
    [0.22, 0.72],
    [0.5, 0.72],
    [0.78, 0.72],
  ] as const;
  if ((x - top[0]) ** 2 + (y - top[1]) ** 2 <= 0.12 ** 2) return ORANGE;
  for (const [lx, ly] of leaves) if ((x - lx) ** 2 + (y - ly) ** 2 <= 0.095 ** 2) return WHITE;
  for (const [lx, ly] of leaves) if (nearSegment(x, y, top[0], top[1], lx, ly, 0.03)) return WHITE;
  return BLUE;
}

/** RGBA pixels of the logo at `size`×`size`, 4×4 supersampled. */
export function drawLogo(size: number): Uint8Array {
  const px = new Uint8Array(size * size * 4);
  const S = 4;
  for (let j = 0; j < size; j++) {
    for (let i = 0; i < size; i++) {
      const acc = [0, 0, 0, 0];
      for (let sy = 0; sy < S; sy++) {
        for (let sx = 0; sx < S; sx++) {
          const c = colourAt((i + (sx + 0.5) / S) / size, (j + (sy + 0.5) / S) / size);
          if (!c) continue;
          acc[0]! += c[0] * c[3];
          acc[1]! += c[1] * c[3];
          acc[2]! += c[2] * c[3];
          acc[3]! += c[3];
        }
      }
      const o = (j * size + i) * 4;
      const a = acc[3]!;
      px[o] = a ? Math.round(acc[0]! / a) : 0;
      px[o + 1] = a ? Math.round(acc[1]! / a) : 0;
      px[o + 2] = a ? Math.round(acc[2]! / a) : 0;
      px[o + 3] = Math.round(a / (S * S));
    }
  }
  return px;
}

function chunk(type: string, data: Uint8Array): Buffer {
  const out = Buffer.alloc(12 + data.length);
  out.writeUInt32BE(data.length, 0);
  out.write(type, 4, "latin1");
  Buffer.from(data).copy(out, 8);
  out.writeUInt32BE(crc32(out.subarray(4, 8 + data.length)), 8 + data.length);
  return out;
}

/** Encodes RGBA pixels as a PNG file. */
export function encodePng(width: number, height: number, rgba: Uint8Array): Buffer {
  const ihdr = Buffer.alloc(13);
  ihdr.writeUInt32BE(width, 0);
  ihdr.writeUInt32BE(height, 4);
  ihdr[8] = 8; // bit depth
  ihdr[9] = 6; // RGBA
  const raw = Buffer.alloc((width * 4 + 1) * height);
  for (let y = 0; y < height; y++) {
    raw[y * (width * 4 + 1)] = 0; // filter: none
    Buffer.from(rgba.buffer, rgba.byteOffset + y * width * 4, width * 4).copy(raw, y * (width * 4 + 1) + 1);
  }
  const signature = Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);
  return Buffer.concat([signature, chunk("IHDR", ihdr), chunk("IDAT", deflateSync(raw)), chunk("IEND", new Uint8Array(0))]);
}

export function logoPng(size: number): Buffer {
  return encodePng(size, size, drawLogo(size));
}

export const LOGO_SVG = `<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 100 100" width="64" height="64">
  <rect width="100" height="100" rx="18" fill="rgb(49,120,198)"/>
  <g stroke="#fff" stroke-width="6">
    <line x1="50" y1="30" x2="22" y2="72"/><line x1="50" y1="30" x2="50" y2="72"/><line x1="50" y1="30" x2="78" y2="72"/>
  </g>
  <circle cx="50" cy="30" r="12" fill="rgb(255,166,43)"/>
  <circle cx="22" cy="72" r="9.5" fill="#fff"/><circle cx="50" cy="72" r="9.5" fill="#fff"/><circle cx="78" cy="72" r="9.5" fill="#fff"/>
</svg>
`;
