import { ExecutionContext, Injectable } from '@nestjs/common';
import {
  SkipThrottle,
  ThrottlerGuard,
  ThrottlerLimitDetail,
  ThrottlerModuleOptions,
} from '@nestjs/throttler';
import type { Request, Response } from 'express';
import { AstralError } from '@astral/contracts';
import { DirectoryConfig } from '../directory.config';

/** The window of both limits: so many requests per address per second. */
export const RATE_WINDOW_MS = 1000;

const WRITES = new Set(['POST', 'PUT', 'PATCH', 'DELETE']);

export type RateClass = 'reads' | 'writes';

/** Which limit an HTTP method counts against. Pure. */
export function rateClassOf(method: string): RateClass {
  return WRITES.has(method.toUpperCase()) ? 'writes' : 'reads';
}

const methodOf = (ctx: ExecutionContext): string => ctx.switchToHttp().getRequest<Request>().method;

/**
 * Per-address limits on the HTTP port (ASTRAL_HTTP_READS_PER_S, ASTRAL_HTTP_WRITES_PER_S; 0 is unlimited),
 * counted over every route of a class together: a flood of one route uses up the others too. Probes
 * (/healthz, /readyz, /metrics) are exempt (SkipRateLimits).
 */
export function rateLimitOptions(config: DirectoryConfig): ThrottlerModuleOptions {
  const limits: Record<RateClass, number> = {
    reads: config.httpReadsPerSecond,
    writes: config.httpWritesPerSecond,
  };
  return {
    throttlers: (['reads', 'writes'] as const).map((name) => ({
      name,
      ttl: RATE_WINDOW_MS,
      limit: limits[name],
      skipIf: (ctx: ExecutionContext) => limits[name] === 0 || rateClassOf(methodOf(ctx)) !== name,
    })),
    // One budget per address and class, across routes (the default key is per route).
    generateKey: (_ctx, tracker, name) => `${name}:${tracker}`,
    setHeaders: false,
  };
}

/** Exempts a controller (probes, metrics) from the rate limits. */
export const SkipRateLimits = (): MethodDecorator & ClassDecorator =>
  SkipThrottle({ reads: true, writes: true });

/**
 * The throttler on HTTP only (bus messages are not requests of an address), answering 429 with Retry-After (whole
 * seconds) and an AstralErrorBody that says what to do. The exception filter logs 429s at most once per address
 * per 10 s, so a flood does not become a flood of log lines.
 */
@Injectable()
export class RateLimitGuard extends ThrottlerGuard {
  protected override shouldSkip(ctx: ExecutionContext): Promise<boolean> {
    return Promise.resolve(ctx.getType() !== 'http');
  }

  protected override throwThrottlingException(
    ctx: ExecutionContext,
    detail: ThrottlerLimitDetail,
  ): Promise<void> {
    const http = ctx.switchToHttp();
    const req = http.getRequest<Request>();
    const retryAfter = Math.max(1, detail.timeToBlockExpire);
    http.getResponse<Response>().setHeader('Retry-After', String(retryAfter));
    const rateClass = rateClassOf(req.method);
    throw new AstralError(
      'no-capacity',
      `too many ${rateClass} from ${detail.tracker}: at most ${detail.limit} per second; retry after ${retryAfter} s`,
    );
  }
}
