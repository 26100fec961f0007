import type { PublishReply } from '@astral/contracts';
import { basename } from 'node:path';
import { Command, Option } from 'commander';
import { NodeConfig } from '@astral/config';
import { httpJson, redactUrl } from '@astral/testing';
import { FlvFilePublisher } from '@astral/media';
import { errorMessage, printJson, renderRecord } from '../output';
import { resolveApiToken } from '../node-api/node-api-client';
import { playRecord } from '../node-api/render';

/** Splits a stream's RTMP publish address into what OBS asks for: a server URL and a stream key. */
export function obsSettings(
  created: Pick<PublishReply, 'streamId' | 'key' | 'rtmpUrl'>,
): PublishReply['obs'] {
  const url = new URL(created.rtmpUrl);
  const segments = url.pathname.split('/').filter(Boolean);
  const last = segments.pop() ?? created.streamId;
  const server = `${url.protocol}//${url.host}/${segments.join('/')}`;
  const streamKey = url.search.includes('key=')
    ? `${last}${url.search}`
    : `${created.streamId}?key=${encodeURIComponent(created.key)}`;
  return { server, streamKey };
}

/** Creates a stream on a node through its agent's API, with the node's API token. */
export async function createStream(
  nodeApiUrl: string,
  apiToken: string | undefined,
  title: string,
  description?: string,
): Promise<PublishReply> {
  return httpJson<PublishReply>(
    'POST',
    `${nodeApiUrl.replace(/\/+$/, '')}/api/streams`,
    { title, description },
    { headers: apiToken ? { authorization: `Bearer ${apiToken}` } : {} },
  );
}

interface PublishOptions {
  to?: string;
  dataDir: string;
  apiToken?: string;
  title?: string;
  description?: string;
  publishUrl?: string;
  duration?: string;
  json?: boolean;
}

export function publishCommand(): Command {
  return new Command('publish')
    .description('publish an FLV file as a live stream, looping it in real time')
    .argument('<file>', 'FLV file (H.264 + AAC), e.g. fixtures/sample.flv')
    .option('--to <url>', "the node's agent API, e.g. http://127.0.0.1:7000 (creates a new stream)")
    .addOption(
      new Option('--data-dir <dir>', "the --to node's data directory (its api-token file)")
        .default(new NodeConfig().dataDir)
        .env('ASTRAL_DATA_DIR'),
    )
    .addOption(
      new Option('--api-token <token>', "the --to node's API token, instead of --data-dir's").env(
        'ASTRAL_API_TOKEN',
      ),
    )
    .option('--title <title>', 'stream title (default: the file name)')
    .option('--description <text>', 'stream description')
    .option('--publish-url <url>', 'publish to this HTTP-FLV URL instead of creating a stream')
    .option('--duration <sec>', 'stop after this many seconds (default: until Ctrl-C)')
    .option('--json', 'print the stream as JSON')
    .action(async (file: string, opts: PublishOptions) => {
      let publishUrl = opts.publishUrl;
      if (!publishUrl) {
        if (!opts.to) {
          process.stderr.write('astral publish: give --to NODE_API_URL (or --publish-url URL)\n');
          process.exit(2);
        }
        let created: PublishReply;
        try {
          const token = resolveApiToken(opts.apiToken, opts.dataDir);
          created = await createStream(opts.to, token, opts.title ?? basename(file), opts.description);
        } catch (err) {
          process.stderr.write(`astral publish: could not create the stream: ${errorMessage(err)}\n`);
          process.exit(1);
        }
        publishUrl = created.publishUrl;
        const obs = obsSettings(created);
        if (opts.json) printJson({ streamId: created.streamId, play: created.play, obs });
        else {
          process.stdout.write(
            `${renderRecord([['stream id', created.streamId], ...playRecord(created.play)])}\n`,
          );
          process.stdout.write(
            `To publish from OBS instead (keep the key secret):\n  OBS server:     ${obs.server}\n  OBS stream key: ${obs.streamKey}\n`,
          );
        }
      }
      const durationSec = opts.duration !== undefined ? Number(opts.duration) : undefined;
      if (durationSec !== undefined && !(durationSec > 0)) {
        process.stderr.write('astral publish: --duration must be a positive number of seconds\n');
        process.exit(2);
      }
      let publisher: FlvFilePublisher;
      try {
        publisher = new FlvFilePublisher({ file, url: publishUrl, durationSec });
        await publisher.start();
      } catch (err) {
        process.stderr.write(`astral publish: ${errorMessage(err)}\n`);
        process.exit(1);
      }
      process.stderr.write(
        `astral publish: sending ${file} to ${redactUrl(publishUrl)} in a loop${durationSec ? ` for ${durationSec} s` : ''}; Ctrl-C to stop\n`,
      );
      const stop = (): void => void publisher.stop();
      process.once('SIGINT', stop);
      process.once('SIGTERM', stop);
      try {
        await publisher.done;
      } catch (err) {
        process.stderr.write(`astral publish: ${errorMessage(err)}\n`);
        process.exit(1);
      }
      process.stderr.write(
        `astral publish: stopped after ${publisher.framesSent} video frames, ${publisher.loops} loops\n`,
      );
      process.exit(0);
    });
}
