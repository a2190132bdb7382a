import type { ProductStock, StockLine } from "./stock.ts";

export interface StockRequest {
  orderId: string;
  tenantId: string;
  /** Quantities per product, in product id order. */
  lines: StockLine[];
}

export interface Allocation extends StockRequest {
  accepted: boolean;
  /** Why an order was refused, naming each product short. */
  reason: string | null;
}

interface Shortage extends StockLine {
  available: number;
}

/**
 * Fills the orders in the order given against the locked stock, each all or nothing: an order
 * takes every line or nothing, so an earlier order wins over a later one, and a later order that
 * still fits is filled. A product of another tenant has nothing to give. Pure: a batch and the
 * same orders one at a time decide alike.
 */
export function allocateStock(requests: readonly StockRequest[], products: ReadonlyMap<string, ProductStock>): Allocation[] {
  const left = new Map([...products].map(([id, product]) => [id, product.stock]));
  return requests.map((request) => {
    const available = (productId: string) => (products.get(productId)?.tenantId === request.tenantId ? (left.get(productId) ?? 0) : 0);
    const shortages: Shortage[] = request.lines
      .map((line) => ({ ...line, available: available(line.productId) }))
      .filter((line) => line.available < line.quantity);
    if (shortages.length > 0) return { ...request, accepted: false, reason: describeShortages(shortages) };
    for (const line of request.lines) left.set(line.productId, available(line.productId) - line.quantity);
    return { ...request, accepted: true, reason: null };
  });
}

function describeShortages(shortages: Shortage[]): string {
  return `insufficient stock: ${shortages.map((s) => `product ${s.productId} requested ${s.quantity}, available ${s.available}`).join("; ")}`;
}
