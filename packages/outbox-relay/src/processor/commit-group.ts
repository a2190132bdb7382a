/**
 * Group commit: jobs that arrive while a batch is committing wait and go together into the next
 * one, so one transaction carries many events under load and a lone event still starts at once.
 * A second batch (up to `maxInFlight`) starts beside a running one only when at least
 * `parallelFrom` items wait: under a steady trickle one batch at a time gathers more events per
 * transaction (fewer statements per event); a backlog uses every slot.
 */
export class CommitGroup<Item, Result> {
  private waiting: { item: Item; resolve: (result: Result) => void; reject: (error: unknown) => void }[] = [];
  private inFlight = 0;

  constructor(
    private readonly commit: (items: Item[]) => Promise<Result[]>,
    private readonly maxBatchSize: number,
    private readonly maxInFlight: number,
    private readonly parallelFrom = 32,
  ) {}

  submit(item: Item): Promise<Result> {
    return new Promise((resolve, reject) => {
      this.waiting.push({ item, resolve, reject });
      this.pump();
    });
  }

  private canStart(): boolean {
    if (this.waiting.length === 0 || this.inFlight >= this.maxInFlight) return false;
    return this.inFlight === 0 || this.waiting.length >= this.parallelFrom;
  }

  private pump(): void {
    while (this.canStart()) {
      const batch = this.waiting.splice(0, this.maxBatchSize);
      this.inFlight++;
      this.commit(batch.map((entry) => entry.item))
        .then(
          (results) => batch.forEach((entry, index) => entry.resolve(results[index]!)),
          (error: unknown) => batch.forEach((entry) => entry.reject(error)),
        )
        .finally(() => {
          this.inFlight--;
          this.pump();
        });
    }
  }
}
