/**
 * DHCP lease files, read so the DNS filter can tell which registered device (by MAC address) is
 * behind an address the DHCP server handed out. Three formats are understood, told apart by
 * their content: dnsmasq's lease file (`expiry mac ip hostname client-id`), ISC dhcpd's
 * `dhcpd.leases` (`lease IP { … hardware ethernet MAC; ends … }`) and Kea's memfile CSV
 * (`address,hwaddr,…,expire,…,state`). Expired and released leases are left out; for an address
 * leased several times the latest lease wins. Nothing here throws on bad input: a line that does
 * not parse is counted and skipped.
 */

export interface DhcpLease {
  ip: string;
  /** Lower-case aa:bb:cc:dd:ee:ff. */
  mac: string;
  /** Seconds since the epoch; null when the lease never expires. */
  expires: number | null;
}

export interface DhcpLeaseFile {
  format: 'dnsmasq' | 'isc' | 'kea' | 'empty';
  leases: DhcpLease[];
  skipped: number;
}

const MAC = /^([0-9a-f]{2}[:-]){5}[0-9a-f]{2}$/i;
const IPV4 = /^(25[0-5]|2[0-4]\d|1?\d?\d)(\.(25[0-5]|2[0-4]\d|1?\d?\d)){3}$/;
const IPV6 = /^[0-9a-f:]+$/i;

const normaliseMac = (raw: string): string | null => (MAC.test(raw) ? raw.toLowerCase().replace(/-/g, ':') : null);
const isAddress = (raw: string): boolean => IPV4.test(raw) || (raw.includes(':') && IPV6.test(raw));

/** The latest lease per address, only those still valid at `nowSeconds`. */
const current = (leases: DhcpLease[], nowSeconds: number): DhcpLease[] => {
  const byIp = new Map<string, DhcpLease>();
  for (const l of leases) {
    // A later expired or released lease ends an earlier one for the same address.
    if (l.expires !== null && l.expires <= nowSeconds) byIp.delete(l.ip);
    else byIp.set(l.ip, l);
  }
  return [...byIp.values()];
};

const parseDnsmasq = (lines: string[]): { leases: DhcpLease[]; skipped: number } => {
  const leases: DhcpLease[] = [];
  let skipped = 0;
  for (const line of lines) {
    const [expiry, mac, ip] = line.trim().split(/\s+/);
    // "duid …" lines name the server's DHCPv6 identity, not a lease.
    if (expiry === 'duid') continue;
    const m = normaliseMac(mac ?? '');
    const seconds = Number(expiry);
    if (!m || !ip || !isAddress(ip) || !Number.isInteger(seconds)) {
      skipped++;
      continue;
    }
    leases.push({ ip, mac: m, expires: seconds === 0 ? null : seconds });
  }
  return { leases, skipped };
};

/** "ends 4 2026/11/25 10:00:00;" (UTC) or "ends never;" or "ends epoch 1764064800;". */
const iscTime = (text: string): number | null | undefined => {
  const t = text.trim();
  if (t === 'never') return null;
  const epoch = /^epoch (\d+)/.exec(t);
  if (epoch) return Number(epoch[1]);
  const m = /^\d (\d{4})\/(\d{2})\/(\d{2}) (\d{2}):(\d{2}):(\d{2})/.exec(t);
  if (!m) return undefined;
  return Date.UTC(Number(m[1]), Number(m[2]) - 1, Number(m[3]), Number(m[4]), Number(m[5]), Number(m[6])) / 1000;
};

const parseIsc = (text: string): { leases: DhcpLease[]; skipped: number } => {
  const leases: DhcpLease[] = [];
  let skipped = 0;
  // Blocks are bounded by braces; a block never nests in a lease file.
  const blocks = text.matchAll(/lease\s+([0-9a-fA-F:.]+)\s*\{([^}]*)\}/g);
  for (const [, ip, body] of blocks) {
    const mac = normaliseMac(/hardware ethernet ([0-9a-fA-F:-]+);/.exec(body ?? '')?.[1] ?? '');
    const ends = iscTime(/\bends ([^;]+);/.exec(body ?? '')?.[1] ?? 'never');
    const state = /binding state (\w+);/.exec(body ?? '')?.[1];
    if (!ip || !isAddress(ip) || !mac || ends === undefined) {
      skipped++;
      continue;
    }
    if (state !== undefined && state !== 'active') {
      // A freed or expired lease supersedes an earlier active one for the same address.
      leases.push({ ip, mac, expires: 0 });
      continue;
    }
    leases.push({ ip, mac, expires: ends });
  }
  return { leases, skipped };
};

const parseKea = (lines: string[]): { leases: DhcpLease[]; skipped: number } => {
  const [header, ...rows] = lines;
  const cols = (header ?? '').split(',').map((c) => c.trim());
  const at = (name: string) => cols.indexOf(name);
  const [iAddress, iHw, iExpire, iState] = [at('address'), at('hwaddr'), at('expire'), at('state')];
  const leases: DhcpLease[] = [];
  let skipped = 0;
  for (const row of rows) {
    const f = row.split(',');
    const ip = f[iAddress]?.trim() ?? '';
    const mac = normaliseMac(f[iHw]?.trim() ?? '');
    const expire = Number(f[iExpire]);
    if (!isAddress(ip) || !mac || !Number.isFinite(expire)) {
      skipped++;
      continue;
    }
    // Kea: state 0 is default (leased), 1 declined, 2 expired-reclaimed.
    const state = iState >= 0 ? Number(f[iState]) : 0;
    leases.push({ ip, mac, expires: state === 0 ? expire : 0 });
  }
  return { leases, skipped };
};

export const parseDhcpLeases = (text: string, nowSeconds: number): DhcpLeaseFile => {
  const lines = text.split(/\r?\n/).filter((l) => l.trim() !== '' && !l.trim().startsWith('#'));
  if (lines.length === 0) return { format: 'empty', leases: [], skipped: 0 };
  if (/^\s*lease\s+[0-9a-fA-F:.]+\s*\{/m.test(text)) {
    const r = parseIsc(text);
    return { format: 'isc', leases: current(r.leases, nowSeconds), skipped: r.skipped };
  }
  if (/^address,hwaddr,/.test(lines[0]!.trim())) {
    const r = parseKea(lines);
    return { format: 'kea', leases: current(r.leases, nowSeconds), skipped: r.skipped };
  }
  const r = parseDnsmasq(lines);
  return { format: 'dnsmasq', leases: current(r.leases, nowSeconds), skipped: r.skipped };
};
