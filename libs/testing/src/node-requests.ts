import { randomUUID } from 'node:crypto';
import type { RegisterNodeRequest } from '@astral/contracts';
import { generateNodeKeys } from '@astral/identity';

/** A valid registration of a fresh node (new id, default ports, on 127.0.0.1), with `overrides` applied. */
export function registerNodeRequest(overrides: Partial<RegisterNodeRequest> = {}): RegisterNodeRequest {
  return {
    nodeId: randomUUID(),
    host: '127.0.0.1',
    rtmpPort: 1935,
    httpPort: 8000,
    forwardPort: 9000,
    apiPort: 7000,
    version: '0.1.0',
    publicKey: generateNodeKeys().publicKey,
    ...overrides,
  };
}
