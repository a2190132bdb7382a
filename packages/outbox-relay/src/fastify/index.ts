export { outboxAdminPlugin, type OutboxAdminPluginOptions } from "./plugin.ts";
