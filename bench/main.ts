/**
 * `npm run bench -- <scenario> [--flags]`: benchmarks that start real processes and print a table and
 * JSON. Scenarios are loaded on demand, after the @astral/* paths are mapped onto the compiled tree.
 */
import { join } from 'node:path';

type Scenario = (args: string[]) => Promise<void>;

const scenarios: Record<string, () => Promise<Scenario>> = {
  directory: async () => (await import('./directory')).run,
  fanout: async () => (await import('./fanout')).fanoutBench,
  players: async () => (await import('./players')).playersBench,
  chain: async () => (await import('./chain')).chainBench,
  tree: async () => (await import('./overlay')).treeBench,
  failover: async () => (await import('./failover')).failoverBench,
  peers: async () => (await import('./peers')).peersBench,
  churn: async () => (await import('./churn')).churnBench,
  sim: async () => (await import('./sim/run')).simBench,
  compose: async () => (await import('./compose-testbed')).composeBench,
  fuzz: async () => (await import('./fuzz')).fuzzBench,
  soak: async () => (await import('./soak')).soakBench,
  tickets: async () => (await import('./tickets')).ticketsBench,
  viewers: async () => (await import('./viewers')).viewersBench,
  hls: async () => (await import('./hls')).hlsBench,
  bus: async () => (await import('./bus')).busBench,
};

async function main(): Promise<void> {
  if (__filename.endsWith('.js')) {
    // Running the compiled tree (dist/bench/main.js): resolve @astral/* inside dist, as bin/astral.js does.
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    (require('tsconfig-paths') as { register(o: object): void }).register({
      baseUrl: join(__dirname, '..'),
      paths: { '@astral/*': ['libs/*/src'] },
      addMatchAll: false,
    });
  }
  const [name, ...args] = process.argv.slice(2);
  const load = name ? scenarios[name] : undefined;
  if (!load) {
    console.error(`usage: npm run bench -- <${Object.keys(scenarios).join('|')}> [--flags]`);
    process.exit(2);
  }
  // Ctrl-C or SIGTERM (bench:all's step timeout) stops every process the bench started, then exits;
  // the temp dirs go with the exit hook. Loaded here: @astral/* resolves only after the registration above.
  const { onTerminationSignal, stopAllProcesses } = await import('@astral/testing');
  onTerminationSignal(() => stopAllProcesses(5000), 130);
  await (
    await load()
  )(args);
}

main().then(
  () => process.exit(0),
  (err: unknown) => {
    console.error(`bench failed: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}`);
    process.exit(1);
  },
);
