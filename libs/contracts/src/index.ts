export * from './patterns';
export * from './errors';
export * from './transport';
export * from './clients';
export * from './nodes';
export * from './streams';
export * from './tickets';
export * from './relay';
