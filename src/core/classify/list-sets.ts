/**
 * The deduplicated table of list-sets. A domain can sit in several lists; the index stores, per
 * key, only the number of its set, and a school's lists form a few hundred distinct sets at most,
 * however many domains there are.
 */
export class ListSetTable {
  private readonly byKey = new Map<string, number>();
  private readonly single: number[] = [];
  private readonly offsets: number[] = [0];
  private readonly members: number[] = [];

  get count(): number {
    return this.offsets.length - 1;
  }

  /** The set holding just `list`. */
  one(list: number): number {
    return (this.single[list] ??= this.intern([list]));
  }

  /** The set of `lists`, which must be ascending and distinct. */
  intern(lists: readonly number[]): number {
    const key = lists.join(',');
    let set = this.byKey.get(key);
    if (set === undefined) {
      set = this.count;
      this.byKey.set(key, set);
      this.members.push(...lists);
      this.offsets.push(this.members.length);
    }
    return set;
  }

  toArrays(): { setOffsets: Uint32Array; setMembers: Uint16Array } {
    return { setOffsets: Uint32Array.from(this.offsets), setMembers: Uint16Array.from(this.members) };
  }
}
