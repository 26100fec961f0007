export * from './signature';
export * from './node-keys';
export * from './replay-guard';
export * from './http-signature';
