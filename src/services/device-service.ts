/**
 * School devices: laptops, tablets and desktops Haven recognises by a DoH token
 * (`/dns-query/<token>`, for a laptop at home) or by a registered static address on site. A device
 * may be given to a pupil or a member of staff, whose policy group then applies to it.
 *
 * The token is 32 random bytes (base64url), shown once when the device is registered or its token
 * is rotated; Haven keeps only its SHA-256. Revoked devices are kept (the filter log still names
 * them) but no longer recognised. Every change is audited; tokens never reach the audit log.
 */
import { randomBytes } from 'node:crypto';
import { isIP } from 'node:net';
import {
  DomainError,
  invalid,
  notFound,
  parseIpAddress,
  type DeviceChanges,
  type DeviceListItem,
  type DeviceRecord,
  type Person,
} from '../core/index.ts';
import { recordAudit } from './audit-recorder.ts';
import { nowIso, type RequestContext, type ServiceDeps } from './context.ts';
import { hashDeviceToken } from './identity-directory.ts';

export const DEVICE_KINDS = ['laptop', 'desktop', 'tablet', 'phone', 'other'] as const;
export type DeviceKind = (typeof DEVICE_KINDS)[number];

export const MAX_DEVICE_LABEL = 80;

export interface DeviceInput {
  label: string;
  kind: DeviceKind;
  /** The pupil or member of staff the device is given to. */
  personId?: string | null | undefined;
  ip?: string | null | undefined;
  mac?: string | null | undefined;
}

export type DeviceUpdate = Partial<DeviceInput>;

export interface DeviceView {
  id: string;
  schoolId: string;
  label: string;
  kind: DeviceKind;
  personId: string | null;
  personName: string | null;
  ip: string | null;
  mac: string | null;
  createdAt: string;
  updatedAt: string;
  revokedAt: string | null;
}

/** What registering a device or rotating its token returns: the only time the token is seen. */
export interface DeviceWithToken {
  device: DeviceView;
  token: string;
  /** `/dns-query/<token>`: the DoH address to give the device, after this server's origin. */
  dohPath: string;
}

const view = (d: DeviceRecord, personName: string | null): DeviceView => ({
  id: d.id,
  schoolId: d.schoolId,
  label: d.label,
  kind: (DEVICE_KINDS as readonly string[]).includes(d.kind) ? (d.kind as DeviceKind) : 'other',
  personId: d.personId,
  personName,
  ip: d.ip,
  mac: d.mac,
  createdAt: d.createdAt,
  updatedAt: d.updatedAt,
  revokedAt: d.revokedAt,
});

/** A validation error that names the field, so forms can mark it. */
const bad = (field: 'label' | 'kind' | 'personId' | 'ip' | 'mac', message: string) => invalid(message, [{ path: `/${field}`, message }]);

const newToken = (): string => randomBytes(32).toString('base64url');
const dohPathOf = (token: string): string => `/dns-query/${token}`;

export const cleanDeviceLabel = (raw: string): string => {
  const label = raw.trim().replace(/\s+/g, ' ');
  if (!label) throw bad('label', 'Give the device a name, such as "Library laptop 4" or "Y6 iPad 12"');
  if (label.length > MAX_DEVICE_LABEL) throw bad('label', `The device name is longer than ${MAX_DEVICE_LABEL} characters`);
  if (/\p{Cc}/u.test(label)) throw bad('label', 'The device name contains control characters');
  return label;
};

const cleanKind = (raw: string): DeviceKind => {
  if (!(DEVICE_KINDS as readonly string[]).includes(raw))
    throw bad('kind', `"${raw}" is not a kind of device; use one of ${DEVICE_KINDS.join(', ')}`);
  return raw as DeviceKind;
};

/**
 * One static address in canonical text (10.0.0.5, 2001:db8::5; an IPv4-mapped IPv6 address
 * becomes plain IPv4), or null for empty. Ranges, zone ids and unspecified addresses are refused.
 */
export const normaliseDeviceIp = (raw: string | null | undefined): string | null => {
  const s = (raw ?? '').trim();
  if (!s) return null;
  if (s.includes('/')) throw bad('ip', `"${s}" is a range: register the one address this device always has`);
  if (s.includes('%')) throw bad('ip', `"${s}" has a zone id (%…): register the address without it`);
  const family = isIP(s);
  const words = parseIpAddress(s);
  if (family === 0 || !words) throw bad('ip', `"${s}" is not an IP address: write it like 10.0.0.5 or 2001:db8::5`);
  if (words.every((w) => w === 0) || (words[0] === 0 && words[1] === 0 && words[2] === 0xffff && words[3] === 0)) {
    throw bad('ip', `"${s}" is the unspecified address, which no device has`);
  }
  if (words[0] === 0 && words[1] === 0 && words[2] === 0xffff) {
    const v4 = words[3]!;
    return `${v4 >>> 24}.${(v4 >>> 16) & 255}.${(v4 >>> 8) & 255}.${v4 & 255}`;
  }
  // The WHATWG URL parser writes IPv6 the canonical way (RFC 5952: lower case, longest zero run as ::).
  return new URL(`http://[${s}]/`).hostname.slice(1, -1);
};

/** aa:bb:cc:dd:ee:ff from the usual ways of writing a MAC (colons, hyphens, Cisco dots, bare hex), or null for empty. */
export const normaliseMac = (raw: string | null | undefined): string | null => {
  const s = (raw ?? '').trim();
  if (!s) return null;
  const m =
    /^([0-9a-f]{2})([:-])([0-9a-f]{2})\2([0-9a-f]{2})\2([0-9a-f]{2})\2([0-9a-f]{2})\2([0-9a-f]{2})$/i.exec(s) ??
    /^()()([0-9a-f]{4})\.([0-9a-f]{4})\.([0-9a-f]{4})$/i.exec(s) ??
    /^()()([0-9a-f]{12})$/i.exec(s);
  if (!m) throw bad('mac', `"${s}" is not a MAC address: write it like aa:bb:cc:dd:ee:ff`);
  const hex = (m[1]! + m.slice(3).join('')).toLowerCase();
  const octets = hex.match(/../g)!;
  if (hex === '000000000000') throw bad('mac', `"${s}" is the all-zero MAC address, which no device has`);
  if (parseInt(hex.slice(0, 2), 16) & 1) throw bad('mac', `"${s}" is a multicast or broadcast MAC address, not a device's own`);
  return octets.join(':');
};

export interface DeviceServiceOptions {
  /** Called (and awaited) after every change, so the identity directory knows at once. */
  onChange?: () => Promise<void>;
}

export const createDeviceService = (deps: ServiceDeps, options: DeviceServiceOptions = {}) => {
  const { store } = deps;

  const changed = async () => {
    // A failed refresh keeps the last directory; the data plane's timer tries again.
    await options.onChange?.().catch(() => undefined);
  };

  const requireSchool = async (schoolId: string) => {
    if (!(await store.tenancy.getSchool(schoolId))) throw notFound('SCHOOL_NOT_FOUND', 'School');
  };

  const requireDevice = async (schoolId: string, deviceId: string): Promise<DeviceRecord> => {
    const d = await store.devices.get(deviceId);
    if (!d || d.schoolId !== schoolId) throw notFound('NOT_FOUND', 'Device');
    return d;
  };

  const requireActive = (d: DeviceRecord) => {
    if (d.revokedAt !== null) {
      throw new DomainError('CONFLICT', `"${d.label}" was revoked; register the device again to use it with Haven`, 409);
    }
  };

  const requirePerson = async (schoolId: string, personId: string): Promise<Person> => {
    const p = await store.people.get(personId);
    if (!p || p.schoolId !== schoolId) throw notFound('PERSON_NOT_FOUND', 'Person');
    if (p.kind !== 'pupil' && p.kind !== 'staff') {
      throw bad('personId', `A device can be given to a pupil or a member of staff, not a ${p.kind}`);
    }
    if (p.leftAt !== null) throw bad('personId', `${p.firstName} ${p.lastName} has left the school`);
    return p;
  };

  const assertFree = async (schoolId: string, field: 'label' | 'ip' | 'mac', value: string | null, selfId?: string) => {
    if (value === null) return;
    const other = await store.devices.findActive(schoolId, field, value);
    if (!other || other.id === selfId) return;
    const what = field === 'label' ? `called "${other.label}"` : field === 'ip' ? `with the address ${value}` : `with the MAC ${value}`;
    throw new DomainError('CONFLICT', `There is already a device ${what}${field === 'label' ? '' : ` ("${other.label}")`}`, 409);
  };

  const nameOf = (p: Person | null) => (p ? `${p.firstName} ${p.lastName}` : null);

  const personNameOf = async (personId: string | null): Promise<string | null> => {
    if (personId === null) return null;
    return nameOf(await store.people.get(personId));
  };

  return {
    async list(schoolId: string, options: { includeRevoked?: boolean } = {}): Promise<DeviceView[]> {
      await requireSchool(schoolId);
      const items: DeviceListItem[] = await store.devices.list(schoolId, options);
      return items.map((d) => view(d, d.personName));
    },

    async get(schoolId: string, deviceId: string): Promise<DeviceView> {
      const d = await requireDevice(schoolId, deviceId);
      return view(d, await personNameOf(d.personId));
    },

    async register(ctx: RequestContext, schoolId: string, input: DeviceInput): Promise<DeviceWithToken> {
      await requireSchool(schoolId);
      const label = cleanDeviceLabel(input.label);
      const kind = cleanKind(input.kind);
      const ip = normaliseDeviceIp(input.ip);
      const mac = normaliseMac(input.mac);
      const person = input.personId ? await requirePerson(schoolId, input.personId) : null;
      await assertFree(schoolId, 'label', label);
      await assertFree(schoolId, 'ip', ip);
      await assertFree(schoolId, 'mac', mac);
      const at = nowIso(deps);
      const token = newToken();
      const device: DeviceRecord = {
        id: deps.newId(),
        schoolId,
        label,
        kind,
        personId: person?.id ?? null,
        ip,
        mac,
        tokenHash: hashDeviceToken(token),
        createdAt: at,
        updatedAt: at,
        revokedAt: null,
      };
      await store.transaction(async (tx) => {
        await tx.devices.create(device);
        await recordAudit(tx, ctx, at, {
          action: 'device.registered',
          resourceType: 'device',
          resourceId: device.id,
          schoolId,
          detail: { kind, personId: device.personId, address: ip !== null, mac: mac !== null },
        });
      });
      await changed();
      return { device: view(device, nameOf(person)), token, dohPath: dohPathOf(token) };
    },

    async update(ctx: RequestContext, schoolId: string, deviceId: string, input: DeviceUpdate): Promise<DeviceView> {
      const current = await requireDevice(schoolId, deviceId);
      requireActive(current);
      const changes: DeviceChanges = {};
      if (input.label !== undefined) {
        const label = cleanDeviceLabel(input.label);
        if (label !== current.label) changes.label = label;
      }
      if (input.kind !== undefined) {
        const kind = cleanKind(input.kind);
        if (kind !== current.kind) changes.kind = kind;
      }
      if (input.personId !== undefined) {
        const personId = input.personId || null;
        if (personId !== current.personId) {
          if (personId !== null) await requirePerson(schoolId, personId);
          changes.personId = personId;
        }
      }
      if (input.ip !== undefined) {
        const ip = normaliseDeviceIp(input.ip);
        if (ip !== current.ip) changes.ip = ip;
      }
      if (input.mac !== undefined) {
        const mac = normaliseMac(input.mac);
        if (mac !== current.mac) changes.mac = mac;
      }
      const fields = Object.keys(changes);
      if (fields.length === 0) return view(current, await personNameOf(current.personId));
      if (changes.label !== undefined) await assertFree(schoolId, 'label', changes.label, deviceId);
      if (changes.ip !== undefined) await assertFree(schoolId, 'ip', changes.ip, deviceId);
      if (changes.mac !== undefined) await assertFree(schoolId, 'mac', changes.mac, deviceId);
      const at = nowIso(deps);
      await store.transaction(async (tx) => {
        await tx.devices.update(deviceId, changes, at);
        await recordAudit(tx, ctx, at, {
          action: 'device.updated',
          resourceType: 'device',
          resourceId: deviceId,
          schoolId,
          detail: { fields, ...(changes.personId !== undefined && { personId: changes.personId, previousPersonId: current.personId }) },
        });
      });
      await changed();
      const updated = { ...current, ...changes, updatedAt: at };
      return view(updated, await personNameOf(updated.personId));
    },

    async rotateToken(ctx: RequestContext, schoolId: string, deviceId: string): Promise<DeviceWithToken> {
      const current = await requireDevice(schoolId, deviceId);
      requireActive(current);
      const at = nowIso(deps);
      const token = newToken();
      await store.transaction(async (tx) => {
        if (!(await tx.devices.setTokenHash(deviceId, hashDeviceToken(token), at))) {
          throw new DomainError('CONFLICT', `"${current.label}" was revoked just now`, 409);
        }
        await recordAudit(tx, ctx, at, { action: 'device.token_rotated', resourceType: 'device', resourceId: deviceId, schoolId });
      });
      await changed();
      return { device: view({ ...current, updatedAt: at }, await personNameOf(current.personId)), token, dohPath: dohPathOf(token) };
    },

    async revoke(ctx: RequestContext, schoolId: string, deviceId: string): Promise<DeviceView> {
      const current = await requireDevice(schoolId, deviceId);
      const at = nowIso(deps);
      await store.transaction(async (tx) => {
        if (!(await tx.devices.revoke(deviceId, at))) {
          throw new DomainError('CONFLICT', `"${current.label}" has already been revoked`, 409);
        }
        await recordAudit(tx, ctx, at, { action: 'device.revoked', resourceType: 'device', resourceId: deviceId, schoolId });
      });
      await changed();
      return view({ ...current, revokedAt: at, updatedAt: at }, await personNameOf(current.personId));
    },
  };
};

export type DeviceService = ReturnType<typeof createDeviceService>;
