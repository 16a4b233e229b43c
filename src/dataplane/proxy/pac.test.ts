/**
 * The generated PAC file, run in a VM with the standard PAC helper functions, as a browser would.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { runInNewContext } from 'node:vm';
import { generatePac, normaliseBypassDomain } from './pac.ts';

const ipToInt = (ip: string) => ip.split('.').reduce((n, o) => n * 256 + Number(o), 0);

/** FindProxyForURL from a PAC file, with the helpers browsers provide (no DNS: isInNet on a name fails the test). */
const load = (pac: string) => {
  const context = {
    isPlainHostName: (h: string) => !h.includes('.'),
    dnsDomainIs: (h: string, d: string) => h.endsWith(d),
    isInNet: (h: string, net: string, mask: string) => {
      assert.match(h, /^[0-9.]+$/, 'isInNet must only see address literals');
      return (ipToInt(h) & ipToInt(mask)) >>> 0 === (ipToInt(net) & ipToInt(mask)) >>> 0;
    },
  };
  runInNewContext(pac, context);
  const fn = (context as unknown as { FindProxyForURL: (url: string, host: string) => string }).FindProxyForURL;
  return (host: string) => fn(`http://${host}/`, host);
};

describe('generatePac', () => {
  const find = load(generatePac({ proxy: '10.0.0.5:3128', bypassDomains: ['Intranet.School.UK', '*.mis.example', 'not a domain'] }));

  it('sends public sites through the proxy, with no fallback round the filter', () => {
    assert.equal(find('www.bbc.co.uk'), 'PROXY 10.0.0.5:3128');
    assert.equal(find('8.8.8.8'), 'PROXY 10.0.0.5:3128');
    assert.equal(find('172.32.0.1'), 'PROXY 10.0.0.5:3128');
    assert.equal(find('[2001:db8::1]'), 'PROXY 10.0.0.5:3128');
    assert.equal(find('notintranet.school.uk'), 'PROXY 10.0.0.5:3128');
  });

  it('sends local addresses, plain names and bypass domains direct', () => {
    for (const host of [
      'printer',
      'localhost',
      'app.localhost',
      'nas.local',
      '10.1.2.3',
      '172.16.0.1',
      '172.31.255.255',
      '192.168.1.10',
      '127.0.0.1',
      '169.254.10.1',
      '[::1]',
      'fe80::1',
      'fd12:3456::1',
      'intranet.school.uk',
      'www.intranet.school.uk',
      'mis.example',
      'x.mis.example',
      'INTRANET.SCHOOL.UK',
    ])
      assert.equal(find(host), 'DIRECT', host);
  });

  it('falls back to direct only when told to, and refuses a bad proxy address', () => {
    assert.equal(load(generatePac({ proxy: 'proxy.school:8080', failOpen: true }))('example.com'), 'PROXY proxy.school:8080; DIRECT');
    assert.throws(() => generatePac({ proxy: 'proxy.school' }), /host:port/);
    assert.throws(() => generatePac({ proxy: 'a:1"; evil()' }), /host:port/);
  });

  it('normalises bypass domains', () => {
    assert.equal(normaliseBypassDomain(' *.Example.COM. '), 'example.com');
    assert.equal(normaliseBypassDomain('.example.com'), 'example.com');
    assert.equal(normaliseBypassDomain('exa mple.com'), null);
    assert.equal(normaliseBypassDomain('"); alert(1); ("'), null);
  });
});
