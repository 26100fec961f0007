import { ApiProperty, ApiPropertyOptions } from '@nestjs/swagger';
import { getMetadataStorage } from 'class-validator';
import {
  AnnounceStream,
  CreateStreamRequest,
  ListStreamsRequest,
  NodeHeartbeat,
  NodeRef,
  PromoteSupernode,
  RegisterNodeRequest,
  StreamRef,
} from '@astral/contracts';
import { HeartbeatBody, ListNodesQuery, ListSupernodesQuery, PromoteBody } from '../nodes/nodes.http.controller';
import { AnnounceBody } from '../streams/streams.http.controller';

type Ctor = abstract new (...args: never[]) => unknown;

/**
 * OpenAPI schemas for the request classes, derived from their class-validator rules, so the contracts
 * library stays free of Swagger and the documented constraints are exactly the validated ones.
 */
export function describeFromValidation(cls: Ctor): void {
  const rules = getMetadataStorage().getTargetValidationMetadatas(cls, '', true, false);
  const props = new Map<string, ApiPropertyOptions & Record<string, unknown>>();
  for (const rule of rules) {
    const p = props.get(rule.propertyName) ?? { required: true };
    props.set(rule.propertyName, p);
    const c = rule.constraints as unknown[] | undefined;
    switch (rule.name) {
      case 'isOptional':
        p.required = false;
        break;
      case 'isInt':
        p.type = 'integer';
        break;
      case 'isBoolean':
        p.type = 'boolean';
        break;
      case 'isString':
        p.type = 'string';
        break;
      case 'min':
        p.minimum = c?.[0] as number;
        break;
      case 'max':
        p.maximum = c?.[0] as number;
        break;
      case 'maxLength':
        p.type = 'string';
        p.maxLength = c?.[0] as number;
        break;
      case 'isUuid':
        p.type = 'string';
        p.format = 'uuid';
        break;
      case 'matches':
        p.type = 'string';
        p.pattern = (c?.[0] as RegExp).source;
        break;
      case 'isIn':
        p.enum = c?.[0] as string[];
        break;
      case undefined:
      default:
        break;
    }
  }
  for (const [name, options] of props) {
    ApiProperty(options)(cls.prototype as object, name);
  }
}

let done = false;

/** Decorates every request class the HTTP API takes; call before building the OpenAPI document. */
export function describeRequestSchemas(): void {
  if (done) return;
  done = true;
  for (const cls of [
    RegisterNodeRequest,
    NodeHeartbeat,
    NodeRef,
    PromoteSupernode,
    CreateStreamRequest,
    AnnounceStream,
    StreamRef,
    ListStreamsRequest,
    ListNodesQuery,
    ListSupernodesQuery,
    HeartbeatBody,
    PromoteBody,
    AnnounceBody,
  ]) {
    describeFromValidation(cls);
  }
}
