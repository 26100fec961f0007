export * from './flv/flv-tag';
export * from './flv/flv-parser';
export * from './flv/flv-writer';
export * from './flv/close-tag';
export * from './gop-cache';
export * from './relayed-timeline';
export * from './token-bucket';
export * from './stream-meter';
