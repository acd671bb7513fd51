/**
 * A small ZIP writer (PKWARE APPNOTE 6.3, no ZIP64): each file deflated with node:zlib, or stored when that is
 * not smaller; UTF-8 names; Unix permissions in the external attributes (what `unzip` restores, so that
 * Gradescope's `run_autograder` is executable). Enough for an autograder of a few megabytes, without a
 * native dependency.
 */
import { deflateRawSync } from "node:zlib";
import { crc32 } from "../crc32.js";

export interface ZipEntry {
  /** Path inside the archive, with `/` separators. */
  name: string;
  data: Buffer | string;
  /** Unix permission bits (default 0o644). */
  mode?: number;
}

/** MS-DOS date and time (local time, 2-second resolution; 1980 at the earliest). */
function dosDateTime(d: Date): { date: number; time: number } {
  const year = Math.max(1980, d.getFullYear());
  return {
    date: ((year - 1980) << 9) | ((d.getMonth() + 1) << 5) | d.getDate(),
    time: (d.getHours() << 11) | (d.getMinutes() << 5) | Math.floor(d.getSeconds() / 2),
  };
}

export function zip(entries: readonly ZipEntry[], when = new Date()): Buffer {
  const { date, time } = dosDateTime(when);
  const locals: Buffer[] = [];
  const central: Buffer[] = [];
  let offset = 0;
  const names = new Set<string>();
  for (const e of entries) {
    if (names.has(e.name)) throw new Error(`zip: two entries named ${e.name}`);
    names.add(e.name);
    const name = Buffer.from(e.name, "utf8");
    const data = typeof e.data === "string" ? Buffer.from(e.data, "utf8") : e.data;
    const deflated = deflateRawSync(data, { level: 9 });
    const stored = deflated.length >= data.length;
    const body = stored ? data : deflated;
    const crc = crc32(data);
    if (body.length > 0xfffffffe || data.length > 0xfffffffe || offset > 0xfffffffe) throw new Error("zip: too large (no ZIP64)");
    const method = stored ? 0 : 8;
    const flags = 0x0800; // names are UTF-8

    const local = Buffer.alloc(30);
    local.writeUInt32LE(0x04034b50, 0);
    local.writeUInt16LE(20, 4); // version needed: 2.0 (deflate)
    local.writeUInt16LE(flags, 6);
    local.writeUInt16LE(method, 8);
    local.writeUInt16LE(time, 10);
    local.writeUInt16LE(date, 12);
    local.writeUInt32LE(crc, 14);
    local.writeUInt32LE(body.length, 18);
    local.writeUInt32LE(data.length, 22);
    local.writeUInt16LE(name.length, 26);
    local.writeUInt16LE(0, 28);
    locals.push(local, name, body);

    const cd = Buffer.alloc(46);
    cd.writeUInt32LE(0x02014b50, 0);
    cd.writeUInt16LE((3 << 8) | 30, 4); // made by: Unix, spec 3.0 (external attributes hold the mode)
    cd.writeUInt16LE(20, 6);
    cd.writeUInt16LE(flags, 8);
    cd.writeUInt16LE(method, 10);
    cd.writeUInt16LE(time, 12);
    cd.writeUInt16LE(date, 14);
    cd.writeUInt32LE(crc, 16);
    cd.writeUInt32LE(body.length, 20);
    cd.writeUInt32LE(data.length, 24);
    cd.writeUInt16LE(name.length, 28);
    // extra length, comment length, disk number start, internal attributes: 0
    cd.writeUInt32LE(((0o100000 | (e.mode ?? 0o644)) << 16) >>> 0, 38); // a regular file, its permissions
    cd.writeUInt32LE(offset, 42);
    central.push(cd, name);
    offset += local.length + name.length + body.length;
  }
  if (entries.length > 0xffff) throw new Error("zip: too many entries (no ZIP64)");
  const cdSize = central.reduce((a, b) => a + b.length, 0);
  const end = Buffer.alloc(22);
  end.writeUInt32LE(0x06054b50, 0);
  end.writeUInt16LE(entries.length, 8);
  end.writeUInt16LE(entries.length, 10);
  end.writeUInt32LE(cdSize, 12);
  end.writeUInt32LE(offset, 16);
  return Buffer.concat([...locals, ...central, end]);
}
