export * from './signature';
export * from './node-keys';
export * from './replay-guard';
export * from './ticket-token';
export * from './forward-proof';
export * from './http-signature';
export * from './play-token';
