import { BlockList, isIP, isIPv4 } from "node:net";

/** Ranges a webhook may not reach unless WEBHOOK_ALLOW_PRIVATE_NETWORKS=true, with the name a refusal reports. */
const refusedRanges: { network: string; prefix: number; family: "ipv4" | "ipv6"; name: string }[] = [
  { network: "169.254.169.254", prefix: 32, family: "ipv4", name: "cloud metadata" },
  { network: "0.0.0.0", prefix: 8, family: "ipv4", name: "unspecified" },
  { network: "10.0.0.0", prefix: 8, family: "ipv4", name: "private" },
  { network: "100.64.0.0", prefix: 10, family: "ipv4", name: "carrier-grade NAT" },
  { network: "127.0.0.0", prefix: 8, family: "ipv4", name: "loopback" },
  { network: "169.254.0.0", prefix: 16, family: "ipv4", name: "link-local" },
  { network: "172.16.0.0", prefix: 12, family: "ipv4", name: "private" },
  { network: "192.0.0.0", prefix: 24, family: "ipv4", name: "IETF protocol assignment" },
  { network: "192.168.0.0", prefix: 16, family: "ipv4", name: "private" },
  { network: "198.18.0.0", prefix: 15, family: "ipv4", name: "benchmarking" },
  { network: "224.0.0.0", prefix: 4, family: "ipv4", name: "multicast" },
  { network: "240.0.0.0", prefix: 4, family: "ipv4", name: "reserved" },
  { network: "fd00:ec2::254", prefix: 128, family: "ipv6", name: "cloud metadata" },
  { network: "::", prefix: 128, family: "ipv6", name: "unspecified" },
  { network: "::1", prefix: 128, family: "ipv6", name: "loopback" },
  { network: "::", prefix: 96, family: "ipv6", name: "IPv4-compatible" },
  { network: "100::", prefix: 64, family: "ipv6", name: "discard" },
  { network: "fe80::", prefix: 10, family: "ipv6", name: "link-local" },
  { network: "fec0::", prefix: 10, family: "ipv6", name: "site-local" },
  { network: "fc00::", prefix: 7, family: "ipv6", name: "unique-local" },
  { network: "ff00::", prefix: 8, family: "ipv6", name: "multicast" },
];

const lists = refusedRanges.map((range) => {
  const list = new BlockList();
  list.addSubnet(range.network, range.prefix, range.family);
  return { list, range };
});

/** IPv6 forms that carry an IPv4 address in their last 32 bits: IPv4-mapped and NAT64 (RFC 6052). */
const embeddingPrefixes = [
  { network: "::ffff:0:0", prefix: 96, name: "IPv4-mapped" },
  { network: "64:ff9b::", prefix: 96, name: "NAT64" },
];
const embedding = embeddingPrefixes.map((entry) => {
  const list = new BlockList();
  list.addSubnet(entry.network, entry.prefix, "ipv6");
  return { list, entry };
});

/** The eight 16-bit groups of an IPv6 address (any textual form, with or without a dotted tail). */
function ipv6Groups(address: string): number[] {
  let text = address.toLowerCase().replace(/%.*$/, "");
  const dotted = /(\d+\.\d+\.\d+\.\d+)$/.exec(text);
  if (dotted) {
    const [a, b, c, d] = dotted[1]!.split(".").map(Number) as [number, number, number, number];
    text = text.slice(0, dotted.index) + `${((a << 8) | b).toString(16)}:${((c << 8) | d).toString(16)}`;
  }
  const [head = "", tail] = text.split("::");
  const left = head ? head.split(":") : [];
  const right = tail ? tail.split(":") : [];
  const zeros = tail === undefined ? [] : Array<string>(8 - left.length - right.length).fill("0");
  return [...left, ...zeros, ...right].map((group) => parseInt(group, 16));
}

function embeddedIPv4(address: string): string | null {
  if (!embedding.some(({ list }) => list.check(address, "ipv6"))) return null;
  const groups = ipv6Groups(address);
  const high = groups[6] ?? 0;
  const low = groups[7] ?? 0;
  return `${high >> 8}.${high & 0xff}.${low >> 8}.${low & 0xff}`;
}

/**
 * The name of the refused range an IP address falls in, or null when it may be called. IPv4 inside
 * IPv6 (`::ffff:127.0.0.1`, `64:ff9b::a00:1`) is judged by the IPv4 address it carries.
 */
export function refusedRange(address: string): string | null {
  const bare = address.replace(/^\[|\]$/g, "");
  const family = isIP(bare);
  if (family === 0) return "not an IP address";
  if (family === 6) {
    const inner = embeddedIPv4(bare);
    if (inner !== null) {
      const range = refusedRange(inner);
      return range === null ? null : `IPv4-embedded ${range}`;
    }
  }
  const type = isIPv4(bare) ? "ipv4" : "ipv6";
  for (const { list, range } of lists) {
    if (range.family === type && list.check(bare, type)) return range.name;
  }
  return null;
}
