/**
 * The school's (or trust's) interception root CA: an ECDSA P-256 key and a self-signed
 * certificate that managed devices trust, so the proxy can mint a certificate for any host it
 * decrypts. Kept as PEM in `HAVEN_DATA_DIR/ca/` (`ca.crt`, `ca.key`); the key file must be
 * readable by its owner only, and Haven refuses to load a key that others can read, because
 * anyone holding it can impersonate every website to every device that trusts the CA.
 *
 * Needs `reflect-metadata` loaded first (a dependency of @peculiar/x509): import this module
 * through the intercept entry module (`./index.ts`), which does that.
 */
import { createHash, createPrivateKey, randomBytes, webcrypto } from 'node:crypto';
import { chmod, mkdir, open, readFile, rename, rm, stat } from 'node:fs/promises';
import path from 'node:path';
import * as x509 from '@peculiar/x509';

/** The key algorithm of the CA and of every leaf: ECDSA P-256 with SHA-256, accepted by every current client. */
export const EC_ALGORITHM = { name: 'ECDSA', namedCurve: 'P-256', hash: 'SHA-256' } as const;

export const CA_DIR_NAME = 'ca';
export const CA_CERT_FILE = 'ca.crt';
export const CA_KEY_FILE = 'ca.key';
export const CA_VALIDITY_YEARS = 10;
/** Longest CN in X.509 (RFC 5280 ub-common-name). */
const MAX_CN = 64;
const CN_PREFIX = 'Haven ';
const CN_SUFFIX = ' Root CA';

export type CaErrorCode = 'CA_NOT_FOUND' | 'CA_EXISTS' | 'CA_KEY_EXPOSED' | 'CA_INVALID';

/** A CA problem the operator must fix; the message says how. Never contains key material. */
export class CaError extends Error {
  readonly code: CaErrorCode;
  constructor(code: CaErrorCode, message: string) {
    super(message);
    this.name = 'CaError';
    this.code = code;
  }
}

export interface InterceptionCa {
  /** The certificate's common name: "Haven Oakfield Learning Trust Root CA". */
  readonly commonName: string;
  readonly certificate: x509.X509Certificate;
  /** PEM of the certificate, to install on devices (and to hand to TLS clients in tests). */
  readonly certPem: string;
  /** DER of the certificate (Windows and Apple tools often want `.cer` in DER). */
  readonly certDer: Buffer;
  /** "AB:CD:…", SHA-256 over the DER: what an administrator compares on a device. */
  readonly fingerprintSha256: string;
  readonly notBefore: Date;
  readonly notAfter: Date;
  /** The private key, non-extractable once loaded: it signs leaves and is never written anywhere else. */
  readonly signingKey: CryptoKey;
}

export interface NewCa extends InterceptionCa {
  /** PKCS#8 PEM of the key, only for `saveCa`. */
  readonly keyPem: string;
}

const crypto = webcrypto as unknown as Crypto;

/** A random positive 128-bit serial (RFC 5280: positive, at most 20 bytes; CA/B asks for ≥ 64 random bits). */
export const randomSerial = (): string => {
  const bytes = randomBytes(16);
  bytes[0] = (bytes[0]! & 0x7f) | 0x40; // positive, and no leading zero byte
  return bytes.toString('hex');
};

const fingerprint = (der: Buffer): string =>
  createHash('sha256')
    .update(der)
    .digest('hex')
    .toUpperCase()
    .replace(/(..)(?!$)/g, '$1:');

/** Control characters out, whitespace runs to one space. */
const cleanName = (name: string): string =>
  name
    .replace(/[\u0000-\u001f\u007f]/g, ' ')
    .replace(/\s+/g, ' ')
    .trim();

/**
 * "Haven <name> Root CA", fitted into 64 characters (a long trust name is shortened at a word
 * boundary rather than refused, so `haven ca init` works with any HAVEN_TRUST_NAME).
 */
export const caCommonName = (name: string): string => {
  const clean = cleanName(name);
  if (clean === '') throw new CaError('CA_INVALID', 'The CA needs a name: the school or trust it belongs to');
  const room = MAX_CN - CN_PREFIX.length - CN_SUFFIX.length;
  let fitted = clean;
  if (fitted.length > room) {
    fitted = fitted.slice(0, room);
    const lastSpace = fitted.lastIndexOf(' ');
    if (lastSpace > room / 2) fitted = fitted.slice(0, lastSpace);
    fitted = fitted.trim();
  }
  return `${CN_PREFIX}${fitted}${CN_SUFFIX}`;
};

const describeCertificate = (certificate: x509.X509Certificate): Omit<InterceptionCa, 'signingKey'> => {
  const certDer = Buffer.from(certificate.rawData);
  const cn = certificate.subjectName.getField('CN')[0] ?? certificate.subject;
  return {
    commonName: cn,
    certificate,
    certPem: certificate.toString('pem') + '\n',
    certDer,
    fingerprintSha256: fingerprint(certDer),
    notBefore: certificate.notBefore,
    notAfter: certificate.notAfter,
  };
};

const wrap = (certificate: x509.X509Certificate, signingKey: CryptoKey): InterceptionCa => ({
  ...describeCertificate(certificate),
  signingKey,
});

const pemOfPkcs8 = (der: ArrayBuffer): string => x509.PemConverter.encode(der, 'PRIVATE KEY') + '\n';

/**
 * A new root CA named for the school or trust: CA with pathLen 0 (it signs leaves only, never
 * another CA), keyCertSign + cRLSign, 10 years, random serial. Nothing is written to disk.
 */
export const createCa = async (options: { name: string; now?: Date }): Promise<NewCa> => {
  const commonName = caCommonName(options.name);
  const organisation = cleanName(options.name).slice(0, MAX_CN);
  const now = options.now ?? new Date();
  // An hour back, so a device whose clock is a little behind still accepts it on day one.
  const notBefore = new Date(now.getTime() - 60 * 60 * 1000);
  const notAfter = new Date(notBefore);
  notAfter.setUTCFullYear(notAfter.getUTCFullYear() + CA_VALIDITY_YEARS);
  const keys = await crypto.subtle.generateKey(EC_ALGORITHM, true, ['sign', 'verify']);
  const name: x509.JsonName = [{ CN: [commonName] }, { O: [organisation] }];
  const certificate = await x509.X509CertificateGenerator.createSelfSigned(
    {
      serialNumber: randomSerial(),
      name,
      notBefore,
      notAfter,
      signingAlgorithm: EC_ALGORITHM,
      keys,
      extensions: [
        new x509.BasicConstraintsExtension(true, 0, true),
        new x509.KeyUsagesExtension(x509.KeyUsageFlags.keyCertSign | x509.KeyUsageFlags.cRLSign, true),
        await x509.SubjectKeyIdentifierExtension.create(keys.publicKey, false, crypto),
      ],
    },
    crypto,
  );
  const keyPem = pemOfPkcs8(await crypto.subtle.exportKey('pkcs8', keys.privateKey));
  return { ...wrap(certificate, keys.privateKey), keyPem };
};

export const caDirOf = (dataDir: string): string => path.join(dataDir, CA_DIR_NAME);
export const caPaths = (dataDir: string): { dir: string; cert: string; key: string } => {
  const dir = caDirOf(dataDir);
  return { dir, cert: path.join(dir, CA_CERT_FILE), key: path.join(dir, CA_KEY_FILE) };
};

const exists = async (file: string): Promise<boolean> => {
  try {
    await stat(file);
    return true;
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return false;
    throw e;
  }
};

/** Writes a file through a temporary name created with `mode` (never briefly wider), then renames it into place. */
const writeAtomically = async (file: string, content: string, mode: number): Promise<void> => {
  const tmp = `${file}.${randomBytes(6).toString('hex')}.tmp`;
  const handle = await open(tmp, 'wx', mode);
  try {
    await handle.writeFile(content, 'utf8');
    await handle.sync();
  } finally {
    await handle.close();
  }
  try {
    await chmod(tmp, mode); // the umask may have narrowed it further; make it exact
    await rename(tmp, file);
  } catch (e) {
    await rm(tmp, { force: true });
    throw e;
  }
};

/**
 * Saves the CA as PEM in `dataDir/ca/` (folder 0700, key 0600, certificate 0644). Refuses to
 * replace an existing CA unless `force`: devices that trust the old one would stop trusting Haven.
 */
export const saveCa = async (dataDir: string, ca: NewCa, options: { force?: boolean } = {}): Promise<{ cert: string; key: string }> => {
  const paths = caPaths(dataDir);
  if (!options.force && ((await exists(paths.key)) || (await exists(paths.cert))))
    throw new CaError(
      'CA_EXISTS',
      `A CA already exists in ${paths.dir}. Replacing it means installing the new certificate on every device again; use --force if you mean to.`,
    );
  await mkdir(paths.dir, { recursive: true, mode: 0o700 });
  if (process.platform !== 'win32') await chmod(paths.dir, 0o700);
  // Key first: a certificate without its key is refused on load, never used.
  await writeAtomically(paths.key, ca.keyPem, 0o600);
  await writeAtomically(paths.cert, ca.certPem, 0o644);
  return { cert: paths.cert, key: paths.key };
};

/** Refuses a key file that its group or others may read or write (the SSH rule). */
export const checkKeyFileMode = async (keyFile: string): Promise<void> => {
  if (process.platform === 'win32') return;
  const { mode } = await stat(keyFile);
  if ((mode & 0o077) !== 0)
    throw new CaError(
      'CA_KEY_EXPOSED',
      `The CA key ${keyFile} can be read by other users (mode ${(mode & 0o777).toString(8).padStart(4, '0')}); ` +
        `Haven will not use it. Run: chmod 600 ${keyFile} (and consider replacing the CA with "haven ca init --force" if others may have copied it).`,
    );
};

const parseCertificate = (pem: string, file: string): x509.X509Certificate => {
  try {
    return new x509.X509Certificate(pem);
  } catch {
    throw new CaError('CA_INVALID', `${file} is not a PEM certificate`);
  }
};

/** The CA certificate alone (for `haven ca export`): no key is read. */
export const readCaCertificate = async (dataDir: string): Promise<Omit<InterceptionCa, 'signingKey'>> => {
  const paths = caPaths(dataDir);
  if (!(await exists(paths.cert))) throw new CaError('CA_NOT_FOUND', `No interception CA in ${paths.dir}: create one with "haven ca init"`);
  return describeCertificate(parseCertificate(await readFile(paths.cert, 'utf8'), paths.cert));
};

/**
 * Loads the CA from `dataDir/ca/` for the proxy: the key must be owner-only, the certificate a CA
 * certificate, and the two must belong together. The key is imported non-extractable.
 */
export const loadCa = async (dataDir: string, options: { now?: Date } = {}): Promise<InterceptionCa> => {
  const paths = caPaths(dataDir);
  if (!(await exists(paths.key)) || !(await exists(paths.cert)))
    throw new CaError('CA_NOT_FOUND', `No interception CA in ${paths.dir}: create one with "haven ca init"`);
  await checkKeyFileMode(paths.key);
  const certificate = parseCertificate(await readFile(paths.cert, 'utf8'), paths.cert);
  let pkcs8: Uint8Array<ArrayBuffer>;
  try {
    pkcs8 = new Uint8Array(createPrivateKey(await readFile(paths.key)).export({ type: 'pkcs8', format: 'der' }));
  } catch {
    throw new CaError('CA_INVALID', `${paths.key} is not a PEM private key`);
  }
  let signingKey: CryptoKey;
  try {
    signingKey = await crypto.subtle.importKey('pkcs8', pkcs8, { name: 'ECDSA', namedCurve: 'P-256' }, false, ['sign']);
  } catch {
    throw new CaError('CA_INVALID', `${paths.key} is not an ECDSA P-256 key (Haven creates its CA with "haven ca init")`);
  }
  const bc = certificate.getExtension(x509.BasicConstraintsExtension);
  if (!bc?.ca) throw new CaError('CA_INVALID', `${paths.cert} is not a CA certificate`);
  // Sign a probe and check it with the certificate's public key: a mismatched pair would mint leaves nobody trusts.
  const probe = new Uint8Array(randomBytes(32));
  const signature = await crypto.subtle.sign(EC_ALGORITHM, signingKey, probe);
  const publicKey = await certificate.publicKey.export(EC_ALGORITHM, ['verify'], crypto);
  if (!(await crypto.subtle.verify(EC_ALGORITHM, publicKey, signature, probe)))
    throw new CaError('CA_INVALID', `${paths.key} does not belong to the certificate ${paths.cert}`);
  const now = options.now ?? new Date();
  if (certificate.notAfter.getTime() <= now.getTime())
    throw new CaError(
      'CA_INVALID',
      `The interception CA expired on ${certificate.notAfter.toISOString()}: create a new one with "haven ca init --force"`,
    );
  return wrap(certificate, signingKey);
};

/** Creates and saves a CA (what `haven ca init` does). */
export const initCa = async (
  dataDir: string,
  options: { name: string; force?: boolean; now?: Date },
): Promise<{ ca: InterceptionCa; cert: string; key: string }> => {
  const ca = await createCa({ name: options.name, ...(options.now ? { now: options.now } : {}) });
  const files = await saveCa(dataDir, ca, { force: options.force ?? false });
  return { ca: wrap(ca.certificate, ca.signingKey), ...files };
};
