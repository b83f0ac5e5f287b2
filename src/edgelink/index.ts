// The GM ⇄ LC link: the hub the GM runs, the client each node runs, and their shared parts
// (frames, acknowledgements, outboxes). Neither end imports the GM or the LC.
export { EdgeHub, UnknownNodeError, type EdgeHubOptions, type NodeConnectedHandler, type NodeDisconnectedHandler, type UpstreamHandler } from './hub.ts';
export { EdgeClient, EdgeConnectError, type DownstreamHandler, type EdgeClientOptions } from './client.ts';
export { FileNodeTokens, StaticNodeTokens, parseTokenFile, tokenAuthenticator, tokenMatches, type NodeAuthenticator, type NodeTokenSource } from './tokens.ts';
export { decodeContent, encodeContent, parseFrame, type ParsedFrame } from './frames.ts';
export { Outbox, type OutboxOptions, type OutboxPersistence, type StoredOutboxEntry } from './outbox.ts';
export { Inbox, type Receipt } from './inbox.ts';
export type { HeartbeatOptions } from './link.ts';
export type { BackoffOptions } from './backoff.ts';
