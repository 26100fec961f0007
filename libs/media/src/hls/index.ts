export * from './hls-types';
export * from './hls-segmenter';
export * from './hls-playlist';
export * from './hls-window';
export * from './hls-media-names';
export * from './hls-timestamps';
