export const AGENT_CONFIG = Symbol('AGENT_CONFIG');
export const AGENT_NODE_ID = Symbol('AGENT_NODE_ID');
/** The node's Ed25519 key pair (@astral/identity NodeKeys), from its data directory. */
export const AGENT_NODE_KEYS = Symbol('AGENT_NODE_KEYS');
export const AGENT_LOGGER = Symbol('AGENT_LOGGER');
export const AGENT_CLIENT = Symbol('AGENT_CLIENT');
