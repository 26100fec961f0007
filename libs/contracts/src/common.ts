import { isIP } from 'node:net';
import {
  Equals,
  IsInt,
  IsString,
  Max,
  MaxLength,
  Min,
  ValidationOptions,
  registerDecorator,
} from 'class-validator';

/** A host as a node registers it: hostname or IP address characters (a loose check; IsHost is the strict one). */
export const HOST_PATTERN = /^[A-Za-z0-9.:\-[\]]{1,253}$/;

/** A DNS name: dot-separated labels of letters, digits and inner dashes, at most 253 characters. */
const HOSTNAME =
  /^(?=.{1,253}$)[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?)*$/;

/** Whether `value` is a host a peer may be dialled at: an IPv4 or IPv6 address (unbracketed) or a DNS name. */
export function isHost(value: unknown): value is string {
  return typeof value === 'string' && (isIP(value) !== 0 || HOSTNAME.test(value));
}

/** A host a peer advertises for others to connect to (see isHost). */
export function IsHost(options?: ValidationOptions): PropertyDecorator {
  return (target: object, propertyName: string | symbol) =>
    registerDecorator({
      name: 'isHost',
      target: target.constructor,
      propertyName: String(propertyName),
      options: { message: '$property must be an IP address or a DNS name', ...options },
      validator: { validate: (value: unknown) => isHost(value) },
    });
}

/** A TCP port a peer listens on: an integer from 1 to 65535. */
export function IsPort(): PropertyDecorator {
  return (target: object, propertyName: string | symbol) => {
    IsInt()(target, propertyName);
    Min(1)(target, propertyName);
    Max(65535)(target, propertyName);
  };
}

/** A peer declined a request, saying why (an answer, not an error). */
export class Refused {
  @IsString()
  @MaxLength(500)
  refused!: string;
}

/** The peer no longer knows what the heartbeat is about (a ticket, a member). */
export class UnknownToPeer {
  @Equals(true)
  unknown!: true;
}

/*
 * Documenting aliases for the fields of replies built as plain objects (no validation rules to read): the
 * OpenAPI metadata (scripts/build.js) gives them their format or integer type.
 */
/** An instant as ISO 8601 text, e.g. 2024-05-01T12:00:00.000Z (OpenAPI: format date-time). */
export type IsoDateTime = string;
/** A node id (OpenAPI: format uuid). */
export type Uuid = string;
/** A whole number (OpenAPI: type integer). */
export type Integer = number;

/** A request with no fields (the relay's stats). */
export type EmptyPayload = Record<string, never>;

/** Replies of requests that only acknowledge. */
export interface OkReply {
  ok: true;
}
export interface ClosedReply {
  closed: boolean;
}
export interface RemovedReply {
  removed: boolean;
}

/** Where viewers reach the directory: `http(s)://host[:port]`, without a path or a trailing slash. */
export const PUBLIC_URL_PATTERN = /^https?:\/\/[^\s/?#]+$/;

/** An Ed25519 public key as Astral writes it: the raw 32 bytes in base64url, without padding. */
export const PUBLIC_KEY_PATTERN = /^[A-Za-z0-9_-]{43}$/;
