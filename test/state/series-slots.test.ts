import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { SeriesSlots } from '../../src/state/series-slots.js';

/** The obvious model of an LRU: an array ordered oldest first. */
class ModelLru {
  order: string[] = [];
  touch(id: string): boolean {
    const i = this.order.indexOf(id);
    if (i < 0) return false;
    this.order.splice(i, 1);
    this.order.push(id);
    return true;
  }
}

describe('SeriesSlots', () => {
  it('keeps exact LRU order, distinct slots and the free count under any sequence of operations', () => {
    fc.assert(fc.property(
      fc.integer({ min: 1, max: 8 }),
      fc.array(fc.tuple(fc.constantFrom('touch', 'add', 'remove'), fc.integer({ min: 0, max: 11 })), { maxLength: 200 }),
      (capacity, ops) => {
        const slots = new SeriesSlots(capacity);
        const model = new ModelLru();
        for (const [op, n] of ops) {
          const id = `s${n}`;
          if (op === 'touch') expect(slots.touch(id) !== undefined).toBe(model.touch(id));
          else if (op === 'remove') {
            const had = model.order.includes(id);
            expect(slots.remove(id) !== undefined).toBe(had);
            model.order = model.order.filter((x) => x !== id);
          } else if (slots.get(id) === undefined) {
            if (!slots.hasFree()) {
              const victim = slots.oldest()!;
              expect(victim).toBe(model.order[0]);
              slots.remove(victim);
              model.order.shift();
            }
            slots.add(id);
            model.order.push(id);
          }
          const entries = [...slots.entries()];
          expect(entries.map(([s]) => s)).toEqual(model.order);
          expect(new Set(entries.map(([, slot]) => slot)).size).toBe(entries.length);
          for (const [s, slot] of entries) expect(slots.get(s)).toBe(slot);
          expect(slots.hasFree()).toBe(model.order.length < capacity);
          expect(slots.oldest()).toBe(model.order[0]);
        }
      },
    ), { numRuns: 300 });
  });

  it('ids that are Object.prototype names are ordinary ids', () => {
    const slots = new SeriesSlots(4);
    for (const id of ['__proto__', 'constructor', 'hasOwnProperty']) slots.add(id);
    expect([...slots.entries()].map(([s]) => s)).toEqual(['__proto__', 'constructor', 'hasOwnProperty']);
    expect(slots.touch('toString')).toBeUndefined();
  });
});
