// Dependency-injection tokens for what the API's composition root (main.ts) hands to Nest.
export const API_CONFIG = Symbol('API_CONFIG');
export const STORAGE = Symbol('STORAGE');
export const PUBSUB = Symbol('PUBSUB');
export const TEMPORAL_CONNECTION = Symbol('TEMPORAL_CONNECTION');
export const LOGGER = Symbol('LOGGER');
