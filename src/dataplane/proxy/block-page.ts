/**
 * What the proxy answers for a blocked (or warned) request. The proxy hands the facts to a
 * renderer the composition root chooses; this file holds the plain default: HTML-escaped, no
 * script, no external resources, and never the list that matched (an illegal-tier hit shows
 * only the category "illegal" and the decision's reason, which never names the list).
 */
import { categoryLabel, type ClientIdentity } from '../../core/index.ts';

export interface BlockPageInfo {
  host: string;
  /** The full URL when known (plain HTTP, intercepted HTTPS); null for a CONNECT host. */
  url: string | null;
  /** Haven category id ("gambling", "illegal"); null when uncategorised. */
  category: string | null;
  action: 'block' | 'warn';
  identity: ClientIdentity;
  /** The decision's plain-English sentence. */
  reason: string;
  /** On an illegal-content list: say nothing more than the category. */
  illegal: boolean;
  /** The client's address (a guest's choices and tickets are tied to it). */
  clientIp: string;
  /**
   * For a warning: the link that records the choice and goes on to the site. The proxy passes
   * null: Haven's renderer makes its own (`/continue`, recorded and shared with the DNS filter).
   */
  continueUrl: string | null;
}

export interface BlockPageResponse {
  status: number;
  headers: Record<string, string>;
  body: string;
}

export type BlockPageRenderer = (info: BlockPageInfo) => BlockPageResponse;

const ESCAPES: Readonly<Record<string, string>> = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' };
export const escapeHtml = (s: string): string => s.replace(/[&<>"']/g, (c) => ESCAPES[c]!);

/** Long URLs are cut: the page explains, it does not echo whatever an attacker sent. */
const shown = (s: string, max = 200): string => (s.length > max ? `${s.slice(0, max)}…` : s);

export const defaultBlockPage: BlockPageRenderer = (info) => {
  const warn = info.action === 'warn';
  const title = warn ? 'Are you sure?' : 'This site is blocked';
  const what = escapeHtml(shown(info.url ?? info.host));
  const category = escapeHtml(categoryLabel(info.category));
  const cont =
    warn && info.continueUrl !== null
      ? `<p><a href="${escapeHtml(info.continueUrl)}">I understand, continue to the site</a></p>`
      : '<p>If you think this is a mistake, ask your teacher or another trusted adult.</p>';
  const body = `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>${title}</title>
<style>body{font-family:system-ui,sans-serif;max-width:36rem;margin:3rem auto;padding:0 1rem;line-height:1.5;color:#1b1b1b}h1{font-size:1.6rem}code{word-break:break-all}</style>
</head><body><main>
<h1>${title}</h1>
<p><code>${what}</code></p>
<p>Category: <strong>${category}</strong></p>
<p>${escapeHtml(info.reason)}</p>
${cont}
</main></body></html>
`;
  return {
    status: warn ? 200 : 403,
    headers: {
      'content-type': 'text/html; charset=utf-8',
      'cache-control': 'no-store',
      'content-security-policy': "default-src 'none'; style-src 'unsafe-inline'",
      'x-content-type-options': 'nosniff',
    },
    body,
  };
};
