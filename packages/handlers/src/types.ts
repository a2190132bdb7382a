import type { OrderEvents, OrderEventType } from "@outbox/domain";
import { batch as engineBatch, type BatchContext, type BatchHandler, type HandledEvent } from "outbox-relay";

/** An order-domain event as its handler gets it. */
export type OrderEvent<T extends OrderEventType> = HandledEvent<OrderEvents, T>;
export type OrderBatchContext<T extends OrderEventType = OrderEventType> = BatchContext<OrderEvents, T>;

/** A batch handler of one order-domain event type. */
export const batch = <T extends OrderEventType>(run: BatchHandler<OrderEvents, T>["run"]): BatchHandler<OrderEvents, T> => engineBatch(run);
