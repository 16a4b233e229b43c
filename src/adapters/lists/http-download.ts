/**
 * Downloads a list archive over HTTP(S) with fetch into a file, with progress, a size limit, an
 * overall and an idle timeout. A body shorter than its Content-Length, a connection that drops
 * mid-transfer, or any HTTP error fails the download; the caller then keeps the old index. (When
 * the server sends no Content-Length, a short body is caught later: gzip checks its own length
 * and CRC when the archive is unpacked in full.)
 */
import { open, unlink } from 'node:fs/promises';
import type { DownloadOptions } from '../../core/index.ts';

export class DownloadError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'DownloadError';
  }
}

const describe = (err: unknown): string => {
  if (!(err instanceof Error)) return String(err);
  const cause = err.cause instanceof Error ? `: ${err.cause.message}` : '';
  return `${err.message}${cause}`;
};

export const downloadToFile = async (
  url: string,
  toFile: string,
  options: DownloadOptions & { fetch?: typeof fetch },
): Promise<{ bytes: number }> => {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    throw new DownloadError(`"${url}" is not a URL`);
  }
  if (parsed.protocol !== 'http:' && parsed.protocol !== 'https:')
    throw new DownloadError(`only http and https URLs can be downloaded (got ${parsed.protocol})`);
  const fetchImpl = options.fetch ?? fetch;
  const controller = new AbortController();
  let why = '';
  const abort = (reason: string) => {
    why = reason;
    controller.abort(new DownloadError(reason));
  };
  const overall = setTimeout(() => abort(`the download took longer than ${Math.round(options.timeoutMs / 1000)} s`), options.timeoutMs);
  let idle: NodeJS.Timeout | undefined;
  const touch = () => {
    clearTimeout(idle);
    idle = setTimeout(() => abort(`no data for ${Math.round(options.idleTimeoutMs / 1000)} s`), options.idleTimeoutMs);
  };
  let bytes = 0;
  let fh: Awaited<ReturnType<typeof open>> | undefined;
  try {
    touch();
    let res: Response;
    try {
      res = await fetchImpl(parsed, {
        signal: controller.signal,
        redirect: 'follow',
        // A compressed archive must arrive byte for byte, so Content-Length can be checked.
        headers: { 'accept-encoding': 'identity', 'user-agent': 'Haven-list-import' },
      });
    } catch (err) {
      throw new DownloadError(why || `could not connect to ${parsed.host}: ${describe(err)}`);
    }
    if (!res.ok) throw new DownloadError(`the server answered HTTP ${res.status} ${res.statusText}`.trim());
    const encoded = (res.headers.get('content-encoding') ?? 'identity').toLowerCase() !== 'identity';
    const lengthHeader = res.headers.get('content-length');
    const expected = lengthHeader !== null && !encoded && /^\d+$/.test(lengthHeader) ? Number(lengthHeader) : null;
    if (expected !== null && expected > options.maxBytes)
      throw new DownloadError(`the file is ${expected} bytes, over the ${options.maxBytes}-byte limit`);
    if (!res.body) throw new DownloadError('the server sent no body');
    fh = await open(toFile, 'w', 0o600);
    try {
      for await (const chunk of res.body as AsyncIterable<Uint8Array>) {
        touch();
        bytes += chunk.byteLength;
        if (bytes > options.maxBytes) {
          abort(`the download passed the ${options.maxBytes}-byte limit`);
          throw new DownloadError(why);
        }
        await fh.write(chunk);
        options.onProgress?.(bytes, expected);
      }
    } catch (err) {
      if (err instanceof DownloadError) throw err;
      throw new DownloadError(why || `the download was cut off after ${bytes} bytes (${describe(err)})`);
    }
    if (expected !== null && bytes !== expected)
      throw new DownloadError(`the download is incomplete: ${bytes} of ${expected} bytes arrived`);
    await fh.sync();
    await fh.close();
    fh = undefined;
    return { bytes };
  } catch (err) {
    await fh?.close().catch(() => undefined);
    await unlink(toFile).catch(() => undefined);
    throw err;
  } finally {
    clearTimeout(overall);
    clearTimeout(idle);
  }
};
