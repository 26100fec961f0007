import 'reflect-metadata';
import { IncomingMessage, ServerResponse } from 'node:http';
import { AddressInfo } from 'node:net';
import { NestFactory } from '@nestjs/core';
import { NestExpressApplication } from '@nestjs/platform-express';
import {
  adoptProcessPolicyLogger,
  createLogger,
  explainStartupError,
  listenerLimits,
  loadConfig,
  PinoNestLogger,
  withoutCredentials,
  urlHost,
} from '@astral/config';
import { ListenerGuard, hardenHttpServer, jsonBodyOptions, requireJsonBody } from '@astral/net';
import { DocumentBuilder, SwaggerModule } from '@nestjs/swagger';
import { connectBus, redisTransport, useValidation } from '@astral/transport';
import { assertSchemaCurrent } from './database/data-source';
import { openApiPluginMetadata } from '@astral/contracts';
import { DirectoryRedisServer } from './transport/request-key';
import { AppModule } from './app.module';
import { DIRECTORY_ENV, DirectoryConfig } from './directory.config';
import { AstralExceptionFilter } from './common/astral-exception.filter';
import { DirectoryIdentity } from './auth/directory-key';
import { DirectoryMetrics } from './metrics/directory-metrics';

export interface RunningDirectory {
  /** Stops HTTP, the Redis subscription, the expiry sweep and the database, in that order. */
  close(): Promise<void>;
  /** Where the HTTP server listens, e.g. http://127.0.0.1:8080. */
  httpUrl: string;
}

/**
 * Starts the directory: HTTP (JSON API, pages, health) and the Redis patterns in one hybrid app.
 * Installs no signal handlers; the caller decides when to close.
 */
export async function startDirectory(env: NodeJS.ProcessEnv = process.env): Promise<RunningDirectory> {
  const config = loadConfig(DirectoryConfig, DIRECTORY_ENV, env);
  const logger = createLogger('directory', undefined, config.logLevel);
  adoptProcessPolicyLogger(logger);
  // PostgreSQL is migrated by `astral directory migrate` (a deploy job), never by a starting replica.
  await assertSchemaCurrent(config);
  const app = await NestFactory.create<NestExpressApplication>(AppModule.forRoot(config), {
    logger: new PinoNestLogger(logger),
    bodyParser: false,
    abortOnError: false,
  });
  try {
    // Limits of the HTTP port (caps, timeouts, 400/408/431 for malformed requests); bodies: JSON only, 64 KB, 32 levels deep.
    hardenHttpServer(
      app.getHttpServer(),
      new ListenerGuard('directory HTTP', listenerLimits(config), logger),
      logger,
    );
    app.use(requireJsonBody);
    // The raw bytes stay on the request (rawBody): a node's signature covers their hash (auth/credentials.guard.ts).
    const json = jsonBodyOptions('64kb');
    app.useBodyParser('json', {
      ...json,
      verify: (req: IncomingMessage & { rawBody?: Buffer }, res: ServerResponse, buf: Buffer) => {
        json.verify(req, res, buf);
        req.rawBody = buf;
      },
    });
    // Validation wired as in every app (docs/CONTRACTS.md): one pipe and one filter, which the bus side
    // inherits. A rejected message answers with AstralErrorBody 400 over Redis; HTTP gets the same body and status.
    useValidation(app, new AstralExceptionFilter());
    const bus = new DirectoryRedisServer(
      redisTransport({ url: config.redisUrl, caFile: config.redisCaFile }).options,
    );
    app.get(DirectoryMetrics).observeWorkSharing(() => bus.stats);
    connectBus(app, bus);
    // Request schemas from the class-validator rules, read at build time by the @nestjs/swagger plugin (scripts/build.js).
    await SwaggerModule.loadPluginMetadata(openApiPluginMetadata);
    const openApi = new DocumentBuilder()
      .setTitle('Astral directory')
      .setDescription(
        'Nodes, supernodes and streams of an Astral network. The same functions are Redis patterns (libs/contracts).',
      )
      .setVersion('0.1.0')
      .addBearerAuth({ type: 'http', scheme: 'bearer', description: 'ASTRAL_OPERATOR_TOKEN' }, 'operator')
      .addSecurity('node-signature', {
        type: 'apiKey',
        in: 'header',
        name: 'X-Astral-Signature',
        description:
          'A node signs its own requests: X-Astral-Node, X-Astral-Timestamp, X-Astral-Nonce and X-Astral-Signature (docs/DIRECTORY.md)',
      })
      .build();
    SwaggerModule.setup('api/docs', app, () => SwaggerModule.createDocument(app, openApi), {
      jsonDocumentUrl: 'api/docs/openapi.json',
    });
    await app.startAllMicroservices();
    await app.listen(config.port, config.host);
  } catch (err) {
    await app.close().catch(() => undefined);
    throw explainStartupError(err, config.redisUrl);
  }
  const address = app.getHttpServer().address() as AddressInfo;
  const host = urlHost(address.address);
  const httpUrl = `http://${host}:${address.port}`;
  app.get(DirectoryIdentity).listening(httpUrl);
  logger.info(
    {
      httpUrl,
      redisUrl: withoutCredentials(config.redisUrl),
      database: config.databaseUrl ? 'postgres' : 'sqlite',
    },
    'directory started',
  );
  let closing: Promise<void> | undefined;
  return {
    httpUrl,
    close: () => (closing ??= app.close().then(() => logger.info('directory stopped'))),
  };
}
