/**
 * Local wall-clock time for schedules, from a UTC instant and an IANA zone. Intl does the zone
 * arithmetic; the offset is memoised per quarter hour (every zone in use changes offset on a
 * quarter hour), so the hot path runs Intl about once per 15 minutes, not per request.
 */
import type { Weekday } from './types.ts';

const DAY_MS = 86_400_000;
const SLOT_MS = 15 * 60_000;

export interface LocalTime {
  /** Days since 1970-01-01 in local time. */
  day: number;
  /** 0 = Monday … 6 = Sunday. */
  weekday: number;
  /** Minutes since local midnight. */
  minute: number;
}

export const WEEKDAY_INDEX: Readonly<Record<Weekday, number>> = { mon: 0, tue: 1, wed: 2, thu: 3, fri: 4, sat: 5, sun: 6 };

/** 1970-01-01 was a Thursday. */
export const weekdayOfDay = (day: number): number => (((day + 3) % 7) + 7) % 7;

/** "2026-03-29" → days since the epoch, or null when it is not a real date. */
export const dayNumber = (isoDate: string): number | null => {
  const m = /^(\d{4})-(\d{2})-(\d{2})$/.exec(isoDate);
  if (!m) return null;
  const y = Number(m[1]);
  const mo = Number(m[2]);
  const d = Number(m[3]);
  const ms = Date.UTC(y, mo - 1, d);
  const check = new Date(ms);
  if (check.getUTCFullYear() !== y || check.getUTCMonth() !== mo - 1 || check.getUTCDate() !== d) return null;
  return ms / DAY_MS;
};

/** "08:30" → 510; "24:00" → 1440 when allowed; null otherwise. */
export const minuteOfDay = (hhmm: string, allowEndOfDay = false): number | null => {
  const m = /^(\d{2}):(\d{2})$/.exec(hhmm);
  if (!m) return null;
  const h = Number(m[1]);
  const min = Number(m[2]);
  if (allowEndOfDay && h === 24 && min === 0) return 1440;
  if (h > 23 || min > 59) return null;
  return h * 60 + min;
};

/** Whether Intl knows the zone. */
export const isTimeZone = (zone: string): boolean => {
  try {
    new Intl.DateTimeFormat('en-GB', { timeZone: zone });
    return true;
  } catch {
    return false;
  }
};

/** Offset of local time from UTC in milliseconds at an instant. */
const offsetAt = (format: Intl.DateTimeFormat, ms: number): number => {
  let y = 0;
  let mo = 0;
  let d = 0;
  let h = 0;
  let mi = 0;
  let s = 0;
  for (const part of format.formatToParts(ms)) {
    const v = Number(part.value);
    const t = part.type;
    if (t === 'year') y = v;
    else if (t === 'month') mo = v;
    else if (t === 'day') d = v;
    else if (t === 'hour') h = v === 24 ? 0 : v;
    else if (t === 'minute') mi = v;
    else if (t === 'second') s = v;
  }
  const asUtc = Date.UTC(y, mo - 1, d, h, mi, s);
  return asUtc - (ms - (((ms % 1000) + 1000) % 1000));
};

/** Turns instants into local times in one zone; keeps the last quarter hour's offset. */
export class ZoneClock {
  readonly timeZone: string;
  readonly #format: Intl.DateTimeFormat;
  #slot = Number.NaN;
  #offset = 0;
  /** Recent quarter hours seen, so requests stamped a little out of order do not thrash Intl. */
  readonly #recent = new Map<number, number>();

  constructor(timeZone: string) {
    this.timeZone = timeZone;
    this.#format = new Intl.DateTimeFormat('en-GB', {
      timeZone,
      hourCycle: 'h23',
      year: 'numeric',
      month: '2-digit',
      day: '2-digit',
      hour: '2-digit',
      minute: '2-digit',
      second: '2-digit',
    });
  }

  offsetMs(ms: number): number {
    const slot = Math.floor(ms / SLOT_MS);
    if (slot === this.#slot) return this.#offset;
    let offset = this.#recent.get(slot);
    if (offset === undefined) {
      offset = offsetAt(this.#format, ms);
      if (this.#recent.size >= 256) this.#recent.clear();
      this.#recent.set(slot, offset);
    }
    this.#slot = slot;
    this.#offset = offset;
    return offset;
  }

  local(ms: number): LocalTime {
    const localMs = ms + this.offsetMs(ms);
    const day = Math.floor(localMs / DAY_MS);
    return { day, weekday: weekdayOfDay(day), minute: Math.floor((localMs - day * DAY_MS) / 60_000) };
  }

  /** "14:30" local, for reasons ("open until 14:30"). */
  hhmm(ms: number): string {
    const { minute } = this.local(ms);
    return `${String(Math.floor(minute / 60)).padStart(2, '0')}:${String(minute % 60).padStart(2, '0')}`;
  }

  /** "2026-03-29" local. */
  isoDate(ms: number): string {
    return new Date(this.local(ms).day * DAY_MS).toISOString().slice(0, 10);
  }
}
