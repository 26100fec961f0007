/**
 * Type-level spec of BusMap (libs/contracts/src/bus-map.ts). The project's jest compiles with swc, which
 * strips types without checking them, so the lines below are checked by `npx tsc -p tsconfig.json
 * --noEmit` (npm run typecheck): each `@ts-expect-error` must sit on a line that fails to compile, or tsc
 * reports the directive as unused. Jest only runs the runtime half (the decorators still register the
 * Nest patterns).
 */
import 'reflect-metadata';
import { PATTERN_METADATA } from '@nestjs/microservices/constants';
import { ClientProxy, Payload } from '@nestjs/microservices';
import {
  AgentPatterns,
  CarrierInfo,
  DirectoryPatterns,
  NodeHeartbeat,
  RegisterNodeReply,
  RegisterNodeRequest,
  RelayPatterns,
  RelayStats,
  StreamRef,
  TicketConfirm,
  TicketReply,
  TicketRequest,
  addressed,
} from '@astral/contracts';
import { OnEvent, OnRequest } from './bus-handlers';
import { emit, request } from './send';

const reply = {} as RegisterNodeReply;

class Handlers {
  @OnRequest(DirectoryPatterns.RegisterNode)
  register(@Payload() _req: RegisterNodeRequest, _key?: string): Promise<RegisterNodeReply> {
    return Promise.resolve(reply);
  }

  @OnEvent(DirectoryPatterns.NodeHeartbeat)
  heartbeat(@Payload() _hb: NodeHeartbeat): void {}

  @OnRequest(RelayPatterns.GetStats)
  stats(): RelayStats {
    return {} as RelayStats;
  }

  // @ts-expect-error the payload is not the pattern's (TicketConfirm for TicketRequest)
  @OnRequest(AgentPatterns.TicketRequest)
  wrongPayload(@Payload() _req: TicketConfirm): Promise<TicketReply> {
    return Promise.resolve({ refused: 'x' });
  }

  // @ts-expect-error the reply is not the pattern's (CarrierInfo[] for TicketRequest)
  @OnRequest(AgentPatterns.TicketRequest)
  wrongReply(@Payload() _req: TicketRequest): CarrierInfo[] {
    return [];
  }

  // @ts-expect-error a wider payload class than the contract's (StreamRef for AnnounceStream) would be validated too loosely
  @OnRequest(DirectoryPatterns.AnnounceStream)
  widerPayload(@Payload() _ref: StreamRef): Promise<never> {
    return Promise.reject(new Error('unused'));
  }

  // @ts-expect-error an event handler answers nothing
  @OnEvent(DirectoryPatterns.NodeHeartbeat)
  eventWithReply(@Payload() _hb: NodeHeartbeat): { ok: true } {
    return { ok: true };
  }

  // @ts-expect-error a request pattern is not an event
  @OnEvent(DirectoryPatterns.RegisterNode)
  requestAsEvent(@Payload() _req: RegisterNodeRequest): void {}
}

/** Compiled, never called: the send side of the map. */
export function sends(client: ClientProxy, ticketRequest: TicketRequest): void {
  const typed: Promise<RegisterNodeReply> = request(
    client,
    DirectoryPatterns.RegisterNode,
    {} as RegisterNodeRequest,
  );
  const offer: Promise<TicketReply> = request(
    client,
    addressed(AgentPatterns.TicketRequest, 'n'),
    ticketRequest,
  );
  void typed;
  void offer;
  void emit(client, DirectoryPatterns.NodeHeartbeat, { nodeId: 'n' });
  // @ts-expect-error the payload of RegisterNode is a RegisterNodeRequest
  void request(client, DirectoryPatterns.RegisterNode, { nodeId: 'n' });
  // @ts-expect-error the reply of ListCarriers is CarrierInfo[], not a RegisterNodeReply
  const wrong: Promise<RegisterNodeReply> = request(client, DirectoryPatterns.ListCarriers, {
    streamId: 's',
  });
  void wrong;
  // @ts-expect-error an addressed pattern is sent on its addressed() channel, not on the `{self}` template
  void request(client, AgentPatterns.TicketRequest, ticketRequest);
  // @ts-expect-error a plain string is not a pattern
  void request(client, 'directory.nodes.bogus', {});
  // @ts-expect-error an event is emitted, not requested
  void request(client, DirectoryPatterns.NodeHeartbeat, { nodeId: 'n' });
  // @ts-expect-error a request is sent, not emitted
  void emit(client, DirectoryPatterns.RegisterNode, {} as RegisterNodeRequest);
}

describe('bus handler decorators', () => {
  it('register the Nest pattern of every decorated handler, the typed ones and the refused ones alike', () => {
    const proto = Handlers.prototype;
    const patterns = (m: keyof Handlers): unknown =>
      Reflect.getMetadata(PATTERN_METADATA, Object.getOwnPropertyDescriptor(proto, m)?.value as object);
    expect(patterns('register')).toEqual([DirectoryPatterns.RegisterNode]);
    expect(patterns('heartbeat')).toEqual([DirectoryPatterns.NodeHeartbeat]);
    expect(patterns('stats')).toEqual([RelayPatterns.GetStats]);
    expect(patterns('wrongPayload')).toEqual([AgentPatterns.TicketRequest]);
  });
});
