import 'reflect-metadata';
import { loadOrCreateNodeKeys } from '@astral/identity';
import { NestFactory } from '@nestjs/core';
import { NestExpressApplication } from '@nestjs/platform-express';
import {
  AstralErrorFilter,
  NodeAddressedRedisServer,
  busConnections,
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
  loadOrCreateApiToken,
  nodeIdFor,
  listenerLimits,
  urlHost,
} from '@astral/config';

import { ListenerGuard, hardenHttpServer, jsonBodyOptions, requireJsonBody } from '@astral/net';
import { DocumentBuilder, SwaggerModule } from '@nestjs/swagger';
import { AgentModule } from './agent.module';
import { AGENT_CONTROL_HEADER, openApiPluginMetadata } from '@astral/contracts';
import { AgentEvents } from './events/agent-events';
import { attachEventsSocket } from './events/events.gateway';
import {
  apiAccessMiddleware,
  apiAccessPolicy,
  checkApiAccess,
  privateNetworkPreflight,
} from './api-access/api-access.middleware';

/**
 * Starts a node's agent: its local HTTP API, its Redis listener for tickets and relay events,
 * and its membership in the directory. Nothing runs on import.
 */
export async function startAgent(
  env: NodeJS.ProcessEnv = process.env,
): Promise<{ close(): Promise<void>; nodeId: string; apiUrl: string }> {
  const config = loadConfig(NodeConfig, NODE_ENV, env);
  const nodeId = nodeIdFor(config.dataDir, config.redisUrl);
  const keys = loadOrCreateNodeKeys(config.dataDir);
  const access = apiAccessPolicy(config, config.apiToken ?? loadOrCreateApiToken(config.dataDir));
  const log = createLogger('node-agent', nodeId, config.logLevel);
  adoptProcessPolicyLogger(log);
  if (!new URL(config.redisUrl).username) {
    log.warn(
      'the Redis URL names no user: on a bus without per-node ACL users any Redis client can act as any node; ' +
        'fine for a lab, not for untrusted nodes (astral redis grant, docs/SECURITY.md)',
    );
  }
  const bus = { url: config.redisUrl, caFile: config.redisCaFile };
  // One publisher and one subscriber for the process, shared by the bus client (AgentModule) and server.
  const connections = busConnections(bus);
  const app = await NestFactory.create<NestExpressApplication>(
    AgentModule.register(config, nodeId, keys, log, connections),
    {
      logger: new PinoNestLogger(log),
      bodyParser: false,
    },
  );
  // Limits of the API port (caps, timeouts, 400/408/431 for malformed requests); bodies: JSON only, 64 KB, 32 levels deep.
  hardenHttpServer(app.getHttpServer(), new ListenerGuard('agent API', listenerLimits(config), log), log);
  // CORS for the directory's pages only; first, so that a refusal the page gets is readable to it.
  app.use(privateNetworkPreflight(access));
  app.enableCors({
    origin: access.directoryOrigin ?? false,
    allowedHeaders: ['content-type', 'authorization', AGENT_CONTROL_HEADER],
  });
  // Host, Origin and token checks before any route or body parser reads the request (docs/security/agent-api.md).
  app.use(apiAccessMiddleware(access, log));
  app.use(requireJsonBody);
  app.useBodyParser('json', jsonBodyOptions('64kb'));
  // Validation wired as in every app (docs/CONTRACTS.md): one pipe and one filter, which the bus side
  // inherits; the filter answers HTTP with a JSON error body and Redis with an AstralErrorBody.
  useValidation(app, new AstralErrorFilter(log));
  connectBus(app, new NodeAddressedRedisServer(nodeId, redisTransport(bus).options, connections));
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
        .addBearerAuth({ type: 'http', scheme: 'bearer', description: "the node's api-token file" })
        .addSecurityRequirements('bearer')
        .build(),
    ),
  );
  try {
    await app.startAllMicroservices();
  } catch (err) {
    await app.close().catch(() => undefined);
    throw explainStartupError(err, config.redisUrl);
  }
  await app.listen(config.apiPort, config.apiHost);
  const wss = attachEventsSocket(
    app.getHttpServer(),
    app.get(AgentEvents),
    (req) => checkApiAccess(req, access, log),
    log,
    config.idleTimeoutMs / 3,
  );
  const apiUrl = `http://${urlHost(config.apiHost)}:${config.apiPort}`;
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
