/** IPC channel names, shared by the preload and the main process. */
export const CALL_CHANNEL_PREFIX = 'hangar:call:';
export const EVENT_CHANNEL = 'hangar:event';
