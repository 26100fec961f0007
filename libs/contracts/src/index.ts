// class-transformer's @Type reads decorator metadata when the classes are declared.
import 'reflect-metadata';
export * from './patterns';
export * from './bus-map';
export * from './bus-replies';
export * from './common';
export * from './errors';
export * from './nodes';
export * from './streams';
export * from './tickets';
export * from './membership';
export * from './relay';
export * from './agent-api';
export * from './directory-http';
