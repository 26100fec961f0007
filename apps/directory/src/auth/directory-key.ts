import { createPrivateKey, createPublicKey, generateKeyPairSync } from 'node:crypto';
import { Global, Injectable, Logger, Module } from '@nestjs/common';
import { DataSource } from 'typeorm';
import { NodeKeys, publicKeyOf, signWith } from '@astral/identity';
import { urlHost } from '@astral/config';
import { DirectoryConfig } from '../directory.config';
import { DirectoryKeyEntity } from '../database/directory-key.entity';

/** The row of the key that signs play tokens. */
export const PLAY_TOKEN_KEY = 'play-tokens';

/**
 * The directory's key pair `name`, the same for every replica: a starting replica offers a fresh pair with one
 * insert that does nothing when a row exists, then reads whichever row won. The private key never leaves this
 * function except as the signer; it is never logged.
 */
export async function loadOrCreateDirectoryKey(ds: DataSource, name = PLAY_TOKEN_KEY): Promise<NodeKeys> {
  const fresh = generateKeyPairSync('ed25519').privateKey;
  const [sql, params] = ds.driver.escapeQueryWithParameters(
    'INSERT INTO directory_keys (name, public_key, private_key, created_at) VALUES (:name, :publicKey, :privateKey, :now) ' +
      'ON CONFLICT (name) DO NOTHING',
    {
      name,
      publicKey: publicKeyOf(createPublicKey(fresh)),
      privateKey: fresh.export({ format: 'der', type: 'pkcs8' }).toString('base64'),
      now: Date.now(),
    },
    {},
  );
  await ds.query(sql, params);
  const row = await ds.getRepository(DirectoryKeyEntity).findOneByOrFail({ name });
  const key = createPrivateKey({ key: Buffer.from(row.privateKey, 'base64'), format: 'der', type: 'pkcs8' });
  if (key.asymmetricKeyType !== 'ed25519' || publicKeyOf(createPublicKey(key)) !== row.publicKey)
    throw new Error(
      `directory_keys row ${name} does not hold a matching Ed25519 key pair; delete the row to make a new one ` +
        '(tokens signed with the old key stop verifying)',
    );
  return { publicKey: row.publicKey, sign: (message) => signWith(key, message) };
}

/**
 * Who the directory is to nodes and viewers: its play-token key (published as RegisterNodeReply.directoryKey) and
 * the URL viewers reach it at (RegisterNodeReply.publicUrl): ASTRAL_PUBLIC_URL, else the address it listens on
 * (set by startDirectory once it listens).
 */
@Injectable()
export class DirectoryIdentity {
  private listenUrl?: string;

  constructor(
    readonly keys: NodeKeys,
    private readonly configuredUrl?: string,
    listen?: { host: string; port: number },
  ) {
    if (listen && listen.port !== 0) this.listenUrl = `http://${urlHost(listen.host)}:${listen.port}`;
  }

  /**
   * A listen address of 0.0.0.0 or :: names no host a viewer can reach (a container, a server on every interface):
   * then no URL is published without ASTRAL_PUBLIC_URL, and a full node answers 503 instead of redirecting.
   */
  get publicUrl(): string | undefined {
    if (this.configuredUrl) return this.configuredUrl;
    return this.listenUrl && !/^http:\/\/(0\.0\.0\.0|\[::\])(:|$)/.test(this.listenUrl)
      ? this.listenUrl
      : undefined;
  }

  listening(httpUrl: string): void {
    this.listenUrl = httpUrl;
  }
}

@Global()
@Module({
  providers: [
    {
      provide: DirectoryIdentity,
      useFactory: async (ds: DataSource, config: DirectoryConfig) => {
        const keys = await loadOrCreateDirectoryKey(ds);
        new Logger(DirectoryIdentity.name).log({ msg: 'play-token key loaded', publicKey: keys.publicKey });
        return new DirectoryIdentity(keys, config.publicUrl, config);
      },
      inject: [DataSource, DirectoryConfig],
    },
  ],
  exports: [DirectoryIdentity],
})
export class DirectoryIdentityModule {}
