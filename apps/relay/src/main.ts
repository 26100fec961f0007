import 'reflect-metadata';
import { NestFactory } from '@nestjs/core';
import { NodeAddressedRedisServer, busConnections, redisTransport, useValidation } from '@astral/transport';
import {
  NODE_ENV,
  NodeConfig,
  PinoNestLogger,
  adoptProcessPolicyLogger,
  createLogger,
  loadConfig,
  nodeIdFor,
} from '@astral/config';
import { loadOrCreateNodeKeys } from '@astral/identity';
import { RelayModule } from './relay.module';
import { RelayService } from './relay.service';
import { RelayControlErrorFilter } from './control/control-error.filter';

/**
 * Starts a node's relay: the embedded media server (RTMP and HTTP-FLV), the forward server, and the
 * Redis listener for its agent's commands. Nothing runs on import.
 */
export async function startRelay(
  env: NodeJS.ProcessEnv = process.env,
): Promise<{ close(): Promise<void>; nodeId: string }> {
  const config = loadConfig(NodeConfig, NODE_ENV, env);
  const nodeId = nodeIdFor(config.dataDir, config.redisUrl);
  // The same key pair as the agent's (one file in the shared data directory): the relay checks the tokens
  // its agent signs, and signs its own proofs of possession when it pulls.
  const keys = loadOrCreateNodeKeys(config.dataDir);
  const log = createLogger('relay', nodeId, config.logLevel);
  adoptProcessPolicyLogger(log);
  const bus = { url: config.redisUrl, caFile: config.redisCaFile };
  // One publisher and one subscriber for the process, shared by the bus client (RelayModule) and server.
  const connections = busConnections(bus);
  const module = RelayModule.register(config, nodeId, keys, log, connections);
  const app = await NestFactory.createMicroservice(module, {
    strategy: new NodeAddressedRedisServer(nodeId, redisTransport(bus).options, connections),
    logger: new PinoNestLogger(log),
  });
  // Validation wired as in every app (useValidation, docs/CONTRACTS.md); the filter logs each refusal.
  useValidation(app, new RelayControlErrorFilter());
  await app.listen();
  app.get(RelayService).announceReady();
  log.info(
    {
      rtmpPort: config.rtmpPort,
      httpPort: config.httpPort,
      forwardPort: config.forwardPort,
      uploadLimitBps: config.uploadLimitBps ?? null,
    },
    'relay ready',
  );
  return {
    nodeId,
    close: async () => {
      await app.close();
    },
  };
}
