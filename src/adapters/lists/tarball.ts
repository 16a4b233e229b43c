/**
 * Unpacks a .tar.gz (or a plain .tar) with Node's zlib and a small streaming tar reader: ustar,
 * GNU long names and pax `path`/`linkpath`/`size` records, which covers what GNU tar, bsdtar and
 * UT1's publisher write. Refuses (throws, so the import fails and the old index keeps serving):
 * absolute paths, ".." segments, links that point outside the archive, bad header checksums, a
 * truncated archive or gzip stream, and anything over the size or entry limits. Regular files and
 * folders are written; symbolic links inside the tree (UT1's category aliases) are skipped and
 * noted; a hard link to a file already unpacked is copied.
 */
import { copyFile, mkdir, open, type FileHandle } from 'node:fs/promises';
import { createReadStream } from 'node:fs';
import path from 'node:path';
import { pipeline, type Readable } from 'node:stream';
import { createGunzip } from 'node:zlib';
import type { ExtractOptions, ExtractResult } from '../../core/index.ts';

const BLOCK = 512;
const MAX_META_BYTES = 1 << 20;

export class ArchiveError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ArchiveError';
  }
}

const cString = (buf: Buffer, start: number, length: number): string => {
  const field = buf.subarray(start, start + length);
  const nul = field.indexOf(0);
  return field.subarray(0, nul === -1 ? field.length : nul).toString('utf8');
};

const numeric = (buf: Buffer, start: number, length: number): number => {
  const field = buf.subarray(start, start + length);
  if ((field[0]! & 0x80) !== 0) {
    // GNU base-256: big-endian, first byte's top bit is the marker.
    let n = field[0]! & 0x7f;
    for (let i = 1; i < field.length; i++) n = n * 256 + field[i]!;
    return n;
  }
  const text = cString(buf, start, length).trim();
  if (text === '') return 0;
  if (!/^[0-7]+$/.test(text)) throw new ArchiveError(`corrupt tar header (bad number "${text}")`);
  return parseInt(text, 8);
};

const checksumOk = (header: Buffer): boolean => {
  let sum = 0;
  for (let i = 0; i < BLOCK; i++) sum += i >= 148 && i < 156 ? 32 : header[i]!;
  return sum === numeric(header, 148, 8);
};

/** pax records: "<len> <key>=<value>\n". */
const parsePax = (data: Buffer): Record<string, string> => {
  const out: Record<string, string> = {};
  let off = 0;
  while (off < data.length) {
    const space = data.indexOf(0x20, off);
    if (space === -1) break;
    const len = parseInt(data.subarray(off, space).toString('ascii'), 10);
    if (!Number.isFinite(len) || len <= 0 || off + len > data.length) throw new ArchiveError('corrupt pax header');
    const record = data.subarray(space + 1, off + len - 1).toString('utf8');
    const eq = record.indexOf('=');
    if (eq > 0) out[record.slice(0, eq)] = record.slice(eq + 1);
    off += len;
  }
  return out;
};

/** The entry's path inside the archive as safe segments; throws on anything that could escape. */
export const safeSegments = (name: string): string[] => {
  if (name.includes('\0')) throw new ArchiveError(`archive entry name holds a NUL byte`);
  if (name.startsWith('/') || /^[a-zA-Z]:/.test(name) || name.includes('\\'))
    throw new ArchiveError(`archive entry "${name}" has an absolute or Windows path`);
  const segments = name.split('/').filter((s) => s !== '' && s !== '.');
  if (segments.includes('..')) throw new ArchiveError(`archive entry "${name}" climbs out of the archive ("..")`);
  return segments;
};

type State =
  | { kind: 'header' }
  | { kind: 'data'; remaining: number; pad: number; sink: FileHandle | null; meta: Buffer[] | null; metaType: string }
  | { kind: 'pad'; remaining: number }
  | { kind: 'end' };

const isGzip = async (file: string): Promise<boolean> => {
  const fh = await open(file, 'r');
  try {
    const head = Buffer.alloc(2);
    const { bytesRead } = await fh.read(head, 0, 2, 0);
    return bytesRead === 2 && head[0] === 0x1f && head[1] === 0x8b;
  } finally {
    await fh.close();
  }
};

export const extractTarball = async (file: string, toDir: string, options: ExtractOptions): Promise<ExtractResult> => {
  const root = path.resolve(toDir);
  await mkdir(root, { recursive: true });
  const gz = await isGzip(file);
  const input: Readable = gz ? pipeline(createReadStream(file), createGunzip(), () => undefined) : createReadStream(file);

  const result: ExtractResult = { files: 0, bytes: 0, notes: [] };
  let entries = 0;
  let state: State = { kind: 'header' };
  const header = Buffer.alloc(BLOCK);
  let headerFill = 0;
  let longName: string | null = null;
  let longLink: string | null = null;
  let pax: Record<string, string> = {};
  let lastProgress = 0;

  const target = (segments: string[]): string => {
    const full = path.join(root, ...segments);
    if (full !== root && !full.startsWith(root + path.sep))
      throw new ArchiveError(`archive entry "${segments.join('/')}" escapes the folder`);
    return full;
  };

  const startEntry = async (h: Buffer): Promise<State> => {
    if (h.every((b) => b === 0)) return { kind: 'end' };
    if (!checksumOk(h)) throw new ArchiveError('corrupt tar header (checksum mismatch): not a tar archive, or damaged');
    const type = String.fromCharCode(h[156]!) === '\0' ? '0' : String.fromCharCode(h[156]!);
    let size = numeric(h, 124, 12);
    if (['L', 'K', 'x', 'g'].includes(type)) {
      if (size > MAX_META_BYTES) throw new ArchiveError('tar metadata header is absurdly large');
      return { kind: 'data', remaining: size, pad: (BLOCK - (size % BLOCK)) % BLOCK, sink: null, meta: [], metaType: type };
    }
    entries++;
    if (entries > options.maxEntries) throw new ArchiveError(`the archive has more than ${options.maxEntries} entries`);
    const magic = h.subarray(257, 263).toString('latin1');
    const prefix = magic === 'ustar\0' ? cString(h, 345, 155) : '';
    let name = longName ?? pax.path ?? (prefix ? `${prefix}/${cString(h, 0, 100)}` : cString(h, 0, 100));
    const linkName = longLink ?? pax.linkpath ?? cString(h, 157, 100);
    if (pax.size !== undefined) size = Number(pax.size);
    longName = longLink = null;
    pax = {};
    if (!Number.isSafeInteger(size) || size < 0) throw new ArchiveError('corrupt tar header (size)');
    const pad = (BLOCK - (size % BLOCK)) % BLOCK;
    if (type === '5' && name.endsWith('/')) name = name.slice(0, -1);
    const segments = safeSegments(name);
    const shown = segments.join('/');
    const skipData = (): State => ({ kind: 'data', remaining: size, pad, sink: null, meta: null, metaType: type });

    switch (type) {
      case '0':
      case '7': {
        if (segments.length === 0) throw new ArchiveError('archive entry with an empty name');
        if (size > options.maxFileBytes)
          throw new ArchiveError(`"${shown}" is ${size} bytes, over the ${options.maxFileBytes}-byte limit per file`);
        if (result.bytes + size > options.maxBytes) throw new ArchiveError(`the archive unpacks to more than ${options.maxBytes} bytes`);
        const dest = target(segments);
        await mkdir(path.dirname(dest), { recursive: true });
        const sink = await open(dest, 'w', 0o644);
        result.files++;
        return { kind: 'data', remaining: size, pad, sink, meta: null, metaType: type };
      }
      case '5':
        await mkdir(target(segments), { recursive: true });
        return skipData();
      case '2': {
        const dest = target(segments);
        const resolved = path.resolve(path.dirname(dest), linkName);
        if (linkName.startsWith('/') || (resolved !== root && !resolved.startsWith(root + path.sep)))
          throw new ArchiveError(`symbolic link "${shown}" points outside the archive ("${linkName}")`);
        result.notes.push(`skipped symbolic link ${shown} → ${linkName}`);
        return skipData();
      }
      case '1': {
        const from = target(safeSegments(linkName));
        const dest = target(segments);
        try {
          await mkdir(path.dirname(dest), { recursive: true });
          await copyFile(from, dest);
          result.files++;
        } catch {
          result.notes.push(`skipped hard link ${shown} → ${linkName} (target not unpacked)`);
        }
        return skipData();
      }
      default:
        result.notes.push(`skipped ${shown} (tar entry type "${type}" is not a file or folder)`);
        return skipData();
    }
  };

  const finishMeta = (type: string, data: Buffer) => {
    if (type === 'L') longName = cString(data, 0, data.length);
    else if (type === 'K') longLink = cString(data, 0, data.length);
    else if (type === 'x') pax = parsePax(data);
    // 'g' (global pax header) carries nothing Haven needs.
  };

  try {
    for await (const chunk of input as AsyncIterable<Buffer>) {
      let off = 0;
      while (off < chunk.length) {
        if (state.kind === 'end') {
          off = chunk.length; // trailing zero blocks / record padding
        } else if (state.kind === 'header') {
          const take = Math.min(BLOCK - headerFill, chunk.length - off);
          chunk.copy(header, headerFill, off, off + take);
          headerFill += take;
          off += take;
          if (headerFill === BLOCK) {
            headerFill = 0;
            state = await startEntry(header);
            if (state.kind === 'data' && state.remaining === 0) {
              await state.sink?.close();
              if (state.meta) finishMeta(state.metaType, Buffer.alloc(0));
              state = { kind: 'header' };
            }
          }
        } else if (state.kind === 'data') {
          const take = Math.min(state.remaining, chunk.length - off);
          const piece = chunk.subarray(off, off + take);
          if (state.sink) {
            await state.sink.write(piece);
            result.bytes += take;
          } else if (state.meta) state.meta.push(Buffer.from(piece));
          state.remaining -= take;
          off += take;
          if (state.remaining === 0) {
            await state.sink?.close();
            if (state.meta) finishMeta(state.metaType, Buffer.concat(state.meta));
            state = state.pad ? { kind: 'pad', remaining: state.pad } : { kind: 'header' };
          }
          if (options.onProgress && result.bytes - lastProgress >= 1 << 20) {
            lastProgress = result.bytes;
            options.onProgress(result.bytes, entries);
          }
        } else {
          const take = Math.min(state.remaining, chunk.length - off);
          state.remaining -= take;
          off += take;
          if (state.remaining === 0) state = { kind: 'header' };
        }
      }
    }
  } catch (err) {
    if (state.kind === 'data') await state.sink?.close().catch(() => undefined);
    if (err instanceof ArchiveError) throw err;
    throw new ArchiveError(`the archive could not be read: ${err instanceof Error ? err.message : String(err)}`);
  }
  if (state.kind !== 'end') {
    if (state.kind === 'data') await state.sink?.close();
    throw new ArchiveError(
      state.kind === 'header' && entries === 0 && !longName && !longLink
        ? 'not a tar archive (it ends before its first entry)'
        : state.kind === 'header' && headerFill === 0
          ? 'the archive ends without its end-of-archive marker (truncated?)'
          : 'the archive is truncated',
    );
  }
  options.onProgress?.(result.bytes, entries);
  return result;
};
