import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { fromKubeconfig } from './kubeconfig.js';

const dir = mkdtempSync(join(tmpdir(), 'kubeconfig-'));
after(() => rmSync(dir, { recursive: true, force: true }));

function write(name: string, text: string): string {
  const path = join(dir, name);
  writeFileSync(path, text);
  return path;
}

const b64 = (s: string): string => Buffer.from(s).toString('base64');

void describe('fromKubeconfig', () => {
  void it('reads the current context: server, CA and client certificate data', () => {
    const path = write(
      'a',
      [
        'apiVersion: v1',
        'kind: Config',
        'current-context: b',
        'clusters:',
        `- {name: other, cluster: {server: "https://x"}}`,
        `- {name: c, cluster: {server: "https://127.0.0.1:6443", certificate-authority-data: ${b64('CA')}}}`,
        'users:',
        `- {name: u, user: {client-certificate-data: ${b64('CERT')}, client-key-data: ${b64('KEY')}}}`,
        'contexts:',
        '- {name: b, context: {cluster: c, user: u}}',
      ].join('\n'),
    );
    const conn = fromKubeconfig(path);
    assert.equal(conn.server, 'https://127.0.0.1:6443');
    assert.equal(conn.ca?.toString(), 'CA');
    assert.equal(conn.cert?.toString(), 'CERT');
    assert.equal(conn.key?.toString(), 'KEY');
    assert.equal(conn.token, undefined);
  });

  void it('reads a token and a token file', () => {
    const tokenFile = write('tok', 'from-file\n');
    const base = [
      'current-context: b',
      'clusters: [{name: c, cluster: {server: "https://h"}}]',
      'contexts: [{name: b, context: {cluster: c, user: u}}]',
    ];
    assert.equal(fromKubeconfig(write('t1', [...base, 'users: [{name: u, user: {token: abc}}]'].join('\n'))).token?.(), 'abc');
    assert.equal(
      fromKubeconfig(write('t2', [...base, `users: [{name: u, user: {tokenFile: ${tokenFile}}}]`].join('\n'))).token?.(),
      'from-file',
    );
  });

  void it('names what is missing and refuses exec plugins', () => {
    const base = ['clusters: [{name: c, cluster: {server: "https://h"}}]', 'contexts: [{name: b, context: {cluster: c, user: u}}]'];
    assert.throws(() => fromKubeconfig(write('m', ['current-context: nope', ...base, 'users: []'].join('\n'))), /context "nope" not found/);
    assert.throws(
      () => fromKubeconfig(write('e', ['current-context: b', ...base, 'users: [{name: u, user: {exec: {command: x}}}]'].join('\n'))),
      /exec/,
    );
  });
});
