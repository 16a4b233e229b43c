import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { describe, it } from 'node:test';
import {
  compileInspectionSettings,
  inspectionExemption,
  loadTlsExemptions,
  parseTlsExemptions,
  shouldInspect,
  TlsExemptionsError,
  type TlsExemptionData,
} from './index.ts';

const file = new URL('../../../../data/tls-exemptions.json', import.meta.url);
const raw: unknown = JSON.parse(readFileSync(file, 'utf8'));

const problemsOf = (json: unknown): string[] => {
  try {
    parseTlsExemptions(json);
    return [];
  } catch (e) {
    assert.ok(e instanceof TlsExemptionsError);
    return e.problems.map((p) => `${p.path}: ${p.message}`);
  }
};

describe('data/tls-exemptions.json', () => {
  it('validates, with banking, health, government and pinned-app groups and help services never decrypted', () => {
    const data = loadTlsExemptions(file.pathname);
    assert.deepEqual(
      data.groups.map((g) => g.id),
      ['banking', 'health', 'government', 'pinned'],
    );
    assert.deepEqual(data.neverInspectCategories, ['help-services']);
    for (const g of data.groups) assert.ok(g.reason.length > 20 && g.hosts.length > 0, g.id);
  });

  it('is documented: every group is named in docs/tls-interception.md', () => {
    const doc = readFileSync(new URL('../../../../docs/tls-interception.md', import.meta.url), 'utf8');
    for (const g of loadTlsExemptions(file.pathname).groups)
      assert.ok(doc.includes(`\`${g.id}\``), `docs/tls-interception.md names \`${g.id}\``);
  });

  it('names every problem of a bad file', () => {
    const bad = {
      version: 2,
      extra: true,
      neverInspectCategories: ['help-services', 'banking', 'illegal'],
      groups: [
        { id: 'banking', name: 'B', reason: 'r', hosts: ['*.barclays.co.uk', 'HSBC.co.uk', 'ok.example', 'nhs.uk.'] },
        { id: 'Banking', name: '', reason: '', hosts: [] },
        { id: 'health', name: 'H', reason: 'r', hosts: ['ok.example'] },
        { id: 'gambling', name: 'G', reason: 'r', hosts: ['g.example'] },
      ],
    };
    const problems = problemsOf(bad);
    for (const expected of [
      /^extra: unknown field/,
      /^version: must be 1/,
      /^neverInspectCategories\[1\]: "banking" is not a Haven category id/,
      /^neverInspectCategories\[2\]: "illegal"/,
      /^groups\[0\]\.hosts\[0\]: "\*\.barclays\.co\.uk" must be/,
      /^groups\[0\]\.hosts\[1\]: "HSBC\.co\.uk"/,
      /^groups\[0\]\.hosts\[3\]: "nhs\.uk\."/,
      /^groups\[1\]\.id/,
      /^groups\[1\]\.name/,
      /^groups\[1\]\.reason/,
      /^groups\[1\]\.hosts: must be a non-empty list/,
      /^groups\[2\]\.hosts\[0\]: "ok\.example" is already listed at groups\[0\]\.hosts\[2\]/,
      /^groups\[3\]\.id: "gambling" is already used/,
    ])
      assert.ok(
        problems.some((p) => expected.test(p)),
        `${String(expected)} in\n${problems.join('\n')}`,
      );
    assert.throws(() => parseTlsExemptions(bad), /The TLS exemptions file is not valid: .*; and \d+ more/);
    assert.throws(() => parseTlsExemptions([]), /must be a JSON object/);
    assert.throws(() => loadTlsExemptions('/nonexistent/tls.json'), /Cannot read the TLS exemptions file \/nonexistent\/tls\.json/);
  });
});

describe('shouldInspect', () => {
  const data: TlsExemptionData = parseTlsExemptions(raw);
  const defaults = compileInspectionSettings(data);

  it('never decrypts the default groups, and covers their subdomains', () => {
    for (const host of [
      'www.nhs.uk',
      'nhs.uk',
      'NHS.UK.',
      'www.online.hsbc.co.uk',
      'www.gov.uk',
      'www.tax.service.gov.uk',
      'gateway.icloud.com',
    ])
      assert.equal(shouldInspect(host, null, defaults), false, host);
    assert.deepEqual(inspectionExemption('www.tax.service.gov.uk', null, defaults)?.id, 'government');
    assert.equal(inspectionExemption('api.paypal.com', 'shopping', defaults)?.kind, 'group');
  });

  it('decrypts ordinary sites, and look-alikes that are not subdomains', () => {
    for (const host of [
      'www.google.com',
      'www.youtube.com',
      'notnhs.uk',
      'nhs.uk.evil.example',
      'gov.uk.example',
      '203.0.113.9',
      'localhost',
    ])
      assert.equal(shouldInspect(host, null, defaults), true, host);
    assert.equal(shouldInspect('www.bbc.co.uk', 'education', defaults), true);
  });

  it('never decrypts the never-inspect categories (help services by default)', () => {
    assert.equal(shouldInspect('www.childline.org.uk', 'help-services', defaults), false);
    assert.deepEqual(inspectionExemption('www.childline.org.uk', 'help-services', defaults)?.kind, 'category');
  });

  it('follows a school’s choices: fewer groups, more categories, its own hosts', () => {
    const school = compileInspectionSettings(data, {
      neverInspect: ['banking', 'sex-education'],
      neverInspectHosts: ['Intranet.Oakfield.sch.uk.', '192.0.2.10', '[2001:db8::1]'],
    });
    assert.equal(shouldInspect('www.nhs.uk', null, school), true);
    assert.equal(shouldInspect('www.barclays.co.uk', null, school), false);
    assert.equal(shouldInspect('www.childline.org.uk', 'help-services', school), true);
    assert.equal(shouldInspect('www.brook.org.uk', 'sex-education', school), false);
    assert.equal(shouldInspect('vle.intranet.oakfield.sch.uk', null, school), false);
    assert.equal(inspectionExemption('intranet.oakfield.sch.uk', null, school)?.kind, 'school');
    assert.equal(shouldInspect('192.0.2.10', null, school), false);
    assert.equal(shouldInspect('[2001:db8::1]', null, school), false);
    assert.equal(shouldInspect('192.0.2.11', null, school), true);
  });

  it('refuses unknown ids and bad hosts instead of quietly decrypting', () => {
    assert.throws(() => compileInspectionSettings(data, { neverInspect: ['banks'] }), /"banks" is neither a Haven category nor a group/);
    assert.throws(() => compileInspectionSettings(data, { neverInspect: ['illegal'] }), /"illegal"/);
    assert.throws(() => compileInspectionSettings(data, { neverInspectHosts: ['*.example.com'] }), /neverInspectHosts\[0\]/);
  });
});
