export { OutboxScanner, type ScannerOptions } from "./scanner.ts";
export { relayOnce, type RelayOptions, type RelayStep } from "./relay.ts";
export { readRelayStep, type RelayCursor } from "./cursor.ts";
export { recoverLostJobs, type RecoveryOptions } from "./recover.ts";
