import { join } from 'node:path';
import pino from 'pino';
import type { PlayUrls } from '@astral/contracts';
import { createLogger } from '@astral/config';
import {
  NETNS_NODE_PORTS,
  NetnsNetwork,
  NetnsUnavailableError,
  makeTempDir,
  removeTempDir,
  sampleFlvPath,
  startNetnsNetwork,
  waitFor,
  WaitAbortedError,
  HttpJsonError,
} from '@astral/testing';
import { errorMessage, formatBps, printJson, renderTable } from '../output';
import { FlvFilePublisher } from '@astral/media';
import { receives, watch } from '../commands/demo.command';
import { createStream } from '../commands/publish.command';

export interface NetnsTestbedOptions {
  nodes: number;
  uplink: string;
  tag: string;
  subnet: number;
  duration?: number;
  json?: boolean;
  logLevel: string;
}

interface NodeSummary {
  node: string;
  nodeId: string;
  namespace: string;
  address: string;
  apiUrl: string;
  upstream: string;
  hops: number;
  playing: boolean;
  play: PlayUrls;
}

/**
 * `astral testbed up --netns`: the namespace testbed (libs/testing netns), the bundled sample published
 * at node 1, every other node watching; prints the URLs and runs until Ctrl-C, SIGTERM or --duration,
 * then removes processes, namespaces, veths, bridge and rules. Exit code 1 on any failure (after the
 * same clean-up), with a message saying what failed.
 */
export async function runNetnsTestbed(o: NetnsTestbedOptions): Promise<number> {
  const log = createLogger('testbed', undefined, o.logLevel, pino.destination(2));
  const say = (line: string): void => void process.stderr.write(`astral testbed: ${line}\n`);

  let interrupted = false;
  let wakeUp: (() => void) | null = null;
  const onSignal = (signal: NodeJS.Signals): void => {
    if (interrupted) return;
    interrupted = true;
    say(`${signal}: stopping and removing the testbed…`);
    wakeUp?.();
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);

  const tmp = makeTempDir('astral-testbed-');
  const logDir = join(tmp, 'logs');
  let net: NetnsNetwork | null = null;
  let publisher: FlvFilePublisher | null = null;
  let failed = false;
  try {
    say(`building ${o.nodes} namespaces with a ${o.uplink} uplink each (logs of every process: ${logDir})`);
    try {
      net = await startNetnsNetwork({
        nodes: o.nodes,
        uplink: o.uplink,
        tag: o.tag,
        subnetOctet: o.subnet,
        dataRoot: join(tmp, 'data'),
        logDir,
        log,
      });
    } catch (err) {
      if (err instanceof NetnsUnavailableError)
        say(`cannot build the network-namespace testbed: ${err.message}`);
      else say(`the testbed did not start: ${errorMessage(err)}`);
      failed = true;
      return 1;
    }
    if (interrupted) return 0;
    const n = net;
    const names = new Map(n.nodes.map((x) => [x.nodeId, x.name]));
    const [source, ...viewers] = n.nodes;
    // A 5xx (the relay not answering yet on a loaded machine) is worth another try.
    const created = await waitFor(
      () =>
        createStream(
          source.apiUrl,
          source.apiToken,
          'Astral netns testbed',
          'fixtures/sample.flv, looped',
        ).catch((err: unknown) => {
          if (err instanceof HttpJsonError && err.status < 500) throw new WaitAbortedError(err.message);
          throw err;
        }),
      { timeoutMs: 30_000, intervalMs: 1000, what: `${source.name} to create the stream` },
    );
    log.info(
      { streamId: created.streamId, node: source.name },
      'stream created; publishing fixtures/sample.flv',
    );
    publisher = new FlvFilePublisher({ file: sampleFlvPath(), url: created.publishUrl });
    publisher.on('error', (err: Error) => {
      log.warn({ err: err.message }, 'the publisher stopped');
      failed = true;
      onSignal('SIGTERM');
    });
    await publisher.start();
    const summary: NodeSummary[] = [];
    const at = (i: number) => n.plan.nodes[i];
    summary.push({
      node: source.name,
      nodeId: source.nodeId,
      namespace: at(0).namespace,
      address: at(0).address,
      apiUrl: source.apiUrl,
      upstream: 'publisher',
      hops: 0,
      playing: await receives(created.play.httpFlv),
      play: created.play,
    });
    for (const v of viewers) {
      if (interrupted) return 0;
      const answer = await watch(v, created.streamId);
      const playing = await receives(answer.play.httpFlv);
      log.info(
        { node: v.name, upstream: names.get(answer.upstreamNodeId), hops: answer.hops, playing },
        'viewer watching',
      );
      summary.push({
        node: v.name,
        nodeId: v.nodeId,
        namespace: at(v.index).namespace,
        address: at(v.index).address,
        apiUrl: v.apiUrl,
        upstream: names.get(answer.upstreamNodeId) ?? answer.upstreamNodeId,
        hops: answer.hops,
        playing,
        play: answer.play,
      });
    }
    if (interrupted) return 0;

    if (o.json) {
      printJson({
        directoryUrl: n.directoryUrl,
        redisUrl: n.redisUrl,
        streamId: created.streamId,
        uplinkBps: n.plan.uplinkBps,
        uploadLimitBps: n.plan.uploadLimitBps,
        logDir,
        nodes: summary,
      });
    } else {
      const out = (s: string): void => void process.stdout.write(`${s}\n`);
      out('');
      out(`Directory:     ${n.directoryUrl}/`);
      out(`Stream:        ${created.streamId}`);
      out(
        `Uplink (tbf):  ${formatBps(n.plan.uplinkBps)} per node; relay upload limit ${formatBps(n.plan.uploadLimitBps)}`,
      );
      out(`Logs:          ${logDir}`);
      out(
        renderTable(
          ['node', 'namespace', 'address', 'upstream', 'hops', 'playing', 'HTTP-FLV', 'LL-HLS'],
          summary.map((s) => [
            s.node,
            s.namespace,
            s.address,
            s.upstream,
            s.hops,
            s.playing ? 'yes' : 'NO',
            s.play.httpFlv,
            s.play.llHls,
          ]),
        ),
      );
      const last = summary[summary.length - 1];
      out('Try:');
      out(`  ffplay ${last.play.httpFlv}`);
      out(`  ffplay ${last.play.llHls}     (LL-HLS; ${last.play.hls}: plain HLS)`);
      out(`  curl http://${last.address}:${NETNS_NODE_PORTS.forward}/stats     (forwards, bytes, lag)`);
      out(
        `  ip netns exec ${n.plan.nodes[0].namespace} tc -s qdisc show dev ${n.plan.nodes[0].uplinkInside}`,
      );
      out(
        o.duration
          ? `Running for ${o.duration} s (Ctrl-C stops earlier).`
          : 'Press Ctrl-C to stop and remove everything.',
      );
    }
    await new Promise<void>((resolve) => {
      wakeUp = resolve;
      if (interrupted) resolve();
      if (o.duration) setTimeout(resolve, o.duration * 1000);
    });
    return failed ? 1 : 0;
  } catch (err) {
    say(`failed: ${errorMessage(err)}`);
    if (net) say(`last lines of the logs:\n${net.logs(1500)}`);
    failed = true;
    return 1;
  } finally {
    await publisher?.stop().catch(() => undefined);
    await net?.stop();
    removeTempDir(tmp);
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
    say(
      failed
        ? 'stopped after the failure; nothing is left behind'
        : 'stopped; namespaces, veths, bridge and rules removed',
    );
  }
}
