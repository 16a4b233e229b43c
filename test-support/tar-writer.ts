/**
 * A minimal ustar writer for tests: builds archives a real tar tool would refuse to make
 * (path traversal, links out of the tree, lying size fields) to prove the reader refuses them.
 */
import { gzipSync } from 'node:zlib';

export interface TarEntry {
  name: string;
  /** '0' file (default), '5' folder, '2' symlink, '1' hard link, 'x' pax header, 'L' GNU long name. */
  type?: string;
  data?: string | Buffer;
  linkname?: string;
  /** Size written in the header when it should differ from the data's. */
  headerSize?: number;
  /** Corrupt the checksum. */
  badChecksum?: boolean;
}

const field = (buf: Buffer, offset: number, length: number, value: string) => {
  buf.write(value.slice(0, length), offset, length, 'utf8');
};
const octal = (buf: Buffer, offset: number, length: number, n: number) =>
  field(buf, offset, length, `${n.toString(8).padStart(length - 1, '0')}\0`);

export const tarHeader = (e: TarEntry, size: number): Buffer => {
  const h = Buffer.alloc(512);
  field(h, 0, 100, e.name);
  octal(h, 100, 8, e.type === '5' ? 0o755 : 0o644);
  octal(h, 108, 8, 0);
  octal(h, 116, 8, 0);
  octal(h, 124, 12, e.headerSize ?? size);
  octal(h, 136, 12, 1_767_225_600);
  h.fill(0x20, 148, 156);
  field(h, 156, 1, e.type ?? '0');
  field(h, 157, 100, e.linkname ?? '');
  field(h, 257, 6, 'ustar\0');
  field(h, 263, 2, '00');
  let sum = 0;
  for (const b of h) sum += b;
  if (e.badChecksum) sum += 1;
  field(h, 148, 8, `${sum.toString(8).padStart(6, '0')}\0 `);
  return h;
};

export const tarBytes = (entries: readonly TarEntry[], options: { end?: boolean } = {}): Buffer => {
  const parts: Buffer[] = [];
  for (const e of entries) {
    const data = Buffer.from(e.data ?? '');
    parts.push(tarHeader(e, data.length), data, Buffer.alloc((512 - (data.length % 512)) % 512));
  }
  if (options.end !== false) parts.push(Buffer.alloc(1024));
  return Buffer.concat(parts);
};

export const tarGz = (entries: readonly TarEntry[], options: { end?: boolean } = {}): Buffer => gzipSync(tarBytes(entries, options));

/** A pax extended header entry setting `path` (and anything else) for the next entry. */
export const paxEntry = (records: Record<string, string>): TarEntry => {
  let body = '';
  for (const [k, v] of Object.entries(records)) {
    const rest = ` ${k}=${v}\n`;
    let len = rest.length + 1;
    while (`${len}${rest}`.length !== len) len++;
    body += `${len}${rest}`;
  }
  return { name: 'PaxHeader', type: 'x', data: body };
};
