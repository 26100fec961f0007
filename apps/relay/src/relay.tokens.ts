export const RELAY_NODE_CONFIG = Symbol('RELAY_NODE_CONFIG');
export const RELAY_NODE_ID = Symbol('RELAY_NODE_ID');
export const RELAY_LOGGER = Symbol('RELAY_LOGGER');
/** The node's Ed25519 key pair (@astral/identity), from the data directory it shares with its agent. */
export const RELAY_NODE_KEYS = Symbol('RELAY_NODE_KEYS');
export const RELAY_CLIENT = Symbol('RELAY_CLIENT');
