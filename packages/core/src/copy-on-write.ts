/** Maps the items of an array, copying it only when an item changes: unchanged input costs a walk, no allocation. */
export function mapItemsOnWrite(
  items: readonly unknown[],
  map: (item: unknown) => unknown,
): readonly unknown[] {
  let copy: unknown[] | undefined;
  for (let i = 0; i < items.length; i++) {
    const item = map(items[i]);
    if (item !== items[i]) {
      copy ??= items.slice();
      copy[i] = item;
    }
  }
  return copy ?? items;
}
