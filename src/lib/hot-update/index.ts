// Hot update of a served artefact (a model, a knowledge base) without restarting its worker:
// Sedna's config-file contract, the LC's push to the local worker, the worker's poll + push loop,
// and the slot that loads the new artefact beside the old one and swaps atomically.
export { encodeHotUpdateConfig, HOT_UPDATE_CONFIG_FILE, HOT_UPDATE_MOUNT, type HotUpdateConfig, HotUpdateConfigError, localModelPath, parseHotUpdateConfig, readHotUpdateConfig, writeHotUpdateConfig } from './config-file.ts';
export { HotSwapSlot, ModelSlotEmptyError, type Swappable, type SwapResult } from './model-slot.ts';
export { PUSH_ENDPOINT_FILE, PUSH_ROUTE, type PushEndpoint, type PushHandler, type PushOutcome, PushReceiver, PushRejected, type PushResult, pushHotUpdate, readEndpoint } from './push.ts';
export { type HotUpdate, HotUpdater, type HotUpdaterOptions, type HotUpdateResult } from './updater.ts';
