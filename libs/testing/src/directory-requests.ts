import { randomBytes } from 'node:crypto';
import { RegisterNodeRequest } from '@astral/contracts';
import { NodeKeys, RequestSigner, generateNodeKeys, signedRequestHeaders } from '@astral/identity';
import { registerNodeRequest } from './node-requests';

/** A node for tests that call the directory's HTTP API: its registration and the keys that sign as it. */
export interface TestNode extends RequestSigner {
  readonly keys: NodeKeys;
  readonly request: RegisterNodeRequest;
}

/** A fresh node id and key pair, with a registration carrying that key. */
export function testNode(overrides: Partial<RegisterNodeRequest> = {}): TestNode {
  const keys = generateNodeKeys();
  const request = registerNodeRequest({ publicKey: keys.publicKey, ...overrides });
  return { nodeId: request.nodeId, keys, request };
}

/** A token for ASTRAL_OPERATOR_TOKEN (43 characters). */
export function newOperatorToken(): string {
  return randomBytes(32).toString('base64url');
}

/** Who a directory request is sent as: a node signing it, the operator's token, or nobody. */
export type DirectoryCaller = RequestSigner | { operatorToken: string } | undefined;

/**
 * Sends a request to the directory's HTTP API as `as`: signed by the node (the exact JSON text sent is what
 * is signed), with the operator's bearer token, or with no credentials. Returns the raw Response.
 */
export function directoryFetch(
  baseUrl: string,
  method: string,
  pathWithQuery: string,
  body?: unknown,
  as?: DirectoryCaller,
  headers: Record<string, string> = {},
): Promise<Response> {
  const text = body === undefined ? undefined : JSON.stringify(body);
  const credentials =
    as === undefined
      ? {}
      : 'operatorToken' in as
        ? { authorization: `Bearer ${as.operatorToken}` }
        : signedRequestHeaders(as, method, pathWithQuery, text);
  return fetch(`${baseUrl.replace(/\/+$/, '')}${pathWithQuery}`, {
    method,
    headers: {
      accept: 'application/json',
      ...(text !== undefined && { 'content-type': 'application/json' }),
      ...credentials,
      ...headers,
    },
    body: text,
    signal: AbortSignal.timeout(10_000),
  });
}
