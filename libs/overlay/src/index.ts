export * from './headroom';
export * from './ticket-selection';
