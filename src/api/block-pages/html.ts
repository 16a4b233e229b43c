/**
 * The small server-rendered pages Haven shows people who are not signed in — block and warn pages,
 * the "ask to unblock" and "tell a trusted adult" forms. No script, no external resources, every
 * value HTML-escaped, a CSP that allows nothing but the inline style sheet.
 */
const ESCAPES: Readonly<Record<string, string>> = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' };
export const escapeHtml = (s: string): string => s.replace(/[&<>"']/g, (c) => ESCAPES[c]!);

/** Long addresses are cut: a page explains, it does not echo whatever was sent. */
export const clip = (s: string, max = 120): string => (s.length > max ? `${s.slice(0, max)}…` : s);

export const PAGE_HEADERS: Readonly<Record<string, string>> = {
  'content-type': 'text/html; charset=utf-8',
  'cache-control': 'no-store',
  'content-security-policy': "default-src 'none'; style-src 'unsafe-inline'; form-action 'self'; base-uri 'none'; frame-ancestors 'none'",
  'x-content-type-options': 'nosniff',
  'referrer-policy': 'no-referrer',
  'x-frame-options': 'DENY',
};

const STYLE = `body{font-family:system-ui,-apple-system,"Segoe UI",sans-serif;margin:0;background:#f4f6f8;color:#1b1b1b;line-height:1.5}
main{max-width:38rem;margin:2.5rem auto;padding:2rem;background:#fff;border-radius:12px;border:1px solid #d0d7de}
h1{font-size:1.7rem;margin:0 0 1rem}.big h1{font-size:2.1rem}.big p{font-size:1.2rem}
.site{word-break:break-all;font-family:ui-monospace,monospace;background:#f4f6f8;padding:.2rem .4rem;border-radius:4px}
.school{border-left:4px solid #1d70b8;padding-left:1rem;margin:1.5rem 0}
.actions{display:flex;flex-wrap:wrap;gap:.75rem;margin:1.5rem 0}
.button{display:inline-block;padding:.7rem 1.1rem;border-radius:6px;background:#1d70b8;color:#fff;text-decoration:none;font-weight:600;border:0;font-size:1rem;cursor:pointer}
.button--secondary{background:#fff;color:#1d70b8;border:2px solid #1d70b8}
.help{font-size:.95rem;color:#444;border-top:1px solid #d0d7de;padding-top:1rem;margin-top:2rem}
label{display:block;font-weight:600;margin:1rem 0 .4rem}textarea{width:100%;box-sizing:border-box;font:inherit;padding:.5rem;min-height:7rem}
.error{color:#b00020;font-weight:600}a:focus,.button:focus,textarea:focus{outline:3px solid #ffdd00;outline-offset:2px}`;

export const page = (title: string, body: string, options: { big?: boolean } = {}): string => `<!doctype html>
<html lang="en-GB"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="robots" content="noindex"><title>${escapeHtml(title)}</title><style>${STYLE}</style></head>
<body><main${options.big ? ' class="big"' : ''}>
${body}
</main></body></html>
`;

/** For pupils on every page: somewhere to turn that is not the school. */
export const CHILDLINE = `<p class="help">Worried or upset about something you have seen? Talk to a trusted adult, or call Childline free on <strong>0800 1111</strong> (childline.org.uk). It will not show on the phone bill.</p>`;
