export * from './load-config';
export * from './units';
export * from './logging';
export * from './nest-logger';
export * from './node-config';
export * from './node-identity';
export * from './process-policy';
export * from './process-policy-startup';
