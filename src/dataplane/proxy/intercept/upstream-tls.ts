/**
 * Connecting upstream from an intercepted connection, with the verification a browser would do:
 * Node's bundled Mozilla roots (`tls.rootCertificates`) plus, optionally, a school's own CA file
 * (an internal web server, a filtering appliance further up). Certificate and host name are always
 * checked: there is no option to turn that off, because the pupil can no longer see the real
 * certificate — the proxy is the only one left to refuse a bad one.
 */
import { readFileSync } from 'node:fs';
import { isIP } from 'node:net';
import { checkServerIdentity, createSecureContext, rootCertificates, type ConnectionOptions, type SecureContext } from 'node:tls';

export interface UpstreamTrustOptions {
  /** A PEM file of extra CA certificates to trust as well as the public roots (HAVEN_PROXY_UPSTREAM_CA_FILE). */
  readonly extraCaFile?: string;
}

export interface UpstreamTls {
  /** How many extra CA certificates the file gave. */
  readonly extraCaCount: number;
  /**
   * Options for `tls.connect` to `host:port`: SNI (not for IP addresses), the shared trust
   * context, TLS 1.2 or newer, and verification. `extra` may add ALPN, a socket, timeouts…; it
   * cannot weaken verification (its rejectUnauthorized, ca and checkServerIdentity are ignored).
   */
  connectOptions(host: string, port: number, extra?: ConnectionOptions): ConnectionOptions;
}

const PEM_CERT = /-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----/g;

/** Reads the extra CA file: it must hold at least one PEM certificate. */
export const readExtraCaFile = (file: string): string[] => {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (e) {
    throw new Error(`Cannot read the upstream CA file ${file}: ${e instanceof Error ? e.message : String(e)}`);
  }
  const certs = text.match(PEM_CERT) ?? [];
  if (certs.length === 0) throw new Error(`The upstream CA file ${file} holds no PEM certificate ("-----BEGIN CERTIFICATE-----")`);
  try {
    createSecureContext({ ca: certs }); // a malformed certificate fails here, at start-up, not per connection
  } catch (e) {
    throw new Error(`The upstream CA file ${file} holds a certificate OpenSSL cannot read: ${e instanceof Error ? e.message : String(e)}`);
  }
  return certs;
};

/** Builds the trust once (parsing ~150 roots per connection would cost more than the handshake). */
export const createUpstreamTls = (options: UpstreamTrustOptions = {}): UpstreamTls => {
  const extra = options.extraCaFile ? readExtraCaFile(options.extraCaFile) : [];
  const secureContext: SecureContext = createSecureContext({ ca: [...rootCertificates, ...extra], minVersion: 'TLSv1.2' });
  return {
    extraCaCount: extra.length,
    connectOptions(host, port, more = {}) {
      const bare = host.startsWith('[') && host.endsWith(']') ? host.slice(1, -1) : host;
      const rest: ConnectionOptions = { ...more };
      delete rest.rejectUnauthorized;
      delete rest.ca;
      delete rest.checkServerIdentity;
      delete rest.secureContext;
      delete rest.servername;
      return {
        ...rest,
        host: bare,
        port,
        // SNI carries names only (RFC 6066); for an address the certificate's IP SAN is checked.
        ...(isIP(bare) === 0 ? { servername: bare } : {}),
        secureContext,
        rejectUnauthorized: true,
        checkServerIdentity: (name, cert) => checkServerIdentity(name, cert),
      };
    },
  };
};
