import { isIP } from "node:net";
import ipaddr from "ipaddr.js";

/**
 * The address ranges a webhook may not reach unless private networks are allowed. The
 * special-purpose registries live in ipaddr.js (a maintained library, not a hand parser): every
 * range it names other than `unicast` is refused, under the name below. Added here: the cloud
 * metadata addresses (named first) and IPv4-compatible IPv6 (::/96, which ipaddr.js calls unicast).
 */
const rangeNames: Record<string, string> = {
  unspecified: "unspecified",
  broadcast: "broadcast",
  multicast: "multicast",
  linkLocal: "link-local",
  loopback: "loopback",
  carrierGradeNat: "carrier-grade NAT",
  private: "private",
  reserved: "reserved",
  as112: "AS112",
  amt: "AMT",
  uniqueLocal: "unique-local",
  deprecatedSiteLocal: "site-local",
  discard: "discard",
  "6to4": "6to4",
  teredo: "Teredo",
  benchmarking: "benchmarking",
  as112v6: "AS112",
  deprecatedOrchid: "ORCHID",
  orchid2: "ORCHIDv2",
  droneRemoteIdProtocolEntityTags: "drone remote ID",
  segmentRouting: "segment routing",
};

const cidr = (text: string) => ipaddr.parseCIDR(text);
const cloudMetadata = [cidr("169.254.169.254/32"), cidr("fd00:ec2::254/128")];
const ipv4Compatible = cidr("::/96");
/** RFC 6052's well-known NAT64 prefix: the IPv4 address is the last 32 bits (DNS64 makes these for IPv4-only hosts). */
const nat64 = cidr("64:ff9b::/96");
/** RFC 8215's local-use NAT64 prefix: where the IPv4 address sits depends on the network; never judged, always refused. */
const localNat64 = cidr("64:ff9b:1::/48");

type Address = ipaddr.IPv4 | ipaddr.IPv6;

function inRange(address: Address, [network, prefix]: [Address, number]): boolean {
  return address.kind() === network.kind() && address.match(network, prefix);
}

/** The IPv4 address in the last 32 bits of an IPv6 one. */
function lastIPv4(address: ipaddr.IPv6): ipaddr.IPv4 {
  const bytes = address.toByteArray();
  return new ipaddr.IPv4(bytes.slice(12));
}

/**
 * An IPv6 address that stands for an IPv4 one judged by that IPv4 address: IPv4-mapped
 * (::ffff:0:0/96), IPv4-translated (::ffff:0:0:0/96) and well-known NAT64 (64:ff9b::/96).
 */
function carriedIPv4(address: Address): ipaddr.IPv4 | undefined {
  if (address.kind() !== "ipv6") return undefined;
  const v6 = address as ipaddr.IPv6;
  if (v6.isIPv4MappedAddress()) return v6.toIPv4Address();
  if (v6.range() === "rfc6145" || inRange(v6, nat64)) return lastIPv4(v6);
  return undefined;
}

function parse(text: string): Address | undefined {
  const bare = text.replace(/^\[|\]$/g, "").replace(/%.*$/, "");
  return isIP(bare) === 0 ? undefined : ipaddr.parse(bare);
}

function rangeOf(address: Address): string | null {
  if (cloudMetadata.some((range) => inRange(address, range))) return "cloud metadata";
  if (inRange(address, localNat64)) return "local-use NAT64";
  const carried = carriedIPv4(address);
  if (carried) {
    const inner = rangeOf(carried);
    return inner === null ? null : `IPv4-embedded ${inner}`;
  }
  const range = address.range();
  if (range !== "unicast") return rangeNames[range] ?? range;
  if (inRange(address, ipv4Compatible)) return "IPv4-compatible";
  return null;
}

/**
 * The name of the refused range an IP address falls in, or null when it may be called: what the
 * delivery checks on every address a host resolves to and on the socket's peer. IPv4 carried in
 * IPv6 (`::ffff:127.0.0.1`, `::ffff:0:7f00:1`, `64:ff9b::a9fe:a9fe`) is judged by that IPv4 address.
 */
export function refusedRange(address: string): string | null {
  const parsed = parse(address);
  return parsed ? rangeOf(parsed) : "not an IP address";
}

/** IPv6 forms that carry or route to an IPv4 address, by name. */
function ipv4CarrierName(address: Address): string | null {
  if (address.kind() !== "ipv6") return null;
  const v6 = address as ipaddr.IPv6;
  if (v6.isIPv4MappedAddress()) return "IPv4-mapped";
  if (v6.range() === "rfc6145") return "IPv4-translated";
  if (inRange(v6, nat64) || inRange(v6, localNat64)) return "NAT64";
  if (v6.range() === "6to4") return "6to4";
  if (v6.range() === "teredo") return "Teredo";
  if (inRange(v6, ipv4Compatible) && v6.range() === "unicast") return "IPv4-compatible";
  return null;
}

/**
 * What registration refuses in a URL's IP literal: every refused range, and also any IPv6 form
 * that carries an IPv4 address (mapped, translated, NAT64, 6to4, Teredo, compatible), whatever
 * that address: a receiver is registered by its name or its plain address.
 */
export function refusedLiteral(address: string): string | null {
  const parsed = parse(address);
  if (!parsed) return "not an IP address";
  return ipv4CarrierName(parsed) ?? rangeOf(parsed);
}
