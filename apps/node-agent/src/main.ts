import 'reflect-metadata';
import { loadOrCreateNodeKeys } from '@astral/identity';
import { NestFactory } from '@nestjs/core';
import { NestExpressApplication } from '@nestjs/platform-express';
import {
  AstralErrorFilter,
  NodeAddressedRedisServer,
  connectBus,
  redisTransport,
  useValidation,
} from '@astral/transport';
import {
  NODE_ENV,
  NodeConfig,
  PinoNestLogger,
  adoptProcessPolicyLogger,
  createLogger,
  explainStartupError,
  loadConfig,
  loadOrCreateNodeId,
  listenerLimits,
  urlHost,
} from '@astral/config';

import { ListenerGuard, hardenHttpServer, jsonBodyOptions, requireJsonBody } from '@astral/net';
import { DocumentBuilder, SwaggerModule } from '@nestjs/swagger';
import { AgentModule } from './agent.module';
import { openApiPluginMetadata } from '@astral/contracts';
import { AgentEvents } from './events/agent-events';
import { attachEventsSocket } from './events/events.gateway';

/** Origins allowed to call the local API from a browser: the directory's pages and localhost. */
export function corsOriginAllowed(origin: string | undefined, directoryOrigin: string | undefined): boolean {
  if (!origin) return true; // not a browser cross-origin request (curl, the CLI)
  if (directoryOrigin && origin === directoryOrigin) return true;
  try {
    const u = new URL(origin);
    return u.hostname === 'localhost' || u.hostname === '127.0.0.1' || u.hostname === '[::1]';
  } catch {
    return false;
  }
}

/**
 * Starts a node's agent: its local HTTP API, its Redis listener for tickets and relay events,
 * and its membership in the directory. Nothing runs on import.
 */
export async function startAgent(
  env: NodeJS.ProcessEnv = process.env,
): Promise<{ close(): Promise<void>; nodeId: string; apiUrl: string }> {
  const config = loadConfig(NodeConfig, NODE_ENV, env);
  const nodeId = loadOrCreateNodeId(config.dataDir);
  const keys = loadOrCreateNodeKeys(config.dataDir);
  const log = createLogger('node-agent', nodeId, config.logLevel);
  adoptProcessPolicyLogger(log);
  const app = await NestFactory.create<NestExpressApplication>(
    AgentModule.register(config, nodeId, keys, log),
    {
      logger: new PinoNestLogger(log),
      bodyParser: false,
    },
  );
  // Limits of the API port (caps, timeouts, 400/408/431 for malformed requests); bodies: JSON only, 64 KB, 32 levels deep.
  hardenHttpServer(app.getHttpServer(), new ListenerGuard('agent API', listenerLimits(config), log), log);
  app.use(requireJsonBody);
  app.useBodyParser('json', jsonBodyOptions('64kb'));
  app.enableCors({
    origin: (origin, cb) => cb(null, corsOriginAllowed(origin, config.directoryOrigin)),
  });
  // Validation wired as in every app (docs/CONTRACTS.md): one pipe and one filter, which the bus side
  // inherits; the filter answers HTTP with a JSON error body and Redis with an AstralErrorBody.
  useValidation(app, new AstralErrorFilter(log));
  connectBus(
    app,
    new NodeAddressedRedisServer(
      nodeId,
      redisTransport({ url: config.redisUrl, caFile: config.redisCaFile }).options,
    ),
  );
  // Request schemas from the class-validator rules, read at build time by the @nestjs/swagger plugin (scripts/build.js).
  await SwaggerModule.loadPluginMetadata(openApiPluginMetadata);
  SwaggerModule.setup(
    'api/docs',
    app,
    SwaggerModule.createDocument(
      app,
      new DocumentBuilder()
        .setTitle('Astral node')
        .setDescription(
          'Local control API of an Astral node: status, settings, streams (publish, watch, seed), tickets, leave. Events: WebSocket /api/events.',
        )
        .setVersion('0.1.0')
        .build(),
    ),
  );
  try {
    await app.startAllMicroservices();
  } catch (err) {
    await app.close().catch(() => undefined);
    throw explainStartupError(err, config.redisUrl);
  }
  await app.listen(config.apiPort, config.host);
  const wss = attachEventsSocket(
    app.getHttpServer(),
    app.get(AgentEvents),
    (o) => corsOriginAllowed(o, config.directoryOrigin),
    log,
    config.idleTimeoutMs / 3,
  );
  const apiUrl = `http://${urlHost(config.host)}:${config.apiPort}`;
  log.info({ apiUrl }, 'agent ready');
  return {
    nodeId,
    apiUrl,
    close: async () => {
      for (const c of wss.clients) c.terminate();
      wss.close();
      await app.close();
    },
  };
}
