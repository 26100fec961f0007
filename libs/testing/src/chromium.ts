/** Debian's Chromium, driven by playwright-core in the browser suites (ASTRAL_CHROMIUM overrides). */
export const CHROMIUM_PATH = process.env.ASTRAL_CHROMIUM ?? '/usr/bin/chromium';

/**
 * Flags that keep Chromium off every outside host (ENVIRONMENT.md): without the background-networking
 * ones it tries Google's hosts at every start, which this machine's closed network refuses.
 */
export const CHROMIUM_OFFLINE_ARGS = [
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
];
