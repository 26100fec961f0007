import { NodeInfo } from '@astral/contracts';
import { RequesterKey } from '@astral/overlay';

/**
 * The key a requester's token will name, or why it cannot be given a ticket (the ticket server answers
 * 403): the directory must list the node, with a key.
 */
export function requesterKeyOf(requesterId: string, listed: NodeInfo | undefined): RequesterKey {
  if (listed?.publicKey) return { key: listed.publicKey };
  return {
    listed: listed !== undefined,
    refused: listed
      ? `the directory has no public key for node ${requesterId}: its ticket could not name it; register it with its key (upgrade the node)`
      : `node ${requesterId} is not registered with the directory`,
  };
}
