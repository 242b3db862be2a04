// The RTP ingest: per-host UDP endpoints, validation, counters, fan-out to pipelines, lip sync.
export * from './host-ingest';
export * from './lipsync';
export * from './ports';
export * from './rtp';
export * from './sequence';
export * from './config';
