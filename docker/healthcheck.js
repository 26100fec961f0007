'use strict';
// Container HEALTHCHECK: probes the process named by ASTRAL_ROLE on its own port.
//   directory -> :ASTRAL_DIRECTORY_PORT/healthz   relay -> :ASTRAL_FORWARD_PORT/healthz
//   agent     -> :ASTRAL_API_PORT/api/status      node  -> both agent and relay
const env = process.env;
const host = env.ASTRAL_HOST && env.ASTRAL_HOST !== '0.0.0.0' ? env.ASTRAL_HOST : '127.0.0.1';
const probes = {
  directory: [`http://127.0.0.1:${env.ASTRAL_DIRECTORY_PORT || 8080}/healthz`],
  relay: [`http://${host}:${env.ASTRAL_FORWARD_PORT || 9000}/healthz`],
  agent: [`http://${host}:${env.ASTRAL_API_PORT || 7000}/api/status`],
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
