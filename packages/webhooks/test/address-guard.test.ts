import { describe, expect, it } from "vitest";
import { refusedRange } from "../src/index.ts";

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
    ["255.255.255.255", "reserved"],
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
    ["[::1]", "loopback"],
  ])("refuses %s (%s)", (address, range) => {
    expect(refusedRange(address)).toBe(range);
  });

  it.each(["93.184.216.34", "8.8.8.8", "172.32.0.1", "100.128.0.1", "2606:4700:4700::1111", "::ffff:8.8.8.8"])("allows public %s", (address) => {
    expect(refusedRange(address)).toBeNull();
  });
});
