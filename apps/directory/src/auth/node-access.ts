import { SetMetadata, applyDecorators } from '@nestjs/common';
import { ApiBearerAuth, ApiForbiddenResponse, ApiSecurity, ApiUnauthorizedResponse } from '@nestjs/swagger';

/**
 * Which node may call a mutating route besides the operator: the node the request names, signing as itself.
 * `actingFor` says where the request names that node (a path parameter or a body field), or `service` when only
 * the service can tell (the source node of a stream). Every mutating HTTP route needs credentials; one without
 * NodeAccess is the operator's alone.
 */
export interface NodeAccess {
  actingFor: { param: string } | { body: string } | 'service';
  /**
   * Check the signature with the key in this body field rather than the one bound to the node (registration:
   * the service then holds that key to the id's first one).
   */
  keyInBody?: string;
}

export const NODE_ACCESS = 'astral:node-access';

/** A mutating route a node may call for its own records (see NodeAccess); the operator may call it for any. */
export const NodeMayCall = (access: NodeAccess): MethodDecorator =>
  applyDecorators(
    SetMetadata(NODE_ACCESS, access),
    ApiBearerAuth('operator'),
    ApiSecurity('node-signature'),
    ApiUnauthorizedResponse({
      description: 'No credentials, a wrong token, or a bad, stale or replayed signature',
    }),
    ApiForbiddenResponse({ description: "A node acting on another node's records" }),
  );
