import { describe, expect, it } from "vitest";
import { refusedLiteral, refusedRange } from "../../src/webhooks/address-guard.ts";

describe("the address guard", () => {
  it.each([
    ["127.0.0.1", "loopback"],
    ["127.255.0.9", "loopback"],
    ["10.1.2.3", "private"],
    ["172.16.0.1", "private"],
    ["172.31.255.255", "private"],
    ["192.168.1.1", "private"],
    ["169.254.169.254", "cloud metadata"],
    ["169.254.10.10", "link-local"],
    ["100.64.0.1", "carrier-grade NAT"],
    ["0.0.0.0", "unspecified"],
    ["224.0.0.251", "multicast"],
    ["255.255.255.255", "broadcast"],
    ["240.0.0.1", "reserved"],
    ["::1", "loopback"],
    ["::", "unspecified"],
    ["fe80::1", "link-local"],
    ["fc00::1", "unique-local"],
    ["fd12:3456::1", "unique-local"],
    ["fd00:ec2::254", "cloud metadata"],
    ["ff02::1", "multicast"],
    ["::ffff:127.0.0.1", "IPv4-embedded loopback"],
    ["::ffff:7f00:1", "IPv4-embedded loopback"],
    ["::ffff:169.254.169.254", "IPv4-embedded cloud metadata"],
    ["::ffff:10.0.0.1", "IPv4-embedded private"],
    ["64:ff9b::a9fe:a9fe", "IPv4-embedded cloud metadata"],
    ["64:ff9b::7f00:1", "IPv4-embedded loopback"],
    ["::ffff:0:7f00:1", "IPv4-embedded loopback"],
    ["::ffff:0:a00:1", "IPv4-embedded private"],
    ["64:ff9b:1::a9fe:a9fe", "local-use NAT64"],
    ["64:ff9b:1::808:808", "local-use NAT64"],
    ["::7f00:1", "IPv4-compatible"],
    ["::808:808", "IPv4-compatible"],
    ["2002:7f00:1::", "6to4"],
    ["2001:0:4136:e378::1", "Teredo"],
    ["2001:db8::1", "reserved"],
    ["198.18.0.1", "reserved"],
    ["192.0.2.10", "reserved"],
    ["fec0::1", "site-local"],
    ["100::1", "discard"],
    ["fe80::1%eth0", "link-local"],
    ["[::1]", "loopback"],
    ["not-an-address", "not an IP address"],
  ])("refuses %s (%s)", (address, range) => {
    expect(refusedRange(address)).toBe(range);
  });

  it.each(["93.184.216.34", "8.8.8.8", "172.32.0.1", "100.128.0.1", "2606:4700:4700::1111", "::ffff:8.8.8.8", "64:ff9b::808:808"])("allows public %s", (address) => {
    expect(refusedRange(address)).toBeNull();
  });

  it.each([
    ["::ffff:8.8.8.8", "IPv4-mapped"],
    ["::ffff:0:808:808", "IPv4-translated"],
    ["64:ff9b::808:808", "NAT64"],
    ["64:ff9b:1::808:808", "NAT64"],
    ["2002:808:808::", "6to4"],
    ["::808:808", "IPv4-compatible"],
    ["127.0.0.1", "loopback"],
  ])("refuses the literal %s at registration (%s), whatever IPv4 address it carries", (address, range) => {
    expect(refusedLiteral(address)).toBe(range);
  });

  it("allows plain public literals at registration", () => {
    expect(refusedLiteral("93.184.216.34")).toBeNull();
    expect(refusedLiteral("2606:4700:4700::1111")).toBeNull();
  });
});
