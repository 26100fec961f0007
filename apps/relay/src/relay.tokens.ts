export const RELAY_NODE_CONFIG = Symbol('RELAY_NODE_CONFIG');
export const RELAY_NODE_ID = Symbol('RELAY_NODE_ID');
export const RELAY_LOGGER = Symbol('RELAY_LOGGER');
export const RELAY_CLIENT = Symbol('RELAY_CLIENT');
