// The server's own certificate authority, serving certificate and bearer token, created on first
// start in DATA_DIR/pki and reused after, so kubeconfigs written earlier stay valid.
import { randomBytes, X509Certificate } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { isIP } from 'node:net';
import { join } from 'node:path';
import forge from 'node-forge';

export interface ServerCredentials {
  caCert: string;
  cert: string;
  key: string;
  token: string;
}

const CA_DAYS = 3650;
const SERVING_DAYS = 825;

/** Loads or creates the CA, a serving certificate valid for `hosts`, and the admin token. */
export function ensureCredentials(dir: string, hosts: string[]): ServerCredentials {
  const pki = join(dir, 'pki');
  mkdirSync(pki, { recursive: true, mode: 0o700 });
  const files = {
    caCert: join(pki, 'ca.crt'),
    caKey: join(pki, 'ca.key'),
    cert: join(pki, 'apiserver.crt'),
    key: join(pki, 'apiserver.key'),
    token: join(pki, 'admin.token'),
  };
  // A certificate Node's OpenSSL refuses (one an earlier version wrote with a non-minimal serial)
  // is made again: the server could not serve it, nor a client trust it.
  if (!existsSync(files.caCert) || !existsSync(files.caKey) || !acceptedByNode(files.caCert)) {
    const ca = createCa();
    writeFileSync(files.caCert, ca.cert);
    writeFileSync(files.caKey, ca.key, { mode: 0o600 });
  }
  const caCert = readFileSync(files.caCert, 'utf8');
  const caKey = readFileSync(files.caKey, 'utf8');
  const wanted = servingNames(hosts);
  if (!existsSync(files.cert) || !existsSync(files.key) || !acceptedByNode(files.cert) || !coversNames(readFileSync(files.cert, 'utf8'), wanted) || !issuedBy(files.cert, caCert)) {
    const serving = createServingCert(caCert, caKey, wanted);
    writeFileSync(files.cert, serving.cert);
    writeFileSync(files.key, serving.key, { mode: 0o600 });
  }
  if (!existsSync(files.token)) writeFileSync(files.token, randomBytes(32).toString('hex'), { mode: 0o600 });
  return {
    caCert,
    cert: readFileSync(files.cert, 'utf8'),
    key: readFileSync(files.key, 'utf8'),
    token: readFileSync(files.token, 'utf8').trim(),
  };
}

function acceptedByNode(file: string): boolean {
  try {
    new X509Certificate(readFileSync(file));
    return true;
  } catch {
    return false;
  }
}

/** Whether the serving certificate was signed by this CA (a remade CA needs a new one). */
function issuedBy(file: string, caPem: string): boolean {
  const ca = new X509Certificate(caPem);
  const cert = new X509Certificate(readFileSync(file));
  return cert.checkIssued(ca) && cert.verify(ca.publicKey);
}

function servingNames(hosts: string[]): string[] {
  const names = new Set(['127.0.0.1', '::1', 'localhost', ...hosts.filter((h) => h && h !== '0.0.0.0' && h !== '::')]);
  return [...names].sort();
}

function newKeyPair(): forge.pki.rsa.KeyPair {
  // node-forge hands RSA generation to Node's native crypto when it is available.
  return forge.pki.rsa.generateKeyPair({ bits: 2048, e: 0x10001 });
}

/**
 * 16 random bytes, positive and minimally encoded, as RFC 5280 and DER ask: the first byte is
 * 0x01–0x7f. (A '00' prefix before random bytes was not minimal whenever the first random byte was
 * 0x00: OpenSSL then refused the certificate with "illegal padding", one start in about 128.)
 */
export function serialNumber(random: Buffer = randomBytes(16)): string {
  const bytes = Buffer.from(random);
  bytes[0] = bytes[0]! & 0x7f || 0x01;
  return bytes.toString('hex');
}

function validity(cert: forge.pki.Certificate, days: number): void {
  cert.validity.notBefore = new Date(Date.now() - 60 * 60 * 1000);
  cert.validity.notAfter = new Date(Date.now() + days * 24 * 60 * 60 * 1000);
}

function createCa(): { cert: string; key: string } {
  const keys = newKeyPair();
  const cert = forge.pki.createCertificate();
  cert.publicKey = keys.publicKey;
  cert.serialNumber = serialNumber();
  validity(cert, CA_DAYS);
  const subject = [{ name: 'commonName', value: 'sedna-apiserver-ca' }];
  cert.setSubject(subject);
  cert.setIssuer(subject);
  cert.setExtensions([
    { name: 'basicConstraints', cA: true, critical: true },
    { name: 'keyUsage', keyCertSign: true, cRLSign: true, digitalSignature: true, critical: true },
    { name: 'subjectKeyIdentifier' },
  ]);
  cert.sign(keys.privateKey, forge.md.sha256.create());
  return { cert: forge.pki.certificateToPem(cert), key: forge.pki.privateKeyToPem(keys.privateKey) };
}

function createServingCert(caPem: string, caKeyPem: string, names: string[]): { cert: string; key: string } {
  const ca = forge.pki.certificateFromPem(caPem);
  const caKey = forge.pki.privateKeyFromPem(caKeyPem);
  const keys = newKeyPair();
  const cert = forge.pki.createCertificate();
  cert.publicKey = keys.publicKey;
  cert.serialNumber = serialNumber();
  validity(cert, SERVING_DAYS);
  cert.setSubject([{ name: 'commonName', value: 'sedna-apiserver' }]);
  cert.setIssuer(ca.subject.attributes);
  cert.setExtensions([
    { name: 'basicConstraints', cA: false },
    { name: 'keyUsage', digitalSignature: true, keyEncipherment: true, critical: true },
    { name: 'extKeyUsage', serverAuth: true },
    { name: 'subjectAltName', altNames: names.map((n) => (isIP(n) ? { type: 7, ip: n } : { type: 2, value: n })) },
  ]);
  cert.sign(caKey, forge.md.sha256.create());
  return { cert: forge.pki.certificateToPem(cert), key: forge.pki.privateKeyToPem(keys.privateKey) };
}

function coversNames(certPem: string, names: string[]): boolean {
  const cert = forge.pki.certificateFromPem(certPem);
  if (cert.validity.notAfter.getTime() < Date.now() + 24 * 60 * 60 * 1000) return false;
  const san = cert.getExtension('subjectAltName') as { altNames?: { type: number; value?: string; ip?: string }[] } | null;
  const present = new Set((san?.altNames ?? []).map((a) => a.ip ?? a.value ?? ''));
  return names.every((n) => present.has(n));
}
