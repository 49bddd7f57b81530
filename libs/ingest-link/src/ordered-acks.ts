/**
 * Releases acknowledgements in the order the messages arrived, as MQTT 3.1.1 requires of a
 * receiver ([MQTT-4.6.0-2]: PUBACKs in the order the PUBLISH packets were received), although
 * batches may be stored out of order (concurrent writes, dead letters that need no batch).
 */
export class OrderedAcks<T> {
  private readonly slots: { item: T; done: boolean }[] = [];
  private head = 0;

  constructor(private readonly release: (items: T[]) => void) {}

  get size(): number {
    return this.slots.length - this.head;
  }

  /** Reserves the next slot; call the returned function once the item may be acknowledged. */
  add(item: T): () => void {
    const slot = { item, done: false };
    this.slots.push(slot);
    return () => {
      if (slot.done) return;
      slot.done = true;
      this.flush();
    };
  }

  /** Forgets every slot (the connection they belong to is gone). */
  clear(): void {
    this.slots.length = 0;
    this.head = 0;
  }

  private flush(): void {
    const ready: T[] = [];
    while (this.head < this.slots.length && this.slots[this.head]!.done)
      ready.push(this.slots[this.head++]!.item);
    if (ready.length === 0) return;
    if (this.head > 1024 && this.head * 2 > this.slots.length) {
      this.slots.splice(0, this.head);
      this.head = 0;
    }
    this.release(ready);
  }
}
