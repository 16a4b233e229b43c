import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ipInCidr, parseCidr, parseIpAddress } from './cidr.ts';

describe('CIDR matching', () => {
  it('matches IPv4 addresses inside a range and not outside it', () => {
    assert.equal(ipInCidr('10.20.30.40', '10.0.0.0/8'), true);
    assert.equal(ipInCidr('11.0.0.1', '10.0.0.0/8'), false);
    assert.equal(ipInCidr('192.168.1.255', '192.168.1.0/24'), true);
    assert.equal(ipInCidr('192.168.2.0', '192.168.1.0/24'), false);
    assert.equal(ipInCidr('172.16.5.4', '172.16.0.0/12'), true);
    assert.equal(ipInCidr('172.32.0.1', '172.16.0.0/12'), false);
  });

  it('treats a bare address as a single host and /0 as everything of its family', () => {
    assert.equal(ipInCidr('10.0.0.5', '10.0.0.5'), true);
    assert.equal(ipInCidr('10.0.0.6', '10.0.0.5'), false);
    assert.equal(ipInCidr('203.0.113.9', '0.0.0.0/0'), true);
    assert.equal(ipInCidr('2001:db8::1', '0.0.0.0/0'), false);
  });

  it('ignores host bits in the network part (10.1.2.3/8 is 10.0.0.0/8)', () => {
    assert.equal(ipInCidr('10.200.0.1', '10.1.2.3/8'), true);
  });

  it('matches IPv6, compressed or not, with odd prefix lengths', () => {
    assert.equal(ipInCidr('2001:db8:0:1::42', '2001:db8::/32'), true);
    assert.equal(ipInCidr('2001:db9::1', '2001:db8::/32'), false);
    assert.equal(ipInCidr('2001:0db8:0000:0000:0000:0000:0000:0001', '2001:db8::/127'), true);
    assert.equal(ipInCidr('2001:db8::2', '2001:db8::/127'), false);
    assert.equal(ipInCidr('fe80::1%eth0', 'fe80::/10'), true);
    assert.equal(ipInCidr('[2001:db8::1]', '2001:db8::/64'), true);
    assert.equal(ipInCidr('::1', '::1/128'), true);
    assert.equal(ipInCidr('2a00:1450:4009:81f::200e', '2a00:1450:4009::/48'), true);
    assert.equal(ipInCidr('2a00:1450:400a::1', '2a00:1450:4009::/48'), false);
  });

  it('matches an IPv4 client seen by a dual-stack socket (::ffff:a.b.c.d) against IPv4 ranges', () => {
    assert.equal(ipInCidr('::ffff:10.1.2.3', '10.0.0.0/8'), true);
    assert.equal(ipInCidr('::ffff:192.0.2.1', '10.0.0.0/8'), false);
    assert.equal(ipInCidr('10.1.2.3', '::ffff:10.0.0.0/104'), true);
  });

  it('refuses malformed addresses and ranges', () => {
    for (const bad of [
      '',
      '10.0.0',
      '10.0.0.256',
      '10.0.0.01',
      '1.2.3.4.5',
      'a.b.c.d',
      '2001:db8::1::2',
      '2001:db8:::1',
      '1:2:3:4:5:6:7:8:9',
      '12345::',
      'g::1',
      '10.0.0.1x',
    ]) {
      assert.equal(parseIpAddress(bad), null, bad);
    }
    for (const bad of ['10.0.0.0/33', '10.0.0.0/-1', '10.0.0.0/', '2001:db8::/129', 'example.com/24', '10.0.0.0/8/8']) {
      assert.equal(parseCidr(bad), null, bad);
    }
    assert.equal(ipInCidr('nonsense', '10.0.0.0/8'), false);
  });

  it('records the family a range was written in', () => {
    assert.equal(parseCidr('10.0.0.0/8')?.family, 4);
    assert.equal(parseCidr('2001:db8::/32')?.family, 6);
    assert.equal(parseCidr('10.0.0.0/8')?.bits, 104);
  });
});
