'use strict';
// Testbed one-shot: waits for a stream on the first agent, then makes every other agent watch it.
// Usage (in the Astral image): node /app/docker/testbed-watch.js http://node1-agent:7000 http://node2-agent:7000 ...
// ASTRAL_API_TOKEN: the agents' API token (the compose file gives every node the same one).
const [source, ...viewers] = process.argv.slice(2);
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
async function json(method, url) {
  const token = process.env.ASTRAL_API_TOKEN;
  const headers = token ? { authorization: `Bearer ${token}` } : {};
  const r = await fetch(url, { method, headers, signal: AbortSignal.timeout(15000) });
  const body = await r.text();
  if (!r.ok) throw new Error(`${method} ${url}: HTTP ${r.status} ${body.slice(0, 200)}`);
  return body ? JSON.parse(body) : null;
}
(async () => {
  let streamId;
  for (let i = 0; i < 120 && !streamId; i++) {
    const list = await json('GET', `${source}/api/streams`).catch(() => []);
    streamId = Array.isArray(list) && list.length > 0 ? list[0].streamId : undefined;
    if (!streamId) await sleep(1000);
  }
  if (!streamId) throw new Error(`no stream on ${source} after 120 s`);
  for (const v of viewers) {
    for (let attempt = 1; ; attempt++) {
      try {
        const w = await json('POST', `${v}/api/streams/${encodeURIComponent(streamId)}/watch`);
        console.log(`${v} watches ${streamId} from ${w.upstreamNodeId} (${w.hops} hops)`);
        break;
      } catch (err) {
        if (attempt >= 30) throw err;
        await sleep(1000);
      }
    }
  }
})().catch((err) => {
  console.error(`testbed-watch: ${err.message}`);
  process.exit(1);
});
