/** A host as it stands in a URL: an IPv6 address in brackets, anything else as it is. */
export function urlHost(host: string): string {
  return host.includes(':') && !host.startsWith('[') ? `[${host}]` : host;
}
