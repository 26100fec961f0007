import Redis from 'ioredis';
import { RedisHandle, startRedis } from '@astral/testing';
import { GATE_SCRIPT, entryFields, parseEntry, workKey, workQueueKeys } from './work-queue';

const CH = 'directory.nodes.register';
const FROM_A = `${CH}@0a6b3b8e-1c2d-4e5f-8a9b-0c1d2e3f4a5b`;
const FROM_B = `${CH}@1b6b3b8e-1c2d-4e5f-8a9b-0c1d2e3f4a5b`;

describe('work queue entries', () => {
  it('recognise a request by sender and id, an event by sender and bytes', () => {
    const req = { pattern: CH, data: { a: 1 }, id: 'r1' };
    expect(workKey(FROM_A, req, 'x').key).toBe(workKey(FROM_A, { ...req, data: { a: 2 } }, 'y').key);
    // The same id from another sender is another request: nobody can shadow a request by its id.
    expect(workKey(FROM_A, req, 'x').key).not.toBe(workKey(FROM_B, req, 'x').key);
    const ev = { pattern: CH, data: { a: 1 } };
    expect(workKey(FROM_A, ev, '{"a":1}').key).toBe(workKey(FROM_A, ev, '{"a":1}').key);
    expect(workKey(FROM_A, ev, '{"a":1}').key).not.toBe(workKey(FROM_A, ev, '{"a":2}').key);
    expect(workKey(FROM_A, ev, '').ttlMs).toBeLessThan(workKey(FROM_A, req, '').ttlMs);
  });

  it('read back what was written, and refuse what a replica did not write', () => {
    const raw = JSON.stringify({ pattern: CH, data: { n: 1 }, id: 'r1' });
    expect(parseEntry(['1-0', entryFields(CH, FROM_A, raw)])).toEqual({
      id: '1-0',
      channel: CH,
      replyTo: FROM_A,
      packet: { pattern: CH, data: { n: 1 }, id: 'r1' },
    });
    const trimmed = parseEntry(['1-1', null]);
    expect(trimmed).toMatchObject({ id: '1-1' });
    expect(trimmed && 'malformed' in trimmed ? trimmed.malformed : '').toMatch(/trimmed/);
    expect(parseEntry(['1-2', ['b', CH, 'c', FROM_A, 'p', '{not json']])).toMatchObject({
      malformed: 'not JSON',
    });
    expect(parseEntry(['1-3', ['b', CH, 'p', raw]])).toMatchObject({ malformed: 'missing b, c or p' });
    expect(parseEntry(['1-4', ['b', CH, 'c', FROM_A, 'p', '[1]']])).toMatchObject({
      malformed: 'not a packet',
    });
    expect(parseEntry('garbage')).toBeNull();
  });

  it('name keys of one queue in one cluster slot, and refuse odd names', () => {
    const k = workQueueKeys('directory');
    expect(k.stream.startsWith('{astral:directory}')).toBe(true);
    expect(k.seen.startsWith('{astral:directory}')).toBe(true);
    expect(() => workQueueKeys('a}b')).toThrow();
  });
});

describe('the gate script on a real Redis', () => {
  let redis: RedisHandle;
  let client: Redis;
  beforeAll(async () => {
    redis = await startRedis();
    client = new Redis(redis.url);
  });
  afterAll(async () => {
    client?.disconnect();
    await redis?.stop();
  });

  it('queues a message once however many replicas offer it, ', async () => {
    const { stream, seen } = workQueueKeys('directory');
    const offer = (key: string, minId = '0-0') =>
      client.eval(GATE_SCRIPT, 2, seen + key, stream, 60_000, minId, ...entryFields(CH, FROM_A, '{}'));
    const results = await Promise.all([offer('m1'), offer('m1'), offer('m1')]);
    expect(results.filter((r) => typeof r === 'string')).toHaveLength(1);
    expect(results.filter((r) => r === null)).toHaveLength(2);
    expect(await offer('m2')).toEqual(expect.any(String));
    expect(await client.xlen(stream)).toBe(2);
  });
});
