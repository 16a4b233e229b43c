/**
 * Filter events: one per decision the DNS filter or the proxy makes. They feed the request log,
 * monitoring and reports. The data plane hands them to an EventSink, which batches them to
 * storage; the hot path never waits for the database.
 */
import type { DecisionLayer, FilterAction } from './policy/index.ts';

export const EVENT_SOURCES = ['dns', 'doh', 'proxy'] as const;
export type EventSource = (typeof EVENT_SOURCES)[number];

export interface FilterEvent {
  /** ISO-8601 UTC. */
  at: string;
  source: EventSource;
  schoolId: string | null;
  clientIp: string | null;
  personId: string | null;
  deviceId: string | null;
  /** The policy profile the person fell into ("ks2", "guests"). */
  profile: string | null;
  host: string;
  url: string | null;
  /** DNS question type ("A", "AAAA", "HTTPS"); null for proxy events. */
  qtype: string | null;
  category: string | null;
  /** The list that matched ("ut1/adult"); logs only, never a block page. */
  list: string | null;
  action: FilterAction;
  layer: DecisionLayer | 'circumvention' | 'safesearch' | 'error';
  ruleId: string | null;
  flagged: boolean;
  /** Time from receiving the request to answering it, in microseconds. */
  latencyUs: number;
  /** Proxy events: the HTTP method ("GET", "CONNECT"), the answer's status, and bytes each way. */
  method?: string | null;
  status?: number | null;
  bytesIn?: number | null;
  bytesOut?: number | null;
  /** What was searched for, when the URL is a search engine's (intercepted or plain HTTP). */
  searchTerm?: string | null;
  /** The person went on past a warning page to reach this. */
  warnContinued?: boolean;
}

export interface StoredFilterEvent extends FilterEvent {
  id: number;
}

export interface EventSink {
  /** Queues an event; never throws, never waits. */
  write(event: FilterEvent): void;
  /** Writes everything queued so far. */
  flush(): Promise<void>;
  /** Flushes, then refuses further writes. */
  close(): Promise<void>;
  stats(): EventSinkStats;
}

export interface EventSinkStats {
  queued: number;
  written: number;
  /** Batches that failed to store and were kept in the spool for later. */
  spooled: number;
  /** Events lost because the queue was full (the database down for a long time). */
  dropped: number;
}

export interface EventQuery {
  schoolIds: 'all' | readonly string[];
  since?: string | undefined;
  until?: string | undefined;
  /** Substring of the host. */
  host?: string | undefined;
  personId?: string | undefined;
  clientIp?: string | undefined;
  action?: FilterAction | undefined;
  category?: string | undefined;
  source?: EventSource | undefined;
  /** Events with id below this, for paging back in time. */
  beforeId?: number | undefined;
  limit: number;
}

export interface EventRepository {
  insertBatch(events: readonly FilterEvent[]): Promise<void>;
  /** Newest first. */
  query(q: EventQuery): Promise<StoredFilterEvent[]>;
  /** Deletes events older than `before`, by the retention schedule; returns how many. */
  deleteBefore(before: string, limit: number): Promise<number>;
}
