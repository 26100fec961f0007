export * from './fmp4-types';
export * from './flv-codecs';
export * from './flv-samples';
export * from './fmp4';
