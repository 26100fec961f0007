import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Redis from 'ioredis';
import { RelayPatterns, addressed } from '@astral/contracts';
import { ManagedProcess, freePort, spawnManaged, waitFor } from '@astral/testing';
import { busClient } from './bus-client';
import { redisConnection, redisTransport } from './redis-transport';
import { NodeAddressedRedisServer } from './redis-server';
import { request } from './send';

const NODE = '2c8d5d0a-3e4f-4061-8cbd-2e3f4a5b6c7d';

/** `rediss://` end to end: a redis-server speaking only TLS, a certificate of our own CA, the bus over it. */
describe('rediss:// uses TLS with the configured CA', () => {
  let dir: string;
  let redis: ManagedProcess;
  let port: number;

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'astral-tls-'));
    execFileSync('openssl', [
      ...['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes'],
      ...['-keyout', join(dir, 'key.pem'), '-out', join(dir, 'ca.pem'), '-days', '1'],
      ...['-subj', '/CN=localhost', '-addext', 'subjectAltName=DNS:localhost,IP:127.0.0.1'],
    ]);
    port = await freePort();
    redis = spawnManaged(
      'redis-server',
      [
        ...[
          '--port',
          '0',
          '--tls-port',
          String(port),
          '--bind',
          '127.0.0.1',
          '--save',
          '',
          '--appendonly',
          'no',
        ],
        ...['--tls-cert-file', join(dir, 'ca.pem'), '--tls-key-file', join(dir, 'key.pem')],
        ...['--tls-ca-cert-file', join(dir, 'ca.pem'), '--tls-auth-clients', 'no', '--dir', dir],
      ],
      { command: 'redis-server', logFile: join(dir, 'redis.log') },
    );
    await waitFor(
      async () => {
        const r = new Redis({
          ...redisConnection(`rediss://localhost:${port}`, join(dir, 'ca.pem')),
          lazyConnect: true,
        });
        r.on('error', () => undefined);
        try {
          await r.connect();
          return (await r.ping()) === 'PONG';
        } catch {
          return false;
        } finally {
          r.disconnect();
        }
      },
      { timeoutMs: 10_000, intervalMs: 100, what: 'redis-server with TLS' },
    );
  });

  afterAll(async () => {
    await redis?.stop('SIGTERM', 5000);
    rmSync(dir, { recursive: true, force: true });
  });

  it('refuses a server certificate that no trusted CA signed', async () => {
    const r = new Redis({
      ...redisConnection(`rediss://localhost:${port}`),
      lazyConnect: true,
      maxRetriesPerRequest: 0,
      retryStrategy: () => null,
    });
    const errors: string[] = [];
    r.on('error', (err: Error) => errors.push(err.message));
    try {
      await expect(r.connect()).rejects.toThrow();
      expect(errors.join('; ')).toMatch(/self.signed|certificate/i);
    } finally {
      r.disconnect();
    }
  });

  it('carries a bus request and its reply over TLS with the CA', async () => {
    const url = `rediss://localhost:${port}`;
    const caFile = join(dir, 'ca.pem');
    const server = new NodeAddressedRedisServer(NODE, redisTransport({ url, caFile }).options);
    server.addHandler(RelayPatterns.GetStats, () => Promise.resolve({ streams: [], uploadLimitBps: null }));
    await new Promise<void>((resolve, reject) =>
      server.listen((err?: unknown) => (err instanceof Error ? reject(err) : resolve())),
    );
    const client = busClient(NODE, { url, caFile });
    try {
      await client.connect();
      await expect(request(client, addressed(RelayPatterns.GetStats, NODE), {})).resolves.toMatchObject({
        streams: [],
      });
    } finally {
      await client.close();
      await server.close();
    }
  });
});
