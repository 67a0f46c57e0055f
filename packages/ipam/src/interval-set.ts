/**
 * A set of bigints stored as disjoint, non-adjacent inclusive intervals in an AVL tree keyed by
 * interval start. A pool's free addresses live here: a fresh /8 or /64 is a single node, and every
 * operation costs O(log k) for k intervals (k grows only with fragmentation, never with pool size).
 */
interface IntervalNode {
  start: bigint;
  end: bigint;
  left: IntervalNode | null;
  right: IntervalNode | null;
  height: number;
}

export interface Interval {
  readonly start: bigint;
  readonly end: bigint;
}

function height(node: IntervalNode | null): number {
  return node === null ? 0 : node.height;
}

function update(node: IntervalNode): void {
  node.height = Math.max(height(node.left), height(node.right)) + 1;
}

function rotateRight(node: IntervalNode): IntervalNode {
  const pivot = node.left!;
  node.left = pivot.right;
  pivot.right = node;
  update(node);
  update(pivot);
  return pivot;
}

function rotateLeft(node: IntervalNode): IntervalNode {
  const pivot = node.right!;
  node.right = pivot.left;
  pivot.left = node;
  update(node);
  update(pivot);
  return pivot;
}

function rebalance(node: IntervalNode): IntervalNode {
  update(node);
  const balance = height(node.left) - height(node.right);
  if (balance > 1) {
    if (height(node.left!.left) < height(node.left!.right)) node.left = rotateLeft(node.left!);
    return rotateRight(node);
  }
  if (balance < -1) {
    if (height(node.right!.right) < height(node.right!.left)) node.right = rotateRight(node.right!);
    return rotateLeft(node);
  }
  return node;
}

function insertNode(node: IntervalNode | null, start: bigint, end: bigint): IntervalNode {
  if (node === null) return { start, end, left: null, right: null, height: 1 };
  if (start < node.start) node.left = insertNode(node.left, start, end);
  else node.right = insertNode(node.right, start, end);
  return rebalance(node);
}

function removeMin(node: IntervalNode): { rest: IntervalNode | null; min: IntervalNode } {
  if (node.left === null) return { rest: node.right, min: node };
  const { rest, min } = removeMin(node.left);
  node.left = rest;
  return { rest: rebalance(node), min };
}

function deleteNode(node: IntervalNode | null, start: bigint): IntervalNode | null {
  if (node === null) return null;
  if (start < node.start) node.left = deleteNode(node.left, start);
  else if (start > node.start) node.right = deleteNode(node.right, start);
  else {
    if (node.left === null) return node.right;
    if (node.right === null) return node.left;
    const { rest, min } = removeMin(node.right);
    min.left = node.left;
    min.right = rest;
    return rebalance(min);
  }
  return rebalance(node);
}

export class IntervalSet {
  private root: IntervalNode | null = null;
  private intervals = 0;
  private members = 0n;

  /** Number of values in the set. */
  get size(): bigint {
    return this.members;
  }

  /** Number of stored intervals (a measure of fragmentation). */
  get intervalCount(): number {
    return this.intervals;
  }

  /** The lowest interval, or undefined when the set is empty. */
  min(): Interval | undefined {
    let node = this.root;
    if (node === null) return undefined;
    while (node.left !== null) node = node.left;
    return { start: node.start, end: node.end };
  }

  /** The interval holding `value`, or undefined. */
  find(value: bigint): Interval | undefined {
    const node = this.floor(value);
    return node !== null && node.end >= value ? { start: node.start, end: node.end } : undefined;
  }

  has(value: bigint): boolean {
    return this.find(value) !== undefined;
  }

  /** Removes one value; false when it was not in the set. */
  delete(value: bigint): boolean {
    const node = this.floor(value);
    if (node === null || node.end < value) return false;
    this.members -= 1n;
    // Adjusting a bound in place keeps the tree ordered: no other interval lies inside this one.
    if (node.start === value && node.end === value) {
      this.root = deleteNode(this.root, value);
      this.intervals--;
    } else if (node.start === value) {
      node.start = value + 1n;
    } else if (node.end === value) {
      node.end = value - 1n;
    } else {
      const tailEnd = node.end;
      node.end = value - 1n;
      this.root = insertNode(this.root, value + 1n, tailEnd);
      this.intervals++;
    }
    return true;
  }

  /** Adds one value, merging with neighbours; false when it was already present. */
  add(value: bigint): boolean {
    const left = this.floor(value);
    if (left !== null && left.end >= value) return false;
    const rightCandidate = this.floor(value + 1n);
    const right = rightCandidate !== null && rightCandidate.start === value + 1n ? rightCandidate : null;
    const joinsLeft = left !== null && left.end === value - 1n;
    this.members += 1n;
    if (joinsLeft && right !== null) {
      left.end = right.end;
      this.root = deleteNode(this.root, right.start);
      this.intervals--;
    } else if (joinsLeft) {
      left.end = value;
    } else if (right !== null) {
      right.start = value;
    } else {
      this.root = insertNode(this.root, value, value);
      this.intervals++;
    }
    return true;
  }

  /** Adds every value in [first, last], merging whatever it overlaps or touches. */
  addRange(first: bigint, last: bigint): void {
    if (first > last) return;
    let start = first;
    let end = last;
    for (;;) {
      const node = this.floor(end + 1n);
      if (node === null || node.end < start - 1n) break;
      if (node.start < start) start = node.start;
      if (node.end > end) end = node.end;
      this.members -= node.end - node.start + 1n;
      this.root = deleteNode(this.root, node.start);
      this.intervals--;
    }
    this.root = insertNode(this.root, start, end);
    this.intervals++;
    this.members += end - start + 1n;
  }

  /** Removes the whole interval starting at `start` (as returned by min/find). */
  deleteInterval(start: bigint): void {
    const node = this.floor(start);
    if (node === null || node.start !== start) return;
    this.members -= node.end - node.start + 1n;
    this.root = deleteNode(this.root, start);
    this.intervals--;
  }

  /** Intervals in ascending order. */
  *[Symbol.iterator](): IterableIterator<Interval> {
    const stack: IntervalNode[] = [];
    let node = this.root;
    while (node !== null || stack.length > 0) {
      while (node !== null) {
        stack.push(node);
        node = node.left;
      }
      const top = stack.pop()!;
      yield { start: top.start, end: top.end };
      node = top.right;
    }
  }

  /** The interval with the greatest start <= value. */
  private floor(value: bigint): IntervalNode | null {
    let node = this.root;
    let best: IntervalNode | null = null;
    while (node !== null) {
      if (node.start <= value) {
        best = node;
        node = node.right;
      } else node = node.left;
    }
    return best;
  }
}
