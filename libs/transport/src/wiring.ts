import { ExceptionFilter, INestApplication, INestMicroservice } from '@nestjs/common';
import { CustomStrategy } from '@nestjs/microservices';
import { validationPipe } from './validation';

/**
 * The one way Astral wires validation (docs/CONTRACTS.md), in every app: one global validation pipe and
 * one global exception filter on the application, set before its bus side is connected. The bus side
 * of a hybrid app (HTTP and Redis) inherits them through connectBus; a bus-only app (the relay) gets
 * them directly. The filter tells the sides apart (`host.getType()`), so HTTP requests get the HTTP
 * error shape and bus messages the RPC one. No controller declares its own pipe.
 */
export function useValidation(app: INestApplication | INestMicroservice, filter: ExceptionFilter): void {
  app.useGlobalPipes(validationPipe());
  app.useGlobalFilters(filter);
}

/**
 * Connects the Redis side of a hybrid app. It inherits the app's pipe and filter, so useValidation must
 * come first: Nest binds a handler's pipes when the microservice is connected.
 */
export function connectBus(app: INestApplication, strategy: CustomStrategy['strategy']): INestMicroservice {
  return app.connectMicroservice<CustomStrategy>({ strategy }, { inheritAppConfig: true });
}
