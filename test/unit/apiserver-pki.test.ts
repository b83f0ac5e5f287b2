// The API server's CA and serving certificate: what OpenSSL (Node's TLS) accepts. The serial number
// used to be '00' + 16 random bytes, which is not minimal DER when the first random byte is 0x00:
// Node then refused the certificate ("illegal padding") and the server did not start, about one
// fresh start in 128 (CI saw it).
import assert from 'node:assert/strict';
import { X509Certificate } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { createSecureContext } from 'node:tls';
import forge from 'node-forge';
import { ensureCredentials, serialNumber } from '../../src/apiserver/pki.ts';

/** A self-signed certificate with this serial, as pki.ts builds one, parsed by Node. */
function parsedWithSerial(serial: string, keys: forge.pki.rsa.KeyPair): X509Certificate {
  const cert = forge.pki.createCertificate();
  cert.publicKey = keys.publicKey;
  cert.serialNumber = serial;
  cert.validity.notBefore = new Date(Date.now() - 60_000);
  cert.validity.notAfter = new Date(Date.now() + 60_000);
  cert.setSubject([{ name: 'commonName', value: 'serial-test' }]);
  cert.setIssuer([{ name: 'commonName', value: 'serial-test' }]);
  cert.sign(keys.privateKey, forge.md.sha256.create());
  return new X509Certificate(forge.pki.certificateToPem(cert));
}

describe('apiserver PKI', () => {
  it('draws serial numbers that are positive, minimally encoded and 16 bytes long, whatever the random bytes', () => {
    const keys = forge.pki.rsa.generateKeyPair({ bits: 1024, e: 0x10001 });
    const edges = [Buffer.alloc(16, 0x00), Buffer.from([0x00, 0x00, 0x5d, ...Buffer.alloc(13, 0x11)]), Buffer.from([0x00, 0x80, ...Buffer.alloc(14, 0)]), Buffer.alloc(16, 0x80), Buffer.alloc(16, 0xff)];
    for (const random of edges) {
      const serial = serialNumber(random);
      assert.equal(serial.length, 32, serial);
      const first = parseInt(serial.slice(0, 2), 16);
      assert.ok(first >= 0x01 && first <= 0x7f, `first byte of ${serial}`);
      assert.equal(parsedWithSerial(serial, keys).serialNumber.toLowerCase(), serial, 'Node parses it and reads the same serial');
    }
    assert.equal(new Set(Array.from({ length: 1000 }, () => serialNumber())).size, 1000, 'random');
  });

  it('creates a CA and a serving certificate Node\'s TLS loads, the second issued by the first, and reuses them', () => {
    const dir = mkdtempSync(join(tmpdir(), 'sedna-pki-'));
    try {
      const first = ensureCredentials(dir, ['example.test']);
      createSecureContext({ key: first.key, cert: first.cert, ca: first.caCert });
      const ca = new X509Certificate(first.caCert);
      const serving = new X509Certificate(first.cert);
      assert.ok(serving.checkIssued(ca) && serving.verify(ca.publicKey));
      assert.equal(serving.checkHost('example.test'), 'example.test');
      assert.equal(serving.checkIP('127.0.0.1'), '127.0.0.1');
      assert.deepEqual(ensureCredentials(dir, ['example.test']), first, 'a restart keeps the same CA, certificate and token');
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('makes again a certificate Node refuses (an earlier version\'s non-minimal serial), and the serving one with a remade CA', () => {
    const dir = mkdtempSync(join(tmpdir(), 'sedna-pki-'));
    try {
      const first = ensureCredentials(dir, []);
      const keys = forge.pki.rsa.generateKeyPair({ bits: 1024, e: 0x10001 });
      const refused = (): string => {
        const cert = forge.pki.createCertificate();
        cert.publicKey = keys.publicKey;
        cert.serialNumber = '00005d' + '11'.repeat(14);
        cert.setSubject([{ name: 'commonName', value: 'bad' }]);
        cert.setIssuer([{ name: 'commonName', value: 'bad' }]);
        cert.sign(keys.privateKey, forge.md.sha256.create());
        const pem = forge.pki.certificateToPem(cert);
        assert.throws(() => new X509Certificate(pem), /illegal padding/);
        return pem;
      };
      writeFileSync(join(dir, 'pki', 'apiserver.crt'), refused());
      const servingRemade = ensureCredentials(dir, []);
      assert.equal(servingRemade.caCert, first.caCert, 'the CA is kept');
      assert.ok(new X509Certificate(servingRemade.cert).checkIssued(new X509Certificate(first.caCert)));

      writeFileSync(join(dir, 'pki', 'ca.crt'), refused());
      const caRemade = ensureCredentials(dir, []);
      assert.notEqual(caRemade.caCert, first.caCert);
      createSecureContext({ key: caRemade.key, cert: caRemade.cert, ca: caRemade.caCert });
      assert.ok(new X509Certificate(caRemade.cert).checkIssued(new X509Certificate(caRemade.caCert)), 'the serving certificate follows the new CA');
      assert.equal(caRemade.token, first.token, 'the token is kept');
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
