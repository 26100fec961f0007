import { IsBase64, IsUUID, MaxLength } from 'class-validator';
import { StreamRef } from './streams';

/**
 * The largest preview JPEG the directory keeps, in bytes. It travels base64-encoded (4/3 larger) in one bus
 * message, which the transport caps at 256 KiB (MAX_MESSAGE_BYTES of @astral/transport), so 160 KiB leaves room
 * for the envelope. A 320-pixel-wide frame is 10-40 KB.
 */
export const MAX_PREVIEW_BYTES = 160 * 1024;

/** Base64 characters of a MAX_PREVIEW_BYTES image. */
export const MAX_PREVIEW_BASE64 = Math.ceil(MAX_PREVIEW_BYTES / 3) * 4;

/**
 * The stream's source node sends its latest preview frame (a JPEG) to the directory over the bus, every few
 * seconds. Every directory replica receives it (pub/sub) and keeps the latest in memory; only the source node of
 * a live stream may set it (docs/SEEDING.md#previews).
 */
export class StreamPreview extends StreamRef {
  @IsUUID()
  nodeId!: string;

  /** The JPEG, base64 (RFC 4648 with padding). */
  @IsBase64({}, { message: 'jpeg must be the image, base64-encoded' })
  @MaxLength(MAX_PREVIEW_BASE64, {
    message: `jpeg must be at most ${MAX_PREVIEW_BYTES} bytes (base64 ${MAX_PREVIEW_BASE64} characters)`,
  })
  jpeg!: string;
}
