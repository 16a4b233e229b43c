/**
 * Everything TLS interception needs, loaded once at start-up: the CA (refused if its key is
 * exposed), the leaf cache, upstream verification and the never-inspect settings. A bad CA, CA
 * file or exemptions file stops start-up with the problem named, before the proxy listens.
 *
 * The object fits the proxy's `intercept?: { contextFor(host) }` option as it is.
 */
import type { SecureContext } from 'node:tls';
import { loadCa, type InterceptionCa } from './ca.ts';
import { createLeafCache, type LeafCache, type LeafCacheOptions } from './leaf-cache.ts';
import {
  compileInspectionSettings,
  inspectionExemption,
  loadTlsExemptions,
  type InspectionChoices,
  type InspectionExemption,
  type InspectionSettings,
  type TlsExemptionData,
} from './tls-exemptions.ts';
import { createUpstreamTls, type UpstreamTls } from './upstream-tls.ts';

export interface InterceptionOptions {
  /** HAVEN_DATA_DIR: the CA is read from its `ca/` folder. */
  readonly dataDir: string;
  /** data/tls-exemptions.json (the app knows where the package's data folder is). */
  readonly exemptionsFile: string;
  /** Extra CA certificates to trust upstream (PEM file). */
  readonly extraCaFile?: string;
  /** The never-inspect choices (default: every group and the file's categories). */
  readonly choices?: InspectionChoices;
  readonly leafCache?: LeafCacheOptions;
}

export interface Interception {
  readonly ca: InterceptionCa;
  readonly leaves: LeafCache;
  readonly upstream: UpstreamTls;
  readonly exemptions: TlsExemptionData;
  readonly settings: InspectionSettings;
  /** The leaf context for a host (the proxy's `intercept.contextFor`). */
  readonly contextFor: (host: string) => Promise<SecureContext>;
  /** Whether a connection to `host` in Haven category `category` may be decrypted under the loaded settings. */
  readonly shouldInspect: (host: string, category: string | null) => boolean;
  /** Why not, for the event log; null when it may be decrypted. */
  readonly exemptionFor: (host: string, category: string | null) => InspectionExemption | null;
}

export const loadInterception = async (options: InterceptionOptions): Promise<Interception> => {
  const exemptions = loadTlsExemptions(options.exemptionsFile);
  const settings = compileInspectionSettings(exemptions, options.choices);
  const upstream = createUpstreamTls(options.extraCaFile ? { extraCaFile: options.extraCaFile } : {});
  const ca = await loadCa(options.dataDir);
  const leaves = createLeafCache(ca, options.leafCache);
  return {
    ca,
    leaves,
    upstream,
    exemptions,
    settings,
    contextFor: leaves.contextFor,
    shouldInspect: (host, category) => inspectionExemption(host, category, settings) === null,
    exemptionFor: (host, category) => inspectionExemption(host, category, settings),
  };
};
