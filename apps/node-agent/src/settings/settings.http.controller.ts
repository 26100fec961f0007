import { Body, Controller, Get, HttpCode, Patch, Post } from '@nestjs/common';
import { ApiOperation, ApiTags } from '@nestjs/swagger';
import { parseBitrate } from '@astral/config';
import { LeaveReply, NodeSettings, NodesReply, UpdateSettingsRequest } from '@astral/contracts';
import { TicketsService } from '../tickets/tickets.service';
import { MembershipService } from '../membership/membership.service';
import { DirectoryLink } from '../directory/directory-link.service';

@ApiTags('node')
@Controller('api')
export class SettingsHttpController {
  constructor(
    private readonly tickets: TicketsService,
    private readonly membership: MembershipService,
    private readonly directoryLink: DirectoryLink,
  ) {}

  @Get('settings')
  @ApiOperation({ summary: 'Upload limit (bits per second, null = unlimited) and supernode capacity' })
  settings(): NodeSettings {
    return { uploadLimitBps: this.tickets.limitBps, maxChildren: this.membership.maxChildren };
  }

  @Patch('settings')
  @ApiOperation({ summary: 'Change the upload limit or the supernode capacity at run time' })
  async update(@Body() body: UpdateSettingsRequest): Promise<NodeSettings> {
    if (body.uploadLimit !== undefined) await this.tickets.setUploadLimit(parseBitrate(body.uploadLimit));
    if (body.maxChildren !== undefined) this.membership.setMaxChildren(body.maxChildren);
    return this.settings();
  }

  @Get('nodes')
  @ApiOperation({
    summary:
      "Known nodes: this node's role, its supernode, its members, and the directory's nodes (empty, with directoryError, while the directory does not answer)",
  })
  async nodes(): Promise<NodesReply> {
    const place = {
      role: this.membership.role,
      supernodeId: this.membership.supernodeId,
      members: this.membership.memberIds(),
    };
    // The membership view does not need the directory (seeds do not): without it, say why it is missing.
    try {
      return { ...place, directory: await this.directoryLink.directory.listNodes({}) };
    } catch (err) {
      return { ...place, directory: [], directoryError: (err as Error).message };
    }
  }

  @Post('leave')
  @HttpCode(202)
  @ApiOperation({ summary: 'Leave the network gracefully: children re-parent, then the node stops' })
  leave(): LeaveReply {
    // The process's SIGTERM handler runs the graceful leave and exits; `node start` then stops the relay.
    setTimeout(() => process.kill(process.pid, 'SIGTERM'), 50);
    return { leaving: true };
  }
}
