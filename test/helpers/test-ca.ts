import { execFileSync } from 'node:child_process';
import { once } from 'node:events';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:https';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { TLSSocket } from 'node:tls';
import { open } from './setup.js';

/** A test CA made with openssl, a server certificate for 127.0.0.1, and client certificates it issues. */
export interface TestCa {
  /** The CA's certificate, PEM: the receivers' trust and the transport's `ca`. */
  ca: string;
  server: { cert: string; key: string };
  /** A client certificate of this CA (CN `webhook-sender`), its key unencrypted. */
  sender: { cert: string; key: string };
  /** The same key, encrypted with the passphrase `hunter2`. */
  encryptedKey: string;
  /** Another client certificate of this CA (CN `second-sender`). */
  second: { cert: string; key: string };
  /** A client certificate of another CA (CN `rogue-sender`, issued by `rogue-ca`), which this CA's receivers refuse. */
  rogue: { cert: string; key: string };
  remove(): void;
}

export function makeTestCa(): TestCa {
  const dir = mkdtempSync(join(tmpdir(), 'mtls-ca-'));
  const openssl = (...args: string[]) => execFileSync('openssl', args, { cwd: dir, stdio: 'pipe' });
  const pem = (name: string) => readFileSync(join(dir, name), 'utf8');
  for (const ca of ['ca', 'rogue-ca']) {
    openssl(
      'req',
      '-x509',
      '-newkey',
      'rsa:2048',
      '-nodes',
      '-keyout',
      `${ca}.key`,
      '-out',
      `${ca}.pem`,
      '-days',
      '2',
      '-subj',
      ca === 'ca' ? '/CN=test-ca' : '/CN=rogue-ca',
    );
  }
  const issue = (name: string, subject: string, ext: string, ca = 'ca') => {
    openssl(
      'req',
      '-newkey',
      'rsa:2048',
      '-nodes',
      '-keyout',
      `${name}.key`,
      '-subj',
      subject,
      '-out',
      `${name}.csr`,
    );
    writeFileSync(join(dir, `${name}.ext`), ext);
    openssl(
      'x509',
      '-req',
      '-in',
      `${name}.csr`,
      '-CA',
      `${ca}.pem`,
      '-CAkey',
      `${ca}.key`,
      '-CAcreateserial',
      '-days',
      '2',
      '-extfile',
      `${name}.ext`,
      '-out',
      `${name}.pem`,
    );
    return { cert: pem(`${name}.pem`), key: pem(`${name}.key`) };
  };
  const server = issue(
    'server',
    '/CN=localhost',
    'subjectAltName=IP:127.0.0.1,DNS:localhost\nextendedKeyUsage=serverAuth\n',
  );
  const sender = issue('sender', '/CN=webhook-sender', 'extendedKeyUsage=clientAuth\n');
  const second = issue('second', '/CN=second-sender', 'extendedKeyUsage=clientAuth\n');
  const rogue = issue('rogue', '/CN=rogue-sender', 'extendedKeyUsage=clientAuth\n', 'rogue-ca');
  openssl('pkey', '-in', 'sender.key', '-aes256', '-passout', 'pass:hunter2', '-out', 'sender-encrypted.key');
  return {
    ca: pem('ca.pem'),
    server,
    sender,
    second,
    rogue,
    encryptedKey: pem('sender-encrypted.key'),
    remove: () => rmSync(dir, { recursive: true, force: true }),
  };
}

export interface HttpsReceiver {
  url: string;
  /** The client certificate's CN of every request answered (`-` without one). */
  senders: string[];
  /** The bodies received, in order. */
  bodies: string[];
  /** TLS connections accepted so far. */
  connections(): number;
}

/**
 * A real HTTPS receiver on 127.0.0.1 (closed after the test). With `requireCertificate`, the TLS handshake of a
 * client without a certificate of the CA fails, as a receiver behind mutual TLS does.
 */
export async function startHttpsReceiver(ca: TestCa, requireCertificate: boolean): Promise<HttpsReceiver> {
  const senders: string[] = [];
  const bodies: string[] = [];
  const server = createServer(
    { ...ca.server, ca: ca.ca, requestCert: requireCertificate, rejectUnauthorized: requireCertificate },
    (req, res) => {
      let body = '';
      req.setEncoding('utf8');
      req.on('data', (chunk) => {
        body += chunk;
      });
      req.on('end', () => {
        const cn = (req.socket as TLSSocket).getPeerCertificate()?.subject?.CN;
        senders.push(Array.isArray(cn) ? cn.join(',') : (cn ?? '-'));
        bodies.push(body);
        res.writeHead(204).end();
      });
    },
  );
  let connections = 0;
  server.on('secureConnection', () => {
    connections++;
  });
  server.on('tlsClientError', () => {});
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  open.push({
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  });
  const url = `https://127.0.0.1:${(server.address() as AddressInfo).port}/hooks`;
  return { url, senders, bodies, connections: () => connections };
}
