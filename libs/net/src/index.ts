export * from './connection-gate';
export * from './json-depth';
export * from './log-throttle';
export * from './listener-guard';
export * from './json-body';
export * from './listen';
