export { claimPending, claimStatement, nextDueAt, type ClaimedEvent } from "./claim.ts";
export { OutboxScanner, type ScannerOptions } from "./scanner.ts";
export { recoverLostJobs, type RecoveryOptions } from "./recover.ts";
