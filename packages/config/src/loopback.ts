import ipaddr from "ipaddr.js";

/** Whether the listen address reaches this machine only: `localhost`, 127.0.0.0/8, ::1 (or ::ffff:127.x.x.x). */
export function isLoopbackHost(host: string): boolean {
  const bare = host.replace(/^\[|\]$/g, "").replace(/\.+$/, "").toLowerCase();
  if (bare === "localhost") return true;
  if (!ipaddr.isValid(bare)) return false;
  return ipaddr.process(bare).range() === "loopback";
}
