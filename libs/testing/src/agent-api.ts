import { apiTokenPath, readApiToken } from '@astral/config';
import { HttpJsonOptions, httpJson } from './http-json';

/** A node agent's API as a caller reaches it: its base URL and its API token. */
export interface AgentApiTarget {
  apiUrl: string;
  apiToken: string;
}

/** The token a node keeps in its data directory (`<dataDir>/api-token`); throws if it has none yet. */
export function readNodeApiToken(dataDir: string): string {
  const token = readApiToken(dataDir);
  if (!token) throw new Error(`no API token at ${apiTokenPath(dataDir)}: has the node started?`);
  return token;
}

/** The header that authorizes a call to the node's API. */
export function agentAuthHeaders(target: Pick<AgentApiTarget, 'apiToken'>): Record<string, string> {
  return { authorization: `Bearer ${target.apiToken}` };
}

/** httpJson on the node's API (`path` from /api/…), with its token. */
export function agentApi<T = unknown>(
  target: AgentApiTarget,
  method: string,
  path: string,
  body?: unknown,
  options: HttpJsonOptions = {},
): Promise<T> {
  return httpJson<T>(method, `${target.apiUrl}${path}`, body, {
    ...options,
    headers: { ...agentAuthHeaders(target), ...options.headers },
  });
}
