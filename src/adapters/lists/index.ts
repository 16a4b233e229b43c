/**
 * Category and illegal-content lists on disk and over the network: the UT1 tree loader, the
 * tarball reader, the HTTP downloader, the IWF and CTIRU loaders, and ListsPorts built from them.
 */
export { nodeListsPorts, writeFileAtomic } from './node-lists-ports.ts';
export { loadUt1Tree, normaliseDomainEntry, normaliseUrlEntry, normaliseExpressionEntry, LIST_FILES } from './ut1-tree-loader.ts';
export { extractTarball, ArchiveError } from './tarball.ts';
export { downloadToFile, DownloadError } from './http-download.ts';
export { loadIwfList } from './iwf-list.ts';
export { loadCtiruList } from './ctiru-list.ts';
export { parseIllegalLine } from './illegal-list-reader.ts';
