export * from './netns-plan';
export * from './host-network';
export * from './netns-network';
