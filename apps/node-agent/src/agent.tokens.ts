export const AGENT_CONFIG = Symbol('AGENT_CONFIG');
export const AGENT_NODE_ID = Symbol('AGENT_NODE_ID');
export const AGENT_LOGGER = Symbol('AGENT_LOGGER');
export const AGENT_CLIENT = Symbol('AGENT_CLIENT');
