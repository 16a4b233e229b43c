import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { parseDhcpLeases } from './dhcp-leases.ts';

const NOW = 1_764_064_800; // 2025-11-25T10:00:00Z

describe('DHCP lease files', () => {
  it('reads dnsmasq leases, leaving out expired ones and the duid line', () => {
    const text = [
      `${NOW + 3600} AA:BB:CC:DD:EE:01 10.20.1.5 laptop-1 01:aa:bb:cc:dd:ee:01`,
      `${NOW - 10} aa:bb:cc:dd:ee:02 10.20.1.6 old *`,
      `0 aa-bb-cc-dd-ee-03 10.20.1.7 forever *`,
      'duid 00:01:00:01:2c:1f:aa:bb:cc:dd:ee:ff',
      'garbage line',
      `${NOW + 60} not-a-mac 10.20.1.8 x *`,
    ].join('\n');
    const r = parseDhcpLeases(text, NOW);
    assert.equal(r.format, 'dnsmasq');
    assert.deepEqual(r.leases, [
      { ip: '10.20.1.5', mac: 'aa:bb:cc:dd:ee:01', expires: NOW + 3600 },
      { ip: '10.20.1.7', mac: 'aa:bb:cc:dd:ee:03', expires: null },
    ]);
    assert.equal(r.skipped, 2);
  });

  it('reads ISC dhcpd leases, where a later free lease supersedes an active one', () => {
    const text = `
# The format of this file is documented in the dhcpd.leases(5) manual page.
lease 10.20.2.10 {
  starts 2 2025/11/25 09:00:00;
  ends 2 2025/11/25 11:00:00;
  binding state active;
  hardware ethernet 00:11:22:33:44:55;
  client-hostname "pupil-laptop";
}
lease 10.20.2.11 {
  ends 2 2025/11/25 11:00:00;
  binding state active;
  hardware ethernet 00:11:22:33:44:66;
}
lease 10.20.2.11 {
  ends 2 2025/11/25 11:00:00;
  binding state free;
  hardware ethernet 00:11:22:33:44:66;
}
lease 10.20.2.12 {
  ends 2 2025/11/25 09:30:00;
  binding state active;
  hardware ethernet 00:11:22:33:44:77;
}
lease 10.20.2.13 {
  ends never;
  hardware ethernet 00:11:22:33:44:88;
}
lease 10.20.2.14 { ends 2 2025/11/25 11:00:00; }
`;
    const r = parseDhcpLeases(text, NOW);
    assert.equal(r.format, 'isc');
    assert.deepEqual(r.leases, [
      { ip: '10.20.2.10', mac: '00:11:22:33:44:55', expires: NOW + 3600 },
      { ip: '10.20.2.13', mac: '00:11:22:33:44:88', expires: null },
    ]);
    assert.equal(r.skipped, 1);
  });

  it('reads Kea memfile CSV leases, only those in the leased state', () => {
    const text = [
      'address,hwaddr,client_id,valid_lifetime,expire,subnet_id,fqdn_fwd,fqdn_rev,hostname,state,user_context',
      `10.20.3.20,00:aa:00:aa:00:01,,3600,${NOW + 1800},1,0,0,host-a,0,`,
      `10.20.3.21,00:aa:00:aa:00:02,,3600,${NOW + 1800},1,0,0,host-b,2,`,
      `10.20.3.22,,,3600,${NOW + 1800},1,0,0,no-mac,0,`,
    ].join('\n');
    const r = parseDhcpLeases(text, NOW);
    assert.equal(r.format, 'kea');
    assert.deepEqual(r.leases, [{ ip: '10.20.3.20', mac: '00:aa:00:aa:00:01', expires: NOW + 1800 }]);
    assert.equal(r.skipped, 1);
  });

  it('never throws on garbage, and says when a file is empty', () => {
    assert.deepEqual(parseDhcpLeases('', NOW), { format: 'empty', leases: [], skipped: 0 });
    for (let i = 0; i < 200; i++) {
      const junk = Array.from({ length: 200 }, () => String.fromCharCode(Math.floor(Math.random() * 128))).join('');
      const r = parseDhcpLeases(`lease ${junk} { ${junk} }\n${junk}`, NOW);
      assert.ok(Array.isArray(r.leases));
    }
  });
});
