import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { forwardHeaders, rawHeader, rawResponseHead } from './headers.ts';

describe('forwardHeaders', () => {
  it('drops hop-by-hop fields and those Connection names, keeps the rest in order, adds Via', () => {
    const raw = [
      'Host',
      'wrong.example',
      'Connection',
      'keep-alive, X-Secret',
      'Proxy-Connection',
      'keep-alive',
      'Proxy-Authorization',
      'Basic abc',
      'X-Secret',
      'drop me',
      'Set-Cookie',
      'a=1',
      'set-cookie',
      'b=2',
      'Transfer-Encoding',
      'chunked',
      'TE',
      'trailers',
      'Via',
      '1.0 upstream',
      'Accept',
      '*/*',
    ];
    assert.deepEqual(forwardHeaders(raw, { via: '1.1 haven', host: 'right.example:8080' }), [
      'Host',
      'right.example:8080',
      'Set-Cookie',
      'a=1',
      'set-cookie',
      'b=2',
      'Via',
      '1.0 upstream',
      'Accept',
      '*/*',
      'Via',
      '1.1 haven',
    ]);
  });

  it('keeps Upgrade for a WebSocket handshake', () => {
    const out = forwardHeaders(['Connection', 'Upgrade', 'Upgrade', 'websocket', 'Sec-WebSocket-Key', 'k'], {
      via: '1.1 haven',
      upgrade: true,
    });
    assert.deepEqual(out, ['Upgrade', 'websocket', 'Sec-WebSocket-Key', 'k', 'Connection', 'Upgrade', 'Via', '1.1 haven']);
  });

  it('reads a header and writes a raw response head', () => {
    assert.equal(rawHeader(['A', '1', 'Upgrade', 'websocket'], 'upgrade'), 'websocket');
    assert.equal(rawHeader(['A', '1'], 'b'), undefined);
    assert.equal(rawResponseHead(403, 'Forbidden', ['X-A', '1']), 'HTTP/1.1 403 Forbidden\r\nX-A: 1\r\n\r\n');
  });
});
