/**
 * Ports for importing category lists and the illegal-content lists: reading a UT1/squidGuard tree,
 * downloading, unpacking a .tar.gz, and the few file operations the list service needs (atomic
 * writes above all). src/adapters/lists implements them with node:fs, fetch and zlib.
 */
import type { SourceList } from './classify/types.ts';
import type { IllegalListEntries, IllegalSource } from './illegal-tier.ts';

// The classification contract, for the list service (core/classify/index.ts exports the same types).
export type { Classifier, ListMatch, SourceList } from './classify/types.ts';

export type ListFileKind = 'domains' | 'urls' | 'expressions';

/** One list as read from a tree, with what was skipped. */
export interface LoadedList extends SourceList {
  /** Lines that were not valid entries (counted, not fatal). */
  malformed: number;
  /** Entries dropped because the category map excludes them. */
  excluded: number;
}

export interface ListTree {
  /** The folder the list names are relative to (after unwrapping). */
  root: string;
  lists: LoadedList[];
  /** Lists found but not read because `include` refused them. */
  skipped: string[];
  malformed: number;
  /** Readable notes: the first malformed lines ("ut1/x/domains:12: reason"), skipped symlinks… */
  warnings: string[];
}

export interface TreeProgress {
  list: string;
  file: ListFileKind;
  /** Bytes read so far over every file to be read, and their total. */
  bytesDone: number;
  bytesTotal: number;
  entries: number;
}

export interface TreeLoadOptions {
  /**
   * Lists directly under the root (one path segment, e.g. "adult") are named "<sourceName>/adult",
   * so every list name has a source folder; a list file at the root itself is named sourceName.
   */
  sourceName: string;
  /**
   * When the root holds nothing but one folder (hidden files aside) — the wrapper folder of a
   * tarball such as UT1's `blacklists/` — read below that folder instead.
   */
  unwrapSingleFolder?: boolean;
  /** Only lists for which this returns true are read; the others are reported in `skipped`. */
  include?: (listName: string) => boolean;
  /** Entries to drop from a list (compared after normalisation). */
  exclude?: (listName: string) => ReadonlySet<string> | undefined;
  onProgress?: (p: TreeProgress) => void;
}

export interface DownloadOptions {
  maxBytes: number;
  /** Whole download. */
  timeoutMs: number;
  /** No byte for this long aborts it. */
  idleTimeoutMs: number;
  onProgress?: (bytes: number, total: number | null) => void;
}

export interface ExtractOptions {
  maxBytes: number;
  maxFileBytes: number;
  maxEntries: number;
  onProgress?: (bytes: number, entries: number) => void;
}

export interface ExtractResult {
  files: number;
  bytes: number;
  /** Entries skipped on purpose (symlinks and hard links inside the tree: UT1's category aliases). */
  notes: string[];
}

export interface IllegalListLoad {
  entries: IllegalListEntries;
  lines: number;
  malformed: number;
  /** First malformed lines by number only: the entries themselves are never echoed. */
  warnings: string[];
}

export type PathKind = 'file' | 'directory' | null;

export interface ListsPorts {
  loadTree(root: string, options: TreeLoadOptions): Promise<ListTree>;
  /** Downloads to `toFile` (created), failing on HTTP errors, size limit, timeouts and short bodies. */
  download(url: string, toFile: string, options: DownloadOptions): Promise<{ bytes: number }>;
  /** Unpacks a .tar.gz (or plain .tar) into `toDir`, refusing path traversal, outside links and absurd sizes. */
  extractArchive(file: string, toDir: string, options: ExtractOptions): Promise<ExtractResult>;
  loadIllegalList(file: string, source: Exclude<IllegalSource, 'canary'>): Promise<IllegalListLoad>;
  kindOf(path: string): Promise<PathKind>;
  makeTempDir(parent: string, prefix: string): Promise<string>;
  removeAll(path: string): Promise<void>;
  /** Names in a folder, sorted; empty when it does not exist. */
  listDir(path: string): Promise<string[]>;
  /** The file's bytes, or null when it does not exist. */
  readFile(path: string): Promise<Uint8Array | null>;
  /** Writes a temporary file beside `path`, fsyncs it, renames it over `path` and fsyncs the folder. */
  writeFileAtomic(path: string, data: Uint8Array | string, options?: { mode?: number }): Promise<void>;
  /** Creates `path` exclusively; returns a release function, or null when another holder has it (stale after staleMs). */
  tryLock(path: string, staleMs: number): Promise<(() => Promise<void>) | null>;
}
