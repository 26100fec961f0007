'use strict';
// Container HEALTHCHECK: probes the process named by ASTRAL_ROLE on its own port.
//   directory -> :ASTRAL_DIRECTORY_PORT/healthz   relay -> :ASTRAL_FORWARD_PORT/healthz
//   agent     -> :ASTRAL_API_PORT/api/status      node  -> both agent and relay
const env = process.env;
const reachable = (h) => (h && h !== '0.0.0.0' ? h : '127.0.0.1');
const host = reachable(env.ASTRAL_HOST);
// The agent's API binds ASTRAL_API_HOST (default loopback), not the advertised ASTRAL_HOST.
const apiHost = reachable(env.ASTRAL_API_HOST);
const probes = {
  directory: [`http://127.0.0.1:${env.ASTRAL_DIRECTORY_PORT || 8080}/healthz`],
  relay: [`http://${host}:${env.ASTRAL_FORWARD_PORT || 9000}/healthz`],
  agent: [`http://${apiHost}:${env.ASTRAL_API_PORT || 7000}/api/status`],
};
probes.node = [...probes.agent, ...probes.relay];
const urls = probes[(env.ASTRAL_ROLE || '').trim()];
if (!urls) process.exit(0);
Promise.all(
  urls.map((u) =>
    fetch(u, { signal: AbortSignal.timeout(2500) }).then((r) => {
      if (!r.ok) throw new Error(`${u}: HTTP ${r.status}`);
    }),
  ),
)
  .then(() => process.exit(0))
  .catch((err) => {
    process.stderr.write(`unhealthy: ${err.message}\n`);
    process.exit(1);
  });
