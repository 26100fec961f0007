import { AgentPatterns, DirectoryPatterns, RelayPatterns, addressed } from './patterns';
import {
  fromSender,
  senderAllowed,
  shardedChannel,
  shardedReplyChannel,
  splitSender,
  travelsSharded,
} from './bus-senders';

const A = '0a6b3b8e-1c2d-4e5f-8a9b-0c1d2e3f4a5b';
const B = '1b7c4c9f-2d3e-4f60-9bac-1d2e3f4a5b6c';

describe('senderAllowed', () => {
  it("lets a relay obey only its own agent, and an agent believe only its own relay's events", () => {
    expect(senderAllowed(addressed(RelayPatterns.SetUploadLimit, B), B, {})).toEqual({ ok: true });
    expect(senderAllowed(addressed(RelayPatterns.SetUploadLimit, B), A, {}).ok).toBe(false);
    expect(senderAllowed(addressed(AgentPatterns.RelayStreamEnded, B), B, { streamId: 's' }).ok).toBe(true);
    expect(senderAllowed(addressed(AgentPatterns.RelayStreamEnded, B), A, { streamId: 's' }).ok).toBe(false);
  });

  it('lets a node act on the directory only as itself', () => {
    expect(senderAllowed(DirectoryPatterns.UnregisterNode, A, { nodeId: A }).ok).toBe(true);
    expect(senderAllowed(DirectoryPatterns.UnregisterNode, A, { nodeId: B })).toEqual({
      ok: false,
      reason: "nodeId must be the sender's own id",
    });
    expect(senderAllowed(DirectoryPatterns.EndStream, A, { streamId: 'x', nodeId: B }).ok).toBe(false);
    expect(senderAllowed(DirectoryPatterns.CreateStream, A, { sourceNodeId: A }).ok).toBe(true);
  });

  it('lets anyone read, and a peer ask for tickets only as itself', () => {
    expect(senderAllowed(DirectoryPatterns.ListStreams, 'operator', {}).ok).toBe(true);
    expect(senderAllowed(addressed(AgentPatterns.TicketRequest, B), A, { requesterId: A }).ok).toBe(true);
    expect(senderAllowed(addressed(AgentPatterns.TicketRequest, B), A, { requesterId: B }).ok).toBe(false);
  });

  it('refuses senders that are not ids, unknown patterns and payloads that are not objects', () => {
    expect(senderAllowed(DirectoryPatterns.ListStreams, 'anyone', {}).ok).toBe(false);
    expect(senderAllowed('directory.nodes.explode', A, {}).ok).toBe(false);
    expect(senderAllowed(DirectoryPatterns.UnregisterNode, A, null).ok).toBe(false);
    expect(senderAllowed(DirectoryPatterns.UnregisterNode, 'directory', { nodeId: 'directory' }).ok).toBe(
      false,
    );
  });
});

describe('splitSender', () => {
  it('splits at the last @, so a channel cannot smuggle a second sender', () => {
    expect(splitSender(fromSender(addressed(AgentPatterns.TicketRequest, B), A))).toEqual({
      base: `node.${B}.tickets.request`,
      sender: A,
    });
    expect(splitSender(`node.${B}.x@${B}@${A}`)).toEqual({ base: `node.${B}.x@${B}`, sender: A });
    expect(splitSender('directory.nodes.list')).toBeNull();
  });
});

describe('sharded channels (Redis Cluster)', () => {
  it('put the sender in a hash tag, and split back to the same base and sender', () => {
    const base = addressed(RelayPatterns.SetUploadLimit, A);
    expect(shardedChannel(base, A)).toBe(`relay.${A}.limits.set@{${A}}`);
    expect(shardedReplyChannel(base, A)).toBe(`relay.${A}.limits.set@{${A}}.reply`);
    expect(splitSender(shardedChannel(base, A))).toEqual({ base, sender: A });
    // A brace that is not a whole hash tag is not unwrapped: the sender check then refuses it.
    expect(splitSender(`${base}@{${A}`)).toEqual({ base, sender: `{${A}` });
  });

  it('travel sharded only from a node to its own channels; to another node or the directory, not', () => {
    expect(travelsSharded(addressed(RelayPatterns.SetUploadLimit, A), A)).toBe(true);
    expect(travelsSharded(addressed(AgentPatterns.TicketRequest, B), A)).toBe(false);
    expect(travelsSharded('directory.nodes.register', A)).toBe(false);
  });
});
