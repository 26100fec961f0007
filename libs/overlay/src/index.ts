export * from './headroom';
export * from './ticket-selection';
export * from './membership';
export * from './advertise';
export * from './upstream-path';
export * from './machine/effects';
export * from './directory/carrier-listing';
export * from './directory/supernode-ranking';
