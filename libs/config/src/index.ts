export * from './load-config';
export * from './units';
export * from './logging';
export * from './nest-logger';
export * from './node-config';
export * from './node-identity';
