/** Edits further apart than this are no longer a typo. */
const MAX_DISTANCE = 3;
/** The share of a name that must survive the edits for it to be suggested. */
const MIN_SIMILARITY = 0.4;

/** Optimal string alignment distance: insertions, deletions, substitutions and swaps of neighbours. */
function editDistance(a: string, b: string): number {
  if (Math.abs(a.length - b.length) > MAX_DISTANCE) return Math.max(a.length, b.length);
  const d: number[][] = Array.from({ length: a.length + 1 }, (_, i) => [i]);
  for (let j = 0; j <= b.length; j++) d[0]![j] = j;
  for (let j = 1; j <= b.length; j++) {
    for (let i = 1; i <= a.length; i++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      let best = Math.min(d[i - 1]![j]! + 1, d[i]![j - 1]! + 1, d[i - 1]![j - 1]! + cost);
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1]) {
        best = Math.min(best, d[i - 2]![j - 2]! + 1);
      }
      d[i]![j] = best;
    }
  }
  return d[a.length]![b.length]!;
}

/**
 * The names closest to a mistyped `word`, as commander picks them for a mistyped flag: the fewest edits (at most
 * three), keeping more than 40% of the longer name, sorted; empty when none is close.
 */
export function closestNames(word: string, candidates: readonly string[]): string[] {
  let best = MAX_DISTANCE;
  let closest: string[] = [];
  for (const candidate of new Set(candidates)) {
    if (candidate.length <= 1) continue;
    const distance = editDistance(word, candidate);
    const length = Math.max(word.length, candidate.length);
    if ((length - distance) / length <= MIN_SIMILARITY) continue;
    if (distance < best) {
      best = distance;
      closest = [candidate];
    } else if (distance === best) {
      closest.push(candidate);
    }
  }
  return closest.sort((a, b) => a.localeCompare(b));
}

/** "(Did you mean count?)", worded as commander words it for a flag; empty when nothing is close. */
export function didYouMean(word: string, candidates: readonly string[]): string {
  const closest = closestNames(word, candidates);
  if (closest.length === 0) return '';
  return closest.length === 1
    ? `(Did you mean ${closest[0]}?)`
    : `(Did you mean one of ${closest.join(', ')}?)`;
}
