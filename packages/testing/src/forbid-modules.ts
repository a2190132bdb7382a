/**
 * `node --import tsx --import <this file>`: registers forbid-modules-hooks.ts with the pattern in
 * OUTBOX_FORBIDDEN_MODULES, so that the process fails at once if its module graph reaches a module
 * it must not load (Prisma, in a process that should run on outbox-relay/sql alone).
 */
import { register } from "node:module";

register(new URL("./forbid-modules-hooks.ts", import.meta.url), { data: { pattern: process.env.OUTBOX_FORBIDDEN_MODULES } });
