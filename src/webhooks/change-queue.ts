/**
 * Runs the registry's index changes one at a time, in call order, so a refresh can never write back a copy that a
 * concurrent update or delete has already replaced. `busy` while any change is queued or running: the index may
 * then be about to change. `idle` runs each time the last one settles.
 */
export class ChangeQueue {
  private tail: Promise<unknown> = Promise.resolve();
  private pending = 0;

  constructor(private readonly idle: () => void) {}

  get busy(): boolean {
    return this.pending > 0;
  }

  run<T>(change: () => Promise<T>): Promise<T> {
    this.pending++;
    const run = this.tail.then(change);
    const settled = () => {
      if (--this.pending === 0) this.idle();
    };
    this.tail = run.then(settled, settled);
    return run;
  }
}
