import { describe, expect, it } from "vitest";
import { allocateStock } from "../src/index.ts";

const products = new Map([
  ["p1", { tenantId: "t", stock: 5 }],
  ["p2", { tenantId: "t", stock: 1 }],
  ["p3", { tenantId: "other", stock: 9 }],
]);

describe("allocateStock", () => {
  it("fills orders in the order given, each all or nothing, against what earlier ones left", () => {
    const allocations = allocateStock(
      [
        { orderId: "a", tenantId: "t", lines: [{ productId: "p1", quantity: 4 }] },
        { orderId: "b", tenantId: "t", lines: [{ productId: "p1", quantity: 1 }, { productId: "p2", quantity: 2 }] },
        { orderId: "c", tenantId: "t", lines: [{ productId: "p1", quantity: 1 }, { productId: "p2", quantity: 1 }] },
        { orderId: "d", tenantId: "t", lines: [{ productId: "p1", quantity: 1 }, { productId: "p3", quantity: 1 }] },
      ],
      products,
    );
    expect(allocations.map((a) => [a.orderId, a.accepted, a.reason])).toEqual([
      ["a", true, null],
      ["b", false, "insufficient stock: product p2 requested 2, available 1"],
      ["c", true, null],
      ["d", false, "insufficient stock: product p1 requested 1, available 0; product p3 requested 1, available 0"],
    ]);
  });

  it("leaves the stock it was given alone", () => {
    allocateStock([{ orderId: "a", tenantId: "t", lines: [{ productId: "p1", quantity: 5 }] }], products);
    expect(products.get("p1")).toEqual({ tenantId: "t", stock: 5 });
  });
});
